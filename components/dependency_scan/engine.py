"""The dependency gate: inventory + advisories + policy -> one :class:`GateResult`.

:func:`scan_inputs` is what the CLI, the KFP component and the demo call;
:func:`evaluate` is the pure core (already-parsed inventory and advisories),
which tests and the benchmark drive directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kfp_gates.components.common.digest import ManifestEntry, manifest_digest, sha256_bytes
from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import GateSettings, finalize
from kfp_gates.components.common.kfp_ir import is_digest_pinned
from kfp_gates.components.common.policy import GatePolicy, OnFail
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity

from . import rules
from .advisories import AdvisorySet, open_source
from .cvss import advisory_severity, severity_reason
from .matcher import AdvisoryIndex
from .model import Dependency, IndexRef, Inventory, Match
from .parsers import parse_path, parse_pipeline_file, parse_site_packages
from .upgrades import Upgrade
from .upgrades import plan as plan_upgrade

GATE = "dependency_scan"
CRITICAL_MAX_AGE = timedelta(days=30)
_MAX_SKIPPED_LISTED = 500  # in the result metadata; the count is always exact


def tool_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("kfp-gates")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class ScanOptions:
    """The hygiene switches and staleness rule of a policy's ``dependency_scan`` section."""

    require_pins: bool = True
    require_hashes: bool = False
    allowed_indexes: tuple[str, ...] = ()
    allow_extra_index_url: bool = False
    allow_trusted_host: bool = False
    require_image_digest: bool = True
    require_hf_revision: bool = True
    forbid_trust_remote_code: bool = True
    max_advisory_age: timedelta | None = None
    stale_action: OnFail = "warn"

    @classmethod
    def from_policy(cls, policy: GatePolicy, gate: str = GATE) -> ScanOptions:
        """Options of ``policy`` with tier defaults (critical: 30-day limit that blocks).

        Raises :class:`ConfigError` when a critical-tier policy asks to only warn on stale data.
        """
        sec: Any = policy.gate(gate).section
        critical = policy.tier == "critical"
        if critical and sec.stale_advisories == "warn":
            raise ConfigError(
                f"gates.{gate}.stale_advisories: the critical tier does not allow 'warn'",
                hint="remove the key (critical blocks on stale advisory data) or change the tier",
            )
        max_age = sec.max_advisory_age if sec.max_advisory_age is not None else (CRITICAL_MAX_AGE if critical else None)
        action: OnFail = sec.stale_advisories or ("block" if critical else "warn")
        return cls(
            require_pins=getattr(sec, "require_pins", True),
            require_hashes=getattr(sec, "require_hashes", False),
            allowed_indexes=tuple(getattr(sec, "allowed_indexes", ())),
            allow_extra_index_url=getattr(sec, "allow_extra_index_url", False),
            allow_trusted_host=getattr(sec, "allow_trusted_host", False),
            require_image_digest=getattr(sec, "require_image_digest", True),
            require_hf_revision=getattr(sec, "require_hf_revision", True),
            forbid_trust_remote_code=getattr(sec, "forbid_trust_remote_code", True),
            max_advisory_age=max_age,
            stale_action=action,
        )

    def describe(self) -> dict[str, Any]:
        from kfp_gates.components.common.policy import format_duration

        return {
            "require_pins": self.require_pins,
            "require_hashes": self.require_hashes,
            "allowed_indexes": list(self.allowed_indexes),
            "allow_extra_index_url": self.allow_extra_index_url,
            "allow_trusted_host": self.allow_trusted_host,
            "require_image_digest": self.require_image_digest,
            "require_hf_revision": self.require_hf_revision,
            "forbid_trust_remote_code": self.forbid_trust_remote_code,
            "max_advisory_age": format_duration(self.max_advisory_age) if self.max_advisory_age else None,
            "stale_advisories": self.stale_action,
        }


def settings_from_policy(policy: GatePolicy, gate: str = GATE, fail_on: str | Severity | None = None) -> GateSettings:
    """GateSettings for ``gate``; ``fail_on`` (a CLI flag) may tighten the policy, and loosen it outside critical.

    Raises :class:`ConfigError` when a flag would loosen a critical-tier policy.
    """
    eff = policy.gate(gate)
    threshold = eff.fail_on
    if fail_on is not None:
        try:
            wanted = Severity.parse(fail_on)
        except ValueError as exc:
            raise ConfigError(str(exc), where="--fail-on") from None
        if policy.tier == "critical" and wanted > threshold:
            raise ConfigError(
                f"--fail-on {wanted} is looser than the critical tier's {threshold}",
                where="--fail-on",
                hint="the critical tier is a floor; use a stricter severity or another tier",
            )
        threshold = wanted
    return GateSettings(fail_on=threshold, on_fail=eff.on_fail, waivers=eff.waivers)


# ----- findings ---------------------------------------------------------------


def _rule_finding(rule: rules.Rule, message: str, location: Location | None, **data: Any) -> Finding:
    return Finding(id=rule.id, severity=rule.severity, message=message, location=location,
                   data={k: v for k, v in data.items() if v is not None})


def _groups(matches: list[Match]) -> list[list[Match]]:
    """Matches that share an id or alias are one vulnerability (PYSEC, GHSA and CVE of the same flaw)."""
    groups: list[tuple[set[str], list[Match]]] = []
    for m in sorted(matches, key=lambda m: m.advisory.id):
        ids = {m.advisory.id, *m.advisory.aliases}
        joined = [g for g in groups if g[0] & ids]
        for g in joined:
            groups.remove(g)
            ids |= g[0]
        merged = [x for g in joined for x in g[1]] + [m]
        groups.append((ids, merged))
    return [sorted(g[1], key=lambda m: m.advisory.id) for g in groups]


def _vuln_finding(dep: Dependency, group: list[Match], locations: list[str]) -> Finding:
    primary = group[0].advisory
    sev_info = [advisory_severity(m.advisory) for m in group]
    severity, score, vector, source = max(sev_info, key=lambda s: (s[0].rank, s[1] or 0))
    ids = sorted({m.advisory.id for m in group})
    aliases = sorted({a for m in group for a in (m.advisory.id, *m.advisory.aliases)} - {primary.id})
    related = sorted({r for m in group for r in m.advisory.related} - set(aliases) - {primary.id})
    fixed = sorted({f for m in group for f in m.fixed}, key=_version_key)
    fix_text = f"fixed in {fixed[0]}" if fixed else "no fixed version"
    summary = next((m.advisory.summary for m in group if m.advisory.summary), "")
    message = f"{dep.name} {dep.version}: {summary or 'known vulnerability'} ({fix_text})"
    if related:
        message += f"; related: {', '.join(related)}"
    return Finding(
        id=primary.id,
        severity=severity,
        message=message,
        location=dep.location,
        data={
            "package": dep.name,
            "installed_version": dep.version,
            "fixed_versions": fixed,
            "aliases": aliases,
            "related": related,
            "advisories": ids,
            "cvss_score": score,
            "cvss_vector": vector,
            "severity_source": source,
            "severity_reason": severity_reason(severity, score, vector, source),
            "url": primary.url,
            "matched_via": sorted({m.via for m in group}),
            "origin": dep.origin,
            "locations": locations,
        },
    )


def _version_key(v: str) -> tuple[int, Any]:
    from .versions import parse

    pv = parse(v)
    return (0, pv) if pv is not None else (1, v)


def _norm_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _index_allowed(url: str, allowed: Sequence[str]) -> bool:
    u = _norm_url(url)
    return any(u == a or u.startswith(a + "/") for a in (_norm_url(x) for x in allowed))


def _index_findings(indexes: Iterable[IndexRef], opts: ScanOptions) -> list[Finding]:
    out: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    for ref in indexes:
        key = (ref.kind, ref.url, ref.location.path or "")
        if key in seen:
            continue
        seen.add(key)
        if ref.kind == "extra-index-url" and not opts.allow_extra_index_url:
            out.append(_rule_finding(
                rules.EXTRA_INDEX,
                f"--extra-index-url {ref.url}: pip takes the highest version from any index, so a public package "
                "can shadow a private one (dependency confusion); use a single --index-url mirror",
                ref.location, url=ref.url))
        if ref.kind == "trusted-host" and not opts.allow_trusted_host:
            out.append(_rule_finding(rules.TRUSTED_HOST, f"--trusted-host {ref.url} turns off TLS verification",
                                     ref.location, url=ref.url))
        if ref.kind in ("index-url", "extra-index-url", "find-links", "lock-source") and opts.allowed_indexes:
            if not _index_allowed(ref.url, opts.allowed_indexes):
                what = "the default index" if ref.implicit else f"{ref.kind} {ref.url}"
                out.append(_rule_finding(
                    rules.INDEX_NOT_ALLOWED,
                    f"installs from {what}"
                    + (f" ({ref.url})" if ref.implicit else "")
                    + f", not on the allowlist ({', '.join(opts.allowed_indexes)})",
                    ref.location, url=ref.url, implicit=ref.implicit or None))
    return out


def _label(dep: Dependency) -> str:
    return dep.name or dep.url or "<unnamed requirement>"


def evaluate(
    inventory: Inventory,
    advisories: AdvisorySet,
    *,
    settings: GateSettings,
    options: ScanOptions,
    index: AdvisoryIndex | None = None,
    started_at: datetime | None = None,
    now: datetime | None = None,
    today: date | None = None,
    roots: Sequence[str | Path] = (),
) -> GateResult:
    """Check an inventory against advisories and policy. Never raises for findings: they are data.

    ``roots`` are the inputs as the user named them; they choose the subject (see :func:`subject_of`).
    """
    started = started_at or datetime.now(UTC)
    now = now or datetime.now(UTC)
    index = index or AdvisoryIndex(advisories.advisories)
    findings: list[Finding] = []

    # Vulnerabilities: one finding per vulnerability (aliases merged) per package version, all locations listed.
    by_pkg: dict[tuple[str, str], list[Dependency]] = {}
    unverifiable: list[Dependency] = []
    ranges: list[Dependency] = []
    for dep in inventory.dependencies:
        if not dep.name or (dep.kind == "vcs" and dep.reason) or (not dep.version and dep.kind != "range"):
            unverifiable.append(dep)
        elif dep.version:
            by_pkg.setdefault((dep.key, dep.version), []).append(dep)
        else:
            ranges.append(dep)
    vulnerable = 0
    upgrades: list[Upgrade] = []
    for (_key, version), deps in sorted(by_pkg.items()):
        dep = deps[0]
        matches = index.match(dep.name, version)
        if not matches and index.ranges_unverifiable(dep.name, version):
            why = f"version {version!r} is not PEP 440, so advisory ranges for {dep.name} cannot be evaluated"
            unverifiable.append(replace(dep, reason=why))
            continue
        if matches:
            vulnerable += 1
        locations = sorted({str(d.location) for d in deps})
        groups = _groups(matches)
        findings.extend(_vuln_finding(dep, g, locations) for g in groups)
        if groups:
            upgrades.append(plan_upgrade(dep.name, version, groups, index))

    for dep in unverifiable:
        findings.append(_rule_finding(
            rules.UNVERIFIABLE,
            f"{_label(dep)}: cannot be checked against advisories: {dep.reason or 'no version'}",
            dep.location, package=dep.name or None, url=dep.url, kind=dep.kind, origin=dep.origin))

    # A pyproject names what a project accepts; a pin for the same package elsewhere in the scan (a lock,
    # a compiled requirements file) is what gets installed, and was judged above.
    pinned_keys = {key for key, _version in by_pkg}
    for dep in ranges:
        if dep.origin == "pyproject" and dep.key in pinned_keys:
            continue
        admitted = index.admitted(dep.name, dep.specifier)
        spec = dep.specifier or "(any version)"
        if options.require_pins:
            findings.append(_rule_finding(
                rules.UNPINNED, f"{dep.name} {spec} is not pinned with ==; the version installed can change",
                dep.location, package=dep.name, specifier=dep.specifier, origin=dep.origin))
        if admitted:
            ids = sorted({a.id for a, _ in admitted})
            shown = ", ".join(f"{a.id} ({v})" for a, v in admitted[:5]) + (" ..." if len(admitted) > 5 else "")
            findings.append(_rule_finding(
                rules.RANGE_VULNERABLE,
                f"{dep.name} {spec} admits versions with known vulnerabilities: {shown}",
                dep.location, package=dep.name, specifier=dep.specifier, advisories=ids, origin=dep.origin))

    if options.require_hashes:
        for dep in inventory.dependencies:
            if dep.hash_checkable and not dep.hashes and not dep.constraint:
                findings.append(_rule_finding(
                    rules.NO_HASH, f"{_label(dep)} has no --hash; the policy requires hash-checked installs",
                    dep.location, package=dep.name or None, origin=dep.origin))

    findings.extend(_index_findings(inventory.indexes, options))

    if options.require_image_digest:
        by_image: dict[str, list[str]] = {}
        first: dict[str, Location] = {}
        for img in inventory.images:
            if not is_digest_pinned(img.image):
                by_image.setdefault(img.image, []).append(str(img.location))
                first.setdefault(img.image, img.location)
        for image, locs in sorted(by_image.items()):
            findings.append(_rule_finding(
                rules.IMAGE_TAG, f"image {image} is referenced by tag, not by @sha256 digest; the tag can be moved",
                first[image], image=image, locations=locs))

    for sf in inventory.source_findings:
        rule = rules.BY_ID[sf.rule]
        if rule.switch == "require_hf_revision" and not options.require_hf_revision:
            continue
        if rule.switch == "forbid_trust_remote_code" and not options.forbid_trust_remote_code:
            continue
        findings.append(Finding(id=rule.id, severity=rule.severity, message=sf.message, location=sf.location,
                                data=dict(sf.data)))

    source_meta = advisories.describe()
    findings.extend(advisory_health_findings(advisories, options, now, source_meta))
    if inventory.skipped:
        shown = "; ".join(f"{s.path} ({s.reason})" for s in inventory.skipped[:10])
        more = f"; and {len(inventory.skipped) - 10} more" if len(inventory.skipped) > 10 else ""
        read = ", ".join(i.path for i in inventory.inputs[:10]) + (", ..." if len(inventory.inputs) > 10 else "")
        findings.append(_rule_finding(
            rules.SKIPPED_FILES,
            f"the directory scan read {len(inventory.inputs)} file(s) ({read}) and left {len(inventory.skipped)} "
            f"out: {shown}{more}; name a file explicitly to scan it", None, count=len(inventory.skipped)))

    components: dict[tuple[str, str], dict[str, str]] = {}
    for dep in inventory.dependencies:
        if dep.name and dep.version:
            components.setdefault((dep.key, dep.version), {
                "name": dep.name, "version": dep.version, "purl": f"pkg:pypi/{dep.key}@{dep.version}",
                "origin": dep.origin})
    subject = subject_of(inventory, roots)
    unique_deps = len({(d.key, d.version, d.url) for d in inventory.dependencies})
    metadata = {
        "advisory_source": source_meta,
        "inventory": {
            "inputs": [{"path": i.path, "kind": i.kind, "sha256": i.sha256} for i in inventory.inputs],
            "skipped": [{"path": s.path, "reason": s.reason} for s in inventory.skipped[:_MAX_SKIPPED_LISTED]],
            "skipped_count": len(inventory.skipped),
            "dependencies": unique_deps,
            "checked_versions": len(by_pkg),
            "vulnerable_versions": vulnerable,
            "unverifiable": len(unverifiable),
            "ranges": len(ranges),
            "images": sorted({i.image for i in inventory.images}),
            "indexes": sorted({f"{r.kind} {r.url}".strip() for r in inventory.indexes}),
        },
        "components": [components[k] for k in sorted(components)],
        # One entry per vulnerable package version: the smallest upgrade that fixes its advisories.
        "upgrades": [u.to_dict() for u in upgrades],
        "options": options.describe(),
    }
    return finalize(
        gate=GATE,
        subject=subject,
        tool=Tool(name="kfp-gates dependency_scan", version=tool_version()),
        findings=findings,
        settings=settings,
        started_at=started,
        metadata=metadata,
        today=today,
    )


def advisory_health_findings(
    advisories: AdvisorySet, options: ScanOptions, now: datetime, meta: dict[str, Any]
) -> list[Finding]:
    """Stale data and skipped malformed records; also writes ``age_days`` into ``meta``.

    Past the policy's ``max_advisory_age``: ``KFPG-ADV-STALE`` (critical when the policy blocks on stale
    data, as the critical tier does; else low). With no limit in the policy, data older than 30 days (or
    of unknown age) is still reported, ``KFPG-ADV-OLD`` (low), so the age is in the report and evidence.
    """
    out: list[Finding] = []
    snapshot = advisories.info.snapshot or advisories.newest_modified()
    age = (now - snapshot) if snapshot else None
    meta["age_days"] = round(age.total_seconds() / 86400, 1) if age is not None else None
    if options.max_advisory_age is not None and (age is None or age > options.max_advisory_age):
        from kfp_gates.components.common.policy import format_duration

        limit = format_duration(options.max_advisory_age)
        what = f"{age.days} days old" if age is not None else "of unknown age"
        sev = Severity.CRITICAL if options.stale_action == "block" else rules.ADV_STALE.severity
        out.append(Finding(
            id=rules.ADV_STALE.id, severity=sev,
            message=f"advisory data ({advisories.info.kind}) is {what}, older than max_advisory_age {limit}; "
            "newer vulnerabilities are not known to this scan; pass current OSV data with --advisories "
            "(or the policy key 'advisories')",
            location=Location(field="advisories"),
            data={"snapshot": snapshot.isoformat() if snapshot else None, "max_advisory_age": limit,
                  "action": options.stale_action, "age_days": meta["age_days"]}))
    elif options.max_advisory_age is None and (age is None or age > CRITICAL_MAX_AGE):
        # No limit in the policy: the age still belongs in the report and the evidence, not only on stderr.
        what = f"{age.days} days old" if age is not None else "of unknown age"
        out.append(Finding(
            id=rules.ADV_OLD.id, severity=rules.ADV_OLD.severity,
            message=f"advisory data ({advisories.info.kind}"
            + (f", snapshot {snapshot.date().isoformat()}" if snapshot else "")
            + f") is {what}: vulnerabilities published since are not known to this scan; pass current OSV "
            "data with --advisories DIR|ZIP (or the policy key gates.dependency_scan.advisories), and set "
            "max_advisory_age to block on stale data",
            location=Location(field="advisories"),
            data={"snapshot": snapshot.isoformat() if snapshot else None, "age_days": meta["age_days"],
                  "max_advisory_age": None}))
    if advisories.malformed:
        out.append(Finding(
            id=rules.ADV_MALFORMED.id, severity=rules.ADV_MALFORMED.severity,
            message=f"{advisories.malformed} advisory record(s) could not be parsed and were skipped",
            location=Location(field="advisories"),
            data={"count": advisories.malformed, "examples": list(advisories.malformed_examples)}))
    return out


def subject_of(inventory: Inventory, roots: Sequence[str | Path] = ()) -> Subject:
    """Name and content digest of what was scanned, independent of the paths it was named by.

    * One file named (its includes may have been read too): that file's sha256,
      what ``sha256sum`` prints; the includes are listed in the result metadata.
    * Otherwise (a directory, several inputs): the directory digest of
      :mod:`~kfp_gates.components.common.digest` over every input read, by its
      path relative to the inputs' common directory.
    """
    inputs = inventory.inputs
    if not inputs:
        return Subject(name="(no inputs)", digest={"sha256": sha256_bytes(b"")})
    if len(roots) == 1 and Path(roots[0]).is_file():
        named = os.path.realpath(roots[0])
        for i in inputs:
            if os.path.realpath(i.path) == named:
                return Subject(name=str(roots[0]), digest={"sha256": i.sha256})
    if len(inputs) == 1:
        return Subject(name=inputs[0].path, digest={"sha256": inputs[0].sha256})
    real = {os.path.realpath(i.path): i.sha256 for i in inputs}
    base = os.path.commonpath([os.path.dirname(r) for r in real])
    entries = [ManifestEntry(Path(os.path.relpath(r, base)).as_posix(), "file", sha) for r, sha in real.items()]
    if len(roots) == 1:
        name = str(roots[0])
    else:
        name = f"{inputs[0].path} (+{len(real) - 1} more)"
    return Subject(name=name, digest={"sha256": manifest_digest(entries)})


def collect(
    paths: Sequence[str | Path] = (),
    *,
    envs: Sequence[str | Path] = (),
    pipelines: Sequence[str | Path] = (),
) -> Inventory:
    """Parse every input. Raises ConfigError (exit 2) when nothing was given or an input is unreadable."""
    if not (paths or envs or pipelines):
        raise ConfigError("nothing to scan", hint="give requirement/lock files or directories, --env or --pipeline")
    inv = Inventory()
    for p in paths:
        inv = inv + parse_path(p)
    for e in envs:
        inv = inv + parse_site_packages(e)
    for pl in pipelines:
        inv = inv + parse_pipeline_file(pl)
    return inv


def scan_inputs(
    paths: Sequence[str | Path] = (),
    *,
    envs: Sequence[str | Path] = (),
    pipelines: Sequence[str | Path] = (),
    policy: GatePolicy | None = None,
    advisories: str | Path | None = None,
    fail_on: str | Severity | None = None,
    cache_dir: Path | None = None,
    now: datetime | None = None,
) -> GateResult:
    """Parse the inputs, load advisories (``advisories`` > policy > embedded) and evaluate.

    Raises :class:`ConfigError` (exit 2) for unreadable inputs or advisory data.
    """
    started = datetime.now(UTC)
    policy = policy or GatePolicy.default()
    settings = settings_from_policy(policy, GATE, fail_on)
    options = ScanOptions.from_policy(policy)
    inventory = collect(paths, envs=envs, pipelines=pipelines)
    spec = advisories if advisories is not None else policy.gates.dependency_scan.advisories
    loaded = open_source(spec, cache_dir=cache_dir).load()
    roots = [*paths, *envs, *pipelines]
    return evaluate(inventory, loaded, settings=settings, options=options, started_at=started, now=now, roots=roots)


def vulnerability_advisories(result: GateResult) -> list[Finding]:
    """The findings of ``result`` that are advisories (not KFPG rules)."""
    return [f for f in result.findings if not f.id.startswith("KFPG-")]


