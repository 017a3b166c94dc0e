"""The image gate: Trivy JSON reports (``trivy image --format json``) under the kfp-gates policy.

Either ingest a report a CI job produced, or, when a ``trivy`` binary is on
``PATH`` (as in the kfp-gates component image), run it offline against the
configured DB (``--skip-db-update --offline-scan``). Vulnerabilities keep
Trivy's id (``CVE-...``), severity, package, installed and fixed versions;
secrets and failed misconfiguration checks become findings too (secret
values are never copied). A report that scanned nothing is a finding, not a
pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError, GateTimeoutError, InfrastructureError, InputNotFoundError
from kfp_gates.components.common.gate import GateSettings, finalize
from kfp_gates.components.common.kfp_ir import is_digest_pinned
from kfp_gates.components.common.policy import GatePolicy, OnFail, format_duration
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity

from . import rules
from .advisories.osv import parse_time
from .cvss import DEFAULT_SEVERITY
from .engine import CRITICAL_MAX_AGE, settings_from_policy, tool_version

GATE = "image_scan"
_SEVERITY = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}
MAX_REPORT_BYTES = 512 << 20


@dataclass(frozen=True)
class ImageOptions:
    """The ``image_scan`` policy section, with tier defaults applied."""

    trivy_db: str | None = None
    ignore_unfixed: bool = False
    max_advisory_age: timedelta | None = None
    stale_action: OnFail = "warn"
    timeout: timedelta = timedelta(minutes=10)
    require_image_digest: bool = True

    @classmethod
    def from_policy(cls, policy: GatePolicy) -> ImageOptions:
        sec = policy.gates.image_scan
        critical = policy.tier == "critical"
        if critical and sec.stale_advisories == "warn":
            raise ConfigError("gates.image_scan.stale_advisories: the critical tier does not allow 'warn'")
        return cls(
            trivy_db=sec.trivy_db,
            ignore_unfixed=sec.ignore_unfixed,
            max_advisory_age=sec.max_advisory_age or (CRITICAL_MAX_AGE if critical else None),
            stale_action=sec.stale_advisories or ("block" if critical else "warn"),
            timeout=sec.timeout,
            require_image_digest=sec.require_image_digest,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "trivy_db": self.trivy_db,
            "ignore_unfixed": self.ignore_unfixed,
            "max_advisory_age": format_duration(self.max_advisory_age) if self.max_advisory_age else None,
            "stale_advisories": self.stale_action,
            "timeout": format_duration(self.timeout),
            "require_image_digest": self.require_image_digest,
        }


@dataclass(frozen=True)
class TrivyReport:
    """A parsed report, where it came from, and the DB date when known."""

    data: dict[str, Any]
    source: str  # report path or image reference
    sha256: str
    db_updated_at: datetime | None = None


def parse_report(raw: bytes, source: str) -> TrivyReport:
    """Validate a Trivy JSON report. Raises :class:`ConfigError` (exit 2) when it is not one."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Trivy report is not valid JSON: {exc}", where=source) from None
    if not isinstance(data, dict) or "SchemaVersion" not in data:
        raise ConfigError("not a Trivy JSON report (no SchemaVersion)", where=source,
                          hint="produce it with `trivy image --format json --output report.json IMAGE`")
    if data["SchemaVersion"] != 2:
        raise ConfigError(f"unsupported Trivy report SchemaVersion {data['SchemaVersion']!r} (expected 2)",
                          where=source)
    results = data.get("Results")
    if results is not None and not isinstance(results, list):
        raise ConfigError("Trivy report: Results is not a list", where=source)
    for i, r in enumerate(results or []):
        if not isinstance(r, dict):
            raise ConfigError(f"Trivy report: Results[{i}] is not an object", where=source)
        for key in ("Vulnerabilities", "Secrets", "Misconfigurations", "Packages"):
            items = r.get(key)
            if items is not None and (not isinstance(items, list) or not all(isinstance(x, dict) for x in items)):
                raise ConfigError(f"Trivy report: Results[{i}].{key} is not a list of objects", where=source)
        for j, v in enumerate(r.get("Vulnerabilities") or []):
            if not isinstance(v.get("VulnerabilityID"), str) or not isinstance(v.get("PkgName"), str):
                raise ConfigError(f"Trivy report: Results[{i}].Vulnerabilities[{j}] lacks VulnerabilityID or PkgName",
                                  where=source)
    return TrivyReport(data=data, source=source, sha256=hashlib.sha256(raw).hexdigest())


def load_report(path: str | Path) -> TrivyReport:
    """Read a report file. Raises InputNotFoundError / ConfigError (exit 2)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise ConfigError(f"Trivy report is larger than {MAX_REPORT_BYTES} bytes", where=str(p))
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputNotFoundError("Trivy report not found", where=str(p)) from None
    except IsADirectoryError:
        raise InputNotFoundError("Trivy report is a directory, expected a JSON file", where=str(p)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read Trivy report: {exc.strerror}", where=str(p)) from None
    return parse_report(raw, str(p))


def trivy_command(image: str, options: ImageOptions, binary: str) -> list[str]:
    """The offline ``trivy image`` invocation (no DB download, no network lookups)."""
    cmd = [binary, "image", "--format", "json", "--quiet", "--skip-db-update", "--skip-java-db-update",
           "--offline-scan", "--scanners", "vuln,secret"]
    if options.trivy_db:
        cmd += ["--cache-dir", options.trivy_db]
    if options.ignore_unfixed:
        cmd.append("--ignore-unfixed")
    return [*cmd, image]


def run_trivy(image: str, options: ImageOptions, *, binary: str | None = None) -> TrivyReport:
    """Scan ``image`` with the local trivy binary, offline.

    Raises :class:`ConfigError` (no trivy on PATH), :class:`GateTimeoutError`
    (exit 3) or :class:`InfrastructureError` (trivy failed, exit 3).
    """
    exe = binary or shutil.which("trivy")
    if not exe:
        raise ConfigError("trivy is not on PATH", where=image,
                          hint="install trivy with an offline DB, or pass a Trivy JSON report from a CI scan "
                               "(CLI --trivy-report FILE, component input trivy_report)")
    env = {**os.environ, "TRIVY_NO_PROGRESS": "true", "TRIVY_DISABLE_VEX_NOTICE": "true"}
    timeout = options.timeout.total_seconds()
    try:
        proc = subprocess.run(trivy_command(image, options, exe), capture_output=True, timeout=timeout, env=env,
                              check=False)
    except subprocess.TimeoutExpired:
        raise GateTimeoutError(f"trivy did not finish within {format_duration(options.timeout)}", where=image,
                               hint="raise gates.image_scan.timeout or scan a smaller image") from None
    except OSError as exc:
        raise InfrastructureError(f"cannot run trivy: {exc.strerror}", where=exe) from None
    if proc.returncode != 0:
        tail = redact.redact(proc.stderr.decode("utf-8", "replace").strip()[-800:])
        raise InfrastructureError(f"trivy exited with {proc.returncode}: {tail}", where=image,
                                  hint="check that --trivy-db holds db/trivy.db (trivy runs with --skip-db-update)")
    report = parse_report(proc.stdout, image)
    return TrivyReport(report.data, image, report.sha256, _db_updated_at(exe, options))


def _db_updated_at(exe: str, options: ImageOptions) -> datetime | None:
    cmd = [exe, "version", "--format", "json"] + (["--cache-dir", options.trivy_db] if options.trivy_db else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
        info = json.loads(proc.stdout or b"{}")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    db = info.get("VulnerabilityDB") if isinstance(info, dict) else None
    return parse_time(db.get("UpdatedAt")) if isinstance(db, dict) else None


def _obj(x: Any) -> dict[str, Any]:
    """A report field that should be an object; anything else reads as empty (reports are untrusted input)."""
    return x if isinstance(x, dict) else {}


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _line(x: Any) -> int | None:
    return x if isinstance(x, int) and not isinstance(x, bool) and x > 0 else None


def _severity(v: dict[str, Any]) -> tuple[Severity, float | None]:
    scores = [c.get("V3Score") for c in _obj(v.get("CVSS")).values() if isinstance(c, dict)]
    best = max((s for s in scores if isinstance(s, int | float)), default=None)
    sev = _SEVERITY.get(str(v.get("Severity", "")).upper())
    if sev is None:  # UNKNOWN: use the score, else treat as a known vulnerability of unknown severity
        sev = Severity.from_cvss_score(best) if best is not None else DEFAULT_SEVERITY
    return sev, best


def _subject(report: TrivyReport) -> Subject:
    meta = _obj(report.data.get("Metadata"))
    name = str(report.data.get("ArtifactName") or report.source)
    for ref in _list(meta.get("RepoDigests")):
        if isinstance(ref, str) and "@sha256:" in ref:
            return Subject(name=name, digest={"sha256": ref.rsplit("@sha256:", 1)[1]})
    image_id = meta.get("ImageID")
    if isinstance(image_id, str) and image_id.startswith("sha256:") and len(image_id) == 71:
        return Subject(name=name, digest={"sha256": image_id[7:]})
    return Subject(name=name, digest={"sha256": report.sha256})


def evaluate_report(
    report: TrivyReport,
    *,
    settings: GateSettings,
    options: ImageOptions,
    started_at: datetime | None = None,
    now: datetime | None = None,
    today: date | None = None,
) -> GateResult:
    """Turn a Trivy report into the image gate's result."""
    started = started_at or datetime.now(UTC)
    now = now or datetime.now(UTC)
    data = report.data
    results = data.get("Results") or []
    findings: list[Finding] = []
    seen: dict[tuple[str, str, str], Finding] = {}
    skipped_unfixed = 0
    packages: dict[tuple[str, str], dict[str, str]] = {}
    for r in results:
        target = str(r.get("Target", ""))
        for pkg in r.get("Packages") or []:
            name, version = str(pkg.get("Name")), str(pkg.get("Version"))
            purl = _obj(pkg.get("Identifier")).get("PURL")
            packages.setdefault((name, version), {"name": name, "version": version, "purl": purl or "",
                                                  "target": target})
        for v in r.get("Vulnerabilities") or []:
            fixed = [f.strip() for f in str(v.get("FixedVersion") or "").split(",") if f.strip()]
            if options.ignore_unfixed and not fixed:
                skipped_unfixed += 1
                continue
            key: tuple[str, str, str] = (v["VulnerabilityID"], v["PkgName"], str(v.get("InstalledVersion", "")))
            purl = _obj(v.get("PkgIdentifier")).get("PURL")
            packages.setdefault((key[1], key[2]), {"name": key[1], "version": key[2], "purl": purl or "",
                                                   "target": target})
            if key in seen:
                seen[key].data["locations"].append(target)
                continue
            sev, score = _severity(v)
            title = str(v.get("Title") or v.get("Description") or "").split("\n")[0][:200]
            fix_text = f"fixed in {', '.join(fixed)}" if fixed else f"no fix ({v.get('Status', 'affected')})"
            f = Finding(
                id=key[0], severity=sev,
                message=f"{key[1]} {key[2]}: {title or 'known vulnerability'} ({fix_text})",
                location=Location(path=report.source, member=target),
                data={
                    "package": key[1], "installed_version": key[2], "fixed_versions": fixed,
                    "aliases": sorted(str(a) for a in _list(v.get("VendorIDs"))), "status": v.get("Status"),
                    "target": target, "class": r.get("Class"), "type": r.get("Type"), "purl": purl,
                    "cvss_score": score, "url": v.get("PrimaryURL"), "severity_source": v.get("SeveritySource"),
                    "layer": _obj(v.get("Layer")).get("DiffID"), "locations": [target],
                },
            )
            seen[key] = f
            findings.append(f)
        for s in r.get("Secrets") or []:
            sev = _SEVERITY.get(str(s.get("Severity", "")).upper(), Severity.HIGH)
            rule = str(s.get("RuleID") or "unknown")
            # The matched text and code lines are never copied: they hold the secret.
            findings.append(Finding(
                id=f"TRIVY-SECRET-{rule}", severity=sev,
                message=f"secret ({s.get('Title') or rule}) found in {target}",
                location=Location(path=report.source, member=target, line=_line(s.get("StartLine"))),
                data={"rule": rule, "category": s.get("Category"), "target": target}))
        for m in r.get("Misconfigurations") or []:
            if str(m.get("Status", "FAIL")).upper() != "FAIL":
                continue
            sev = _SEVERITY.get(str(m.get("Severity", "")).upper(), DEFAULT_SEVERITY)
            line = _obj(m.get("CauseMetadata")).get("StartLine")
            findings.append(Finding(
                id=str(m.get("AVDID") or m.get("ID") or "TRIVY-MISCONFIG"), severity=sev,
                message=f"{m.get('Title') or m.get('ID')}: {m.get('Message') or ''}".strip(": "),
                location=Location(path=report.source, member=target, line=_line(line)),
                data={"target": target, "url": m.get("PrimaryURL")}))

    name = str(data.get("ArtifactName") or report.source)
    if not results:
        findings.append(Finding(
            id=rules.IMG_NOTHING_SCANNED.id, severity=rules.IMG_NOTHING_SCANNED.severity,
            message=f"Trivy report for {name} has no results: nothing was scanned (unsupported OS or failed "
            "detection), so no vulnerability can be ruled out",
            location=Location(path=report.source)))
    meta = _obj(data.get("Metadata"))
    os_info = _obj(meta.get("OS"))
    if os_info.get("EOSL"):
        findings.append(Finding(
            id=rules.IMG_EOSL.id, severity=rules.IMG_EOSL.severity,
            message=f"{os_info.get('Family')} {os_info.get('Name')} is end of life: no further security fixes",
            location=Location(path=report.source)))
    if (options.require_image_digest and data.get("ArtifactType") == "container_image"
            and not name.endswith((".tar", ".tar.gz", ".tgz")) and not is_digest_pinned(name)):
        findings.append(Finding(
            id=rules.IMAGE_TAG.id, severity=rules.IMAGE_TAG.severity,
            message=f"image {name} is referenced by tag, not by @sha256 digest; the tag can be moved",
            location=Location(path=report.source), data={"image": name}))

    created = parse_time(data.get("CreatedAt"))
    basis = report.db_updated_at or created
    age = (now - basis) if basis else None
    if options.max_advisory_age is not None and (age is None or age > options.max_advisory_age):
        what = f"{age.days} days old" if age is not None else "of unknown age"
        findings.append(Finding(
            id=rules.ADV_STALE.id,
            severity=Severity.CRITICAL if options.stale_action == "block" else rules.ADV_STALE.severity,
            message=f"Trivy {'DB' if report.db_updated_at else 'report'} is {what}, older than max_advisory_age "
            f"{format_duration(options.max_advisory_age)}",
            location=Location(path=report.source),
            data={"basis": basis.isoformat() if basis else None, "action": options.stale_action}))

    trivy_version = _obj(data.get("Trivy")).get("Version")
    metadata = {
        "trivy": {
            "version": trivy_version,
            "report": report.source,
            "report_sha256": report.sha256,
            "created_at": created.isoformat() if created else None,
            "db_updated_at": report.db_updated_at.isoformat() if report.db_updated_at else None,
            "age_days": round(age.total_seconds() / 86400, 1) if age is not None else None,
            "artifact_type": data.get("ArtifactType"),
            "os": os_info or None,
        },
        "targets": [{"target": r.get("Target"), "class": r.get("Class"), "type": r.get("Type"),
                     "vulnerabilities": len(r.get("Vulnerabilities") or [])} for r in results],
        "skipped_unfixed": skipped_unfixed,
        "components": sorted(packages.values(), key=lambda p: (p["name"], p["version"])),
        "options": options.describe(),
    }
    return finalize(
        gate=GATE, subject=_subject(report), tool=Tool(name="kfp-gates image_scan", version=tool_version()),
        findings=findings, settings=settings, started_at=started, metadata=metadata, today=today,
    )


def scan_image(
    *,
    image: str | None = None,
    report: str | Path | None = None,
    policy: GatePolicy | None = None,
    fail_on: str | Severity | None = None,
    trivy_db: str | None = None,
    ignore_unfixed: bool | None = None,
    now: datetime | None = None,
) -> GateResult:
    """Ingest ``report`` or run trivy on ``image`` (exactly one), then evaluate under ``policy``."""
    if (image is None) == (report is None):
        raise ConfigError("give exactly one of an image reference or --trivy-report FILE")
    started = datetime.now(UTC)
    policy = policy or GatePolicy.default()
    settings = settings_from_policy(policy, GATE, fail_on)
    options = ImageOptions.from_policy(policy)
    overrides: dict[str, Any] = {}
    if trivy_db is not None:
        overrides["trivy_db"] = trivy_db
    if ignore_unfixed is not None:
        overrides["ignore_unfixed"] = ignore_unfixed
    if overrides:
        options = ImageOptions(**{**options.__dict__, **overrides})
    loaded = load_report(report) if report is not None else run_trivy(str(image), options)
    return evaluate_report(loaded, settings=settings, options=options, started_at=started, now=now)
