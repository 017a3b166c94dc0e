"""The dependency gate's reports: upgrade advice first, then advisories grouped by package, ids as links.

What a pip-audit or Trivy user looks for: "upgrade X to Y fixes N advisories",
then each vulnerable ``package==version`` with its advisories, their CVE/GHSA
aliases (links to OSV, GitHub and NVD; the report links, nothing is fetched)
and the fixed versions. A severity that is the fail-closed default (the
advisory carries no CVSS vector and no rating, as PyPA records mostly do) is
shown as ``unknown (treated as high)``, never as a plain ``high``.

The formatters only format: everything they show is in the
:class:`GateResult` (findings' ``data`` and ``metadata.upgrades``). Every
data-derived string is escaped (:func:`~kfp_gates.components.common.formats.md_text`
for Markdown, ``html.escape`` for HTML); a link is made only from an id that
looks like an advisory id, so a crafted id cannot become a URL.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from kfp_gates.components.common.formats import markdown_summary, md_text
from kfp_gates.components.common.formats import render_sarif as _common_sarif
from kfp_gates.components.common.result import Finding, GateResult

from .cvss import severity_label

GATE = "dependency_scan"
_ADVISORY_ID = re.compile(r"[A-Z][A-Z0-9]*-[A-Za-z0-9][A-Za-z0-9._-]*")
# Databases whose ids osv.dev serves; others (SNYK-..., vendor ids) are shown as text, not as a dead link.
_OSV_PREFIXES = ("PYSEC-", "OSV-", "MAL-", "GSD-", "BIT-")
UNKNOWN_NOTE = (
    "unknown (treated as high): the advisory carries no CVSS vector and no severity rating (the PyPA "
    "database's records mostly do not), so the gate counts it as high and blocks on it (fail closed); "
    "in the JSON result its severity_source is 'default'"
)


def advisory_url(advisory_id: str) -> str | None:
    """Where a person reads about ``advisory_id``: GitHub for GHSA, NVD for CVE, OSV for PYSEC and OSV's own.

    None for a string that is not shaped like an advisory id, or from a database no link is known for
    (it is then shown as text).
    """
    if not _ADVISORY_ID.fullmatch(advisory_id):
        return None
    if advisory_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{advisory_id}"
    if advisory_id.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{advisory_id}"
    if advisory_id.startswith(_OSV_PREFIXES):
        return f"https://osv.dev/vulnerability/{advisory_id}"
    return None


def _is_vulnerability(f: Finding) -> bool:
    return not f.id.startswith("KFPG-") and "package" in f.data and "installed_version" in f.data


def _label(f: Finding) -> str:
    return severity_label(f.severity.value, f.data.get("severity_source"))


def _order(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.waived, -f.severity.rank, f.id))


def _summary(f: Finding) -> str:
    """The message without its ``package version:`` prefix (the block heading says it)."""
    prefix = f"{f.data.get('package')} {f.data.get('installed_version')}: "
    return f.message.removeprefix(prefix)


class _Package:
    """One vulnerable ``package==version``: its findings and upgrade advice (if the engine gave one)."""

    def __init__(self, package: str, version: str, upgrade: dict[str, Any] | None) -> None:
        self.package, self.version, self.upgrade = package, version, upgrade
        self.findings: list[Finding] = []

    @property
    def locations(self) -> list[str]:
        return sorted({str(loc) for f in self.findings for loc in f.data.get("locations") or []})


def by_package(result: GateResult) -> tuple[list[_Package], list[Finding]]:
    """(vulnerable packages with their advisories, in upgrade order; every other finding)."""
    upgrades = {(u.get("package"), u.get("version")): u for u in result.metadata.get("upgrades") or []}
    packages: dict[tuple[str, str], _Package] = {}
    other: list[Finding] = []
    for f in result.findings:
        if not _is_vulnerability(f):
            other.append(f)
            continue
        key = (str(f.data["package"]), str(f.data["installed_version"]))
        if key not in packages:
            packages[key] = _Package(key[0], key[1], upgrades.get(key))
        packages[key].findings.append(f)
    ordered = [packages[k] for k in sorted(packages, key=lambda k: (k[0].lower(), k[1]))]
    for p in ordered:
        p.findings = _order(p.findings)
    return ordered, _order(other)


def upgrade_advice(upgrade: dict[str, Any] | None, findings: Sequence[Finding],
                   ids: Callable[[Sequence[str]], str] = ", ".join) -> str:
    """One sentence: ``upgrade to 2.31.0 fixes 2 advisories`` and what no upgrade fixes. ``ids`` formats id lists."""
    if upgrade is None:
        return "no upgrade advice in this result (written before metadata.upgrades existed)"
    fixes, unfixed = list(upgrade.get("fixes") or []), list(upgrade.get("unfixed") or [])
    fix = upgrade.get("fix_version")
    parts: list[str] = []
    if fix:
        parts.append(f"upgrade to {fix} fixes {len(fixes)} {'advisory' if len(fixes) == 1 else 'advisories'}")
    fixed_somewhere = {f.id for f in findings if f.data.get("fixed_versions")}
    no_fix = [i for i in unfixed if i not in fixed_somewhere]
    other_branch = [i for i in unfixed if i in fixed_somewhere]
    if no_fix:
        parts.append(f"no fixed version for {ids(no_fix)}")
    if other_branch:
        parts.append(f"{fix} does not fix {ids(other_branch)} (fixed on another release line)")
    introduced = list(upgrade.get("introduced") or [])
    if fix and introduced:
        parts.append(f"{fix} is itself affected by {ids(introduced)}")
    return "; ".join(parts) or "no upgrade advice"


def _plain_advice(p: _Package) -> str:
    return upgrade_advice(p.upgrade, p.findings)


# ----- table (terminal) ---------------------------------------------------------


def render_table(results: Sequence[GateResult], *, color: bool = False, max_findings: int = 50) -> str:
    """The terminal summary: verdict line, upgrade advice per package, then findings (labels, not bare 'high')."""
    from kfp_gates.components.common.formats import render_table as common_table

    lines: list[str] = []
    for r in results:
        if r.gate != GATE:
            lines.append(common_table([r], color=color, max_findings=max_findings).rstrip("\n"))
            continue
        lines.append(common_table([r], color=color, max_findings=0).splitlines()[0])
        packages, other = by_package(r)
        if packages:
            lines.append("  upgrades:")
            lines.extend(f"    {p.package} {p.version}: {_plain_advice(p)}" for p in packages)
        shown = [f for p in packages for f in p.findings] + other
        for f in shown[:max_findings]:
            loc = f"  {f.location}" if f.location and str(f.location) else ""
            tag = " [waived]" if f.waived else ""
            lines.append(f"  {_label(f):<8} {f.id}{tag}{loc}")
            lines.append(f"           {f.message}")
        if len(shown) > max_findings:
            lines.append(f"  ... {len(shown) - max_findings} more findings (use --format json)")
        if any(f.data.get("severity_source") == "default" for f in shown):
            lines.append(f"  {UNKNOWN_NOTE}")
    return "\n".join(lines) + "\n"


# ----- Markdown -----------------------------------------------------------------


def _md_id(advisory_id: str) -> str:
    url = advisory_url(advisory_id)
    return f"[{md_text(advisory_id)}]({url})" if url else md_text(advisory_id)


def _md_ids(ids: Sequence[str]) -> str:
    return ", ".join(_md_id(i) for i in ids)


def _aliases(f: Finding) -> list[str]:
    return [str(a) for a in f.data.get("aliases") or []]


def _related(f: Finding) -> list[str]:
    return [str(a) for a in f.data.get("related") or []]


def render_markdown(result: GateResult) -> str:
    """One dependency-scan result as Markdown: summary, upgrades, advisories by package, other findings."""
    r = result
    out = markdown_summary(r)
    packages, other = by_package(r)
    if packages:
        out.append("### Upgrades\n")
        out.append("| package | installed | advice |")
        out.append("|---|---|---|")
        for p in packages:
            out.append(f"| {md_text(p.package)} | {md_text(p.version)} | "
                       f"{upgrade_advice(p.upgrade, p.findings, _md_ids)} |")
        out.append("")
        out.append("### Vulnerabilities by package\n")
        for p in packages:
            n = len(p.findings)
            out.append(f"#### {md_text(p.package)} {md_text(p.version)}: {n} "
                       f"{'advisory' if n == 1 else 'advisories'}\n")
            if p.locations:
                out.append(f"Found in: {', '.join(md_text(loc) for loc in p.locations)}\n")
            out.append("| severity | advisory | aliases | fixed in | summary |")
            out.append("|---|---|---|---|---|")
            for f in p.findings:
                sid = _md_id(f.id) + (" (waived)" if f.waived else "")
                aliases = _md_ids(_aliases(f))
                if _related(f):
                    aliases += ("; " if aliases else "") + "related: " + _md_ids(_related(f))
                fixed = md_text(", ".join(f.data.get("fixed_versions") or []) or "no fix")
                out.append(f"| {md_text(_label(f))} | {sid} | {aliases} | {fixed} | {md_text(_summary(f))} |")
            out.append("")
    if other:
        out.append("### Other findings\n" if packages else "")
        out.append("| severity | id | location | message |")
        out.append("|---|---|---|---|")
        for f in other:
            sid = f"{f.id} (waived)" if f.waived else f.id
            loc = md_text(f.location) if f.location else ""
            out.append(f"| {md_text(f.severity.value)} | {md_text(sid)} | {loc} | {md_text(f.message)} |")
        out.append("")
    if any(f.data.get("severity_source") == "default" for p in packages for f in p.findings):
        out.append(f"*{md_text(UNKNOWN_NOTE)}*\n")
    return "\n".join(out) + "\n"


# ----- HTML ---------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h2{margin-bottom:.2em} .pass{color:#1a7f37} .warn{color:#9a6700} .fail{color:#cf222e}
table{border-collapse:collapse;margin:.5em 0 1.5em} td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
tr.sev-critical td,tr.sev-high td{background:#ffebe9} tr.sev-medium td{background:#fff8c5} tr.waived td{color:#6e7781}
tr.sev-unknown td{background:#fff1e5} code{font-size:90%} .note{color:#57606a}
"""


def _h_id(advisory_id: str) -> str:
    url = advisory_url(advisory_id)
    text = html.escape(advisory_id)
    return f"<a href='{url}' rel='noopener noreferrer' target='_blank'>{text}</a>" if url else text


def _h_ids(ids: Sequence[str]) -> str:
    return ", ".join(_h_id(i) for i in ids)


def _row_class(f: Finding) -> str:
    sev = "unknown" if f.data.get("severity_source") == "default" else f.severity.value
    return f"sev-{sev}" + (" waived" if f.waived else "")


def render_html(result: GateResult, *, title: str = "kfp-gates dependency scan") -> str:
    """One dependency-scan result as a self-contained HTML page (no script, no external resource)."""
    e = html.escape
    r = result
    d = r.decision.value
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
             f"<style>{_STYLE}</style></head><body><h1>{e(title)}</h1>",
             f"<h2 class='{d}'>{e(r.gate)}: {d.upper()}</h2>",
             f"<p>Subject <code>{e(r.subject.name)}</code> sha256 <code>{e(r.subject.sha256 or 'not read')}</code>"
             f"<br>Tool {e(r.tool.name)} {e(r.tool.version)} · {e(r.started_at.isoformat())}<br>Findings: "
             f"{e(', '.join(f'{n} {s}' for s, n in r.counts().items() if n) or 'none')}</p>"]
    packages, other = by_package(r)
    if packages:
        parts.append("<h3>Upgrades</h3><table><tr><th>package</th><th>installed</th><th>advice</th></tr>")
        for p in packages:
            parts.append(f"<tr><td>{e(p.package)}</td><td>{e(p.version)}</td>"
                         f"<td>{upgrade_advice(p.upgrade, p.findings, _h_ids)}</td></tr>")
        parts.append("</table><h3>Vulnerabilities by package</h3>")
        for p in packages:
            n = len(p.findings)
            parts.append(f"<h4>{e(p.package)} {e(p.version)}: {n} {'advisory' if n == 1 else 'advisories'}</h4>")
            if p.locations:
                parts.append(f"<p>Found in: {e(', '.join(p.locations))}</p>")
            parts.append("<table><tr><th>severity</th><th>advisory</th><th>aliases</th><th>fixed in</th>"
                         "<th>summary</th></tr>")
            for f in p.findings:
                aliases = _h_ids(_aliases(f))
                if _related(f):
                    aliases += ("; " if aliases else "") + "related: " + _h_ids(_related(f))
                fixed = ", ".join(f.data.get("fixed_versions") or []) or "no fix"
                parts.append(
                    f"<tr class='{_row_class(f)}'><td>{e(_label(f))}</td>"
                    f"<td>{_h_id(f.id)}{' (waived)' if f.waived else ''}</td><td>{aliases}</td>"
                    f"<td>{e(fixed)}</td><td>{e(_summary(f))}</td></tr>")
            parts.append("</table>")
    if other:
        parts.append(("<h3>Other findings</h3>" if packages else "")
                     + "<table><tr><th>severity</th><th>id</th><th>location</th><th>message</th></tr>")
        for f in other:
            sid = f.id + (" (waived)" if f.waived else "")
            loc = str(f.location) if f.location else ""
            parts.append(f"<tr class='{_row_class(f)}'><td>{e(f.severity.value)}</td><td>{e(sid)}</td>"
                         f"<td>{e(loc)}</td><td>{e(f.message)}</td></tr>")
        parts.append("</table>")
    if not r.findings:
        parts.append("<p>No findings.</p>")
    if any(f.data.get("severity_source") == "default" for p in packages for f in p.findings):
        parts.append(f"<p class='note'>{e(UNKNOWN_NOTE)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ----- SARIF --------------------------------------------------------------------


def _help(f: Finding) -> dict[str, str]:
    ids = [f.id, *_aliases(f)]
    fixed = ", ".join(f.data.get("fixed_versions") or []) or "no fixed version"
    reason = str(f.data.get("severity_reason") or "")
    text = (f"{f.id} ({', '.join(_aliases(f)) or 'no aliases'}) affects {f.data['package']}; fixed in: {fixed}. "
            f"Severity {_label(f)}" + (f": {reason}" if reason else "") + ".")

    links = " · ".join(f"[{i}]({advisory_url(i)})" for i in ids if advisory_url(i))
    return {"text": text, "markdown": f"{md_text(text)}\n\n{links}" if links else md_text(text)}


def render_sarif(results: Sequence[GateResult]) -> str:
    """SARIF 2.1.0 as the common formatter writes it, plus, for dependency-scan runs: each vulnerability
    result's message names the package's fix version and an unknown severity as such; each advisory rule
    gets ``help`` text with its aliases, fixed versions and links."""
    doc = json.loads(_common_sarif(results))
    for r, run in zip(results, doc["runs"], strict=True):
        if r.gate != GATE:
            continue
        packages, _other = by_package(r)
        advice = {(p.package, p.version): (p, _plain_advice(p)) for p in packages}
        rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
        for f, res in zip(r.findings, run["results"], strict=True):
            if not _is_vulnerability(f):
                continue
            p, text = advice[(str(f.data["package"]), str(f.data["installed_version"]))]
            extra = f"; severity {_label(f)}" if f.data.get("severity_source") == "default" else ""
            res["message"]["text"] = f"{f.message}; for {p.package} {p.version}: {text}{extra}"
            props = res.setdefault("properties", {})
            props["severity_source"] = f.data.get("severity_source")
            if p.upgrade and p.upgrade.get("fix_version") and f.id in (p.upgrade.get("fixes") or []):
                props["fix_version"] = p.upgrade["fix_version"]
            rules[f.id].setdefault("help", _help(f))
    return json.dumps(doc, indent=2) + "\n"


def render(result: GateResult, fmt: str, *, color: bool = False) -> str:
    """``fmt`` (table, markdown, html, sarif) for a dependency-scan result; other formats are the common ones."""
    if fmt == "table":
        return render_table([result], color=color)
    if fmt == "markdown":
        return render_markdown(result)
    if fmt == "html":
        return render_html(result)
    if fmt == "sarif":
        return render_sarif([result])
    from kfp_gates.components.common.formats import render as common_render

    return common_render([result], fmt)
