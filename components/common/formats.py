"""Render gate results for people and for machines.

Formatters only format: they take a list of :class:`GateResult` and return
text. ``table`` is for terminals, ``json`` is the result model itself,
``markdown`` and ``html`` are what the KFP UI shows, ``sarif`` (2.1.0) is for
GitHub code scanning.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence

from .result import Finding, GateResult
from .severity import Decision, Severity

FORMATS = ("table", "json", "markdown", "sarif", "html")

_COLORS = {"pass": "\033[32m", "warn": "\033[33m", "fail": "\033[31m"}
_RESET = "\033[0m"


def _verdict(d: Decision, color: bool) -> str:
    word = d.value.upper()
    return f"{_COLORS[d.value]}{word}{_RESET}" if color else word


def _sorted(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.waived, -f.severity.rank, f.id))


def render_table(results: Sequence[GateResult], *, color: bool = False, max_findings: int = 50) -> str:
    lines: list[str] = []
    for r in results:
        counts = ", ".join(f"{n} {s}" for s, n in r.counts().items() if n)
        lines.append(
            f"{_verdict(r.decision, color)}  {r.gate}  {r.subject.name}  sha256:{(r.subject.sha256 or 'not-read')[:12]}"
            + (f"  ({counts})" if counts else "")
        )
        shown = _sorted(r.findings)
        for f in shown[:max_findings]:
            loc = f"  {f.location}" if f.location and str(f.location) else ""
            tag = " [waived]" if f.waived else ""
            lines.append(f"  {f.severity.value:<8} {f.id}{tag}{loc}")
            lines.append(f"           {f.message}")
        if len(shown) > max_findings:
            lines.append(f"  ... {len(shown) - max_findings} more findings (use --format json)")
    return "\n".join(lines) + "\n"


def render_json(results: Sequence[GateResult]) -> str:
    if len(results) == 1:
        return results[0].to_json() + "\n"
    return json.dumps([r.to_dict() for r in results], indent=2) + "\n"


# Markdown punctuation that could start emphasis, a link, an image, a heading, a table cell,
# strikethrough or a code span; data-derived text gets each one backslash-escaped.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#!|~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_text(value: object) -> str:
    """``value`` as Markdown inline text that renders literally, on one line, safe in a table cell.

    The KFP UI renders Markdown itself (outside the HTML iframe sandbox) and
    passes raw HTML through, so every string that comes from data (a column
    value, a file name, a finding message) goes through this: ``&``, ``<`` and
    ``>`` become entities (no tag, no autolink), Markdown punctuation is
    backslash-escaped (no link, image, emphasis or cell break), and line
    breaks become spaces (no new block).
    """
    text = html.escape(str(value), quote=False)
    return _LINE_BREAKS.sub(" ", _MD_PUNCT.sub(r"\\\1", text))


def md_code(value: object) -> str:
    """``value`` for use inside a Markdown code span (`` `...` ``), on one line, safe in a table cell.

    A code span shows its content literally (HTML inside is text), but a
    backtick would end it and nothing can be escaped inside it, so backticks
    become ``'``; ``|`` is escaped for GFM tables and line breaks become spaces.
    """
    return _LINE_BREAKS.sub(" ", str(value).replace("`", "'").replace("|", "\\|"))


def markdown_summary(r: GateResult) -> list[str]:
    """The heading and summary lines every gate's Markdown report starts with (verdict, subject, tool, counts)."""
    icon = {"pass": "✅", "warn": "⚠️", "fail": "❌"}[r.decision.value]
    counts = ", ".join(f"{n} {s}" for s, n in r.counts().items() if n) or "none"
    return [
        f"## {icon} {r.gate}: {r.decision.value.upper()}\n",  # gate names are ours: identifiers, no markup
        f"- **Subject:** {md_text(r.subject.name)} (sha256 {md_text(r.subject.sha256 or 'not read')})",
        f"- **Tool:** {md_text(r.tool.name)} {md_text(r.tool.version)}",
        f"- **Checked:** {r.started_at.isoformat()} → {r.finished_at.isoformat()}",
        f"- **Findings:** {counts}\n",
    ]


def render_markdown(results: Sequence[GateResult]) -> str:
    out: list[str] = []
    for r in results:
        out.extend(markdown_summary(r))
        if r.findings:
            out.append("| severity | id | location | message |")
            out.append("|---|---|---|---|")
            for f in _sorted(r.findings):
                sid = f"{f.id} (waived)" if f.waived else f.id
                loc = md_text(f.location) if f.location else ""
                out.append(f"| {f.severity.value} | {md_text(sid)} | {loc} | {md_text(f.message)} |")
            out.append("")
    return "\n".join(out) + "\n"


_HTML_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h2{margin-bottom:.2em} .pass{color:#1a7f37} .warn{color:#9a6700} .fail{color:#cf222e}
table{border-collapse:collapse;margin:.5em 0 1.5em} td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
tr.sev-critical td,tr.sev-high td{background:#ffebe9} tr.sev-medium td{background:#fff8c5} tr.waived td{color:#6e7781}
code{font-size:90%}
"""


def render_html(results: Sequence[GateResult], *, title: str = "kfp-gates report") -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
             f"<style>{_HTML_STYLE}</style></head><body><h1>{e(title)}</h1>"]
    for r in results:
        d = r.decision.value
        parts.append(f"<h2 class='{d}'>{e(r.gate)}: {d.upper()}</h2>")
        parts.append(
            f"<p>Subject <code>{e(r.subject.name)}</code> sha256 <code>{e(r.subject.sha256 or 'not read')}</code><br>"
            f"Tool {e(r.tool.name)} {e(r.tool.version)} · {e(r.started_at.isoformat())}</p>"
        )
        if r.findings:
            parts.append("<table><tr><th>severity</th><th>id</th><th>location</th><th>message</th></tr>")
            for f in _sorted(r.findings):
                cls = f"sev-{f.severity.value}" + (" waived" if f.waived else "")
                sid = f.id + (" (waived)" if f.waived else "")
                loc = str(f.location) if f.location else ""
                parts.append(
                    f"<tr class='{cls}'><td>{e(f.severity.value)}</td><td>{e(sid)}</td>"
                    f"<td>{e(loc)}</td><td>{e(f.message)}</td></tr>"
                )
            parts.append("</table>")
        else:
            parts.append("<p>No findings.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _sarif_result(f: Finding) -> dict:
    res: dict = {
        "ruleId": f.id,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "properties": {"severity": f.severity.value},
    }
    loc = f.location
    if loc is not None and loc.path:
        physical: dict = {"artifactLocation": {"uri": loc.path}}
        if loc.line is not None:
            region: dict = {"startLine": loc.line}
            if loc.column is not None:
                region["startColumn"] = loc.column
            physical["region"] = region
        elif loc.offset is not None:
            physical["region"] = {"byteOffset": loc.offset}
        entry: dict = {"physicalLocation": physical}
        if loc.member:
            entry["logicalLocations"] = [{"name": loc.member, "kind": "member"}]
        res["locations"] = [entry]
    if f.waiver is not None:
        res["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": f"{f.waiver.reason} (owner {f.waiver.owner}, "
             f"expires {f.waiver.expires})"}
        ]
    return res


_SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                      Severity.LOW: "2.0", Severity.INFO: "0.0"}


def _security_severity(f: Finding) -> str:
    score = f.data.get("cvss_score")
    return f"{float(score):.1f}" if isinstance(score, int | float) else _SECURITY_SEVERITY[f.severity]


def render_sarif(results: Sequence[GateResult]) -> str:
    runs = []
    for r in results:
        rules: dict[str, dict] = {}
        for f in r.findings:
            rule = rules.setdefault(
                f.id,
                {
                    "id": f.id,
                    "shortDescription": {"text": f.message[:200] or f.id},
                    "defaultConfiguration": {"level": _SARIF_LEVEL[f.severity]},
                    # GitHub code scanning ranks security results by this (a CVSS-like number as text).
                    "properties": {"tags": ["security"], "security-severity": _security_severity(f)},
                },
            )
            url = f.data.get("url")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                rule.setdefault("helpUri", url)
        runs.append(
            {
                "tool": {"driver": {"name": f"kfp-gates {r.gate}", "version": r.tool.version,
                                    "rules": list(rules.values())}},
                "results": [_sarif_result(f) for f in r.findings],
                "properties": {"decision": r.decision.value, "subject": r.subject.model_dump(),
                               "tool": r.tool.model_dump()},
            }
        )
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}
    return json.dumps(doc, indent=2) + "\n"


RENDERERS: dict[str, Callable[[Sequence[GateResult]], str]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
    "html": render_html,
}


def render(results: Sequence[GateResult], fmt: str) -> str:
    try:
        return RENDERERS[fmt](results)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
