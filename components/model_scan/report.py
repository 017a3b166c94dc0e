"""The model scan's Markdown report, with every data-derived string escaped.

The KFP UI renders ``system.Markdown`` itself, outside the sandboxed iframe that holds HTML reports,
so a file name, archive member or global taken from a model (``<img src=x onerror=...>.pkl``,
``[click](javascript:...)``) must reach it as text: HTML is entity-escaped and Markdown syntax is
backslash-escaped in each value, never only pipes and newlines.
"""

from __future__ import annotations

import html
import re

from kfp_gates.components.common.result import GateResult

# Markdown syntax that can start a link, image, code span, emphasis or table cell anywhere in a line. (Line-start
# syntax - '#', '-', '1.' - cannot occur: every value is placed after other text, on one line.)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~])")


def md_text(value: object) -> str:
    """``value`` as inert Markdown text: one line, HTML entities escaped, Markdown syntax escaped."""
    text = " ".join(str(value).split())
    text = html.escape(text, quote=True)
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(result: GateResult) -> str:
    """One model-scan result as Markdown (the same content as the common report, escaped throughout)."""
    r = result
    icon = {"pass": "✅", "warn": "⚠️", "fail": "❌"}[r.decision.value]
    out = [f"## {icon} {md_text(r.gate)}: {r.decision.value.upper()}\n"]
    out.append(f"- **Subject:** {md_text(r.subject.name)} (sha256 {md_text(r.subject.sha256 or 'not read')})")
    out.append(f"- **Tool:** {md_text(r.tool.name)} {md_text(r.tool.version)}")
    out.append(f"- **Checked:** {md_text(r.started_at.isoformat())} → {md_text(r.finished_at.isoformat())}")
    counts = ", ".join(f"{n} {s}" for s, n in r.counts().items() if n) or "none"
    out.append(f"- **Findings:** {md_text(counts)}\n")
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
    return "\n".join(out) + "\n"
