"""The model scan's Markdown and HTML reports, with every data-derived string escaped.

Both list the files scanned (path, format, size) whatever the verdict: a passing report says what passed.

The KFP UI renders ``system.Markdown`` itself, outside the sandboxed iframe that holds HTML reports,
so a file name, archive member or global taken from a model (``<img src=x onerror=...>.pkl``,
``[click](javascript:...)``) must reach it as text: HTML is entity-escaped and Markdown syntax is
backslash-escaped in each value, never only pipes and newlines.
"""

from __future__ import annotations

import html

from kfp_gates.components.common import formats
from kfp_gates.components.common.formats import markdown_summary, md_text
from kfp_gates.components.common.result import GateResult


def render_markdown(result: GateResult) -> str:
    """One model-scan result as Markdown (the same content as the common report, escaped throughout)."""
    r = result
    out = markdown_summary(r)
    accepted = r.metadata.get("accepted_unanalysed") or []
    if accepted:
        out.append("- **Accepted unanalysed by the policy:** " + "; ".join(
            f"{md_text(a.get('path'))} ({md_text(a.get('format'))}): {md_text(a.get('reason'))}" for a in accepted))
        out.append("")
    if r.findings:
        out.append("| severity | id | location | message |")
        out.append("|---|---|---|---|")
        for f in sorted(r.findings, key=lambda f: (f.waived, -f.severity.rank, f.id)):
            sid = f"{f.id} (waived)" if f.waived else f.id
            loc = md_text(f.location) if f.location else ""
            out.append(f"| {md_text(f.severity.value)} | {md_text(sid)} | {loc} | {md_text(f.message)} |")
        out.append("")
    files, more = _scanned(r)
    out.append(f"### Scanned files ({len(files) + more})\n")
    if files:
        out.append("| path | format | size |")
        out.append("|---|---|---|")
        out.extend(f"| {md_text(p)} | {md_text(fmt)} | {md_text(size)} |" for p, fmt, size in files)
        if more:
            out.append(f"\n… and {more} more (every file is listed in result.json)")
    else:
        out.append("No files were scanned.")
    out.append("")
    return "\n".join(out) + "\n"


def render_html(result: GateResult) -> str:
    """The common HTML report of ``result`` followed by the files scanned (values entity-escaped)."""
    page = formats.render_html([result], title=f"kfp-gates: {result.gate.replace('_', ' ')}")
    files, more = _scanned(result)
    e = html.escape
    parts = [f"<h3>Scanned files ({len(files) + more})</h3>"]
    if files:
        parts.append("<table><tr><th>path</th><th>format</th><th>size</th></tr>")
        parts.extend(f"<tr><td><code>{e(p)}</code></td><td>{e(fmt)}</td><td>{e(size)}</td></tr>"
                     for p, fmt, size in files)
        parts.append("</table>")
        if more:
            parts.append(f"<p>… and {more} more (every file is listed in result.json)</p>")
    else:
        parts.append("<p>No files were scanned.</p>")
    head, tail = page.rsplit("</body>", 1)
    return head + "\n".join(parts) + "\n</body>" + tail


_MAX_LISTED = 1000  # a directory of shards: the report stays readable, result.json keeps every entry


def _scanned(result: GateResult) -> tuple[list[tuple[str, str, str]], int]:
    """(path, format, size) of the files scanned, at most ``_MAX_LISTED``, and how many more there are."""
    files = [f for f in result.metadata.get("files") or [] if isinstance(f, dict)]
    rows = [(str(f.get("path", "")), str(f.get("format", "unknown")), _size(f.get("size"))) for f in files]
    return rows[:_MAX_LISTED], max(0, len(rows) - _MAX_LISTED)


def _size(value: object) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return "—"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.1f} {unit} ({value:,} bytes)"
    return f"{value} bytes"
