"""Reports people read: an HTML page and a Markdown summary, and the metrics KFP shows.

Everything is rendered from the :class:`GateResult` alone (its ``metadata``
holds one row per expectation), so a report can be rebuilt from a stored
result. Every value that came from the data is escaped: a category named
``<script>`` must not run in the KFP UI.
"""

from __future__ import annotations

import html
import json
from typing import Any

from kfp_gates.components.common.formats import md_code, md_text
from kfp_gates.components.common.result import GateResult

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1b1b;max-width:1200px}
.verdict{font-size:1.4em;font-weight:600;padding:.4em .8em;border-radius:6px;display:inline-block}
.v-pass{background:#dafbe1;color:#1a7f37}.v-warn{background:#fff8c5;color:#9a6700}.v-fail{background:#ffebe9;color:#cf222e}
table{border-collapse:collapse;margin:.6em 0 1.4em;width:100%} td,th{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top} th{background:#f6f8fa}
tr.fail td,tr.error td{background:#ffebe9} tr.pass td.status{color:#1a7f37} tr.notrun td{color:#6e7781}
td.status{font-weight:600;white-space:nowrap} code{font-size:90%;word-break:break-all}
.cols span{display:inline-block;margin:2px;padding:2px 8px;border-radius:10px;background:#eef1f4}
.cols span.bad{background:#cf222e;color:#fff;font-weight:600}
.blocking{border-left:4px solid #cf222e;padding:.4em .8em;background:#ffebe9}
"""


def _stats(result: GateResult) -> dict[str, Any]:
    return dict(result.metadata.get("statistics") or {})


def metrics(result: GateResult) -> dict[str, float]:
    """Numbers for ``dsl.Output[dsl.Metrics]``: expectations evaluated, success percent, unexpected rows.

    ``unexpected_rows`` is the sum of the unexpected counts of the failed
    expectations (a row that fails two expectations counts twice).
    """
    s = _stats(result)
    rows = result.metadata.get("rows")
    return {
        "expectations_evaluated": float(s.get("evaluated", 0)),
        "expectations_failed": float(s.get("failed", 0)),
        "success_percent": float(s.get("success_percent", 0.0)),
        "unexpected_rows": float(s.get("unexpected_rows", 0)),
        "rows": float(rows or 0),
        "blocking_findings": float(sum(1 for f in result.active_findings() if f.severity >= _fail_on(result))),
    }


def _fail_on(result: GateResult) -> Any:
    from kfp_gates.components.common.severity import Severity

    return Severity.parse(result.policy.get("fail_on", "high"))


def _value_text(values: list[Any]) -> str:
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)


def render_html(result: GateResult) -> str:
    """A self-contained HTML page: verdict, dataset digest, one row per expectation, failing columns in red."""
    e = html.escape
    md = result.metadata
    suite = md.get("suite") or {}
    d = result.decision.value
    stats = _stats(result)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Data validation: {e(d.upper())} — {e(result.subject.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Data validation <span class='verdict v-{e(d)}'>{e(d.upper())}</span></h1>",
        "<table>",
        f"<tr><th>dataset</th><td><code>{e(result.subject.name)}</code></td></tr>",
        f"<tr><th>sha256</th><td><code>{e(result.subject.sha256 or 'not read')}</code></td></tr>",
        f"<tr><th>suite</th><td><code>{e(str(suite.get('name', '')))}</code> "
        f"(sha256 <code>{e(str(suite.get('sha256', ''))[:16])}…</code>)</td></tr>",
        f"<tr><th>engine</th><td>{e(str(md.get('engine', '')))} · {e(result.tool.name)} {e(result.tool.version)}"
        f" · {e(str(md.get('data_format', '')))}</td></tr>",
        f"<tr><th>rows</th><td>{e(str(md.get('rows') if md.get('rows') is not None else '—'))}</td></tr>",
        f"<tr><th>expectations</th><td>{stats.get('successful', 0)} of {stats.get('expectations', 0)} passed "
        f"({stats.get('success_percent', 0)}%)</td></tr>",
        f"<tr><th>checked</th><td>{e(result.started_at.isoformat())}</td></tr>",
        "</table>",
    ]
    if md.get("blocking_reason"):
        parts.append(f"<p class='blocking'>{e(str(md['blocking_reason']))}</p>")
    columns = md.get("columns") or []
    bad = set(md.get("failing_columns") or [])
    if columns or bad:
        parts.append("<h2>Columns</h2><p class='cols'>")
        for c in list(columns) + sorted(bad - set(columns)):
            label = c if c in columns else f"{c} (missing)"
            parts.append(f"<span class='{'bad' if c in bad else ''}'>{e(str(label))}</span>")
        parts.append("</p>")
    parts.append("<h2>Expectations</h2><table><tr><th>#</th><th>status</th><th>expectation</th><th>column</th>"
                 "<th>expected</th><th>observed</th><th>unexpected</th><th>example values</th></tr>")
    for row in md.get("expectations") or []:
        status = str(row.get("status", ""))
        css = {"not run": "notrun"}.get(status, status)
        unexpected = ""
        if row.get("unexpected_count") is not None:
            pct = row.get("unexpected_percent")
            unexpected = f"{row['unexpected_count']}" + (f" ({pct:.4g}%)" if pct is not None else "")
        observed = row.get("observed")
        parts.append(
            f"<tr class='{e(css)}'><td>{row.get('index', '')}</td><td class='status'>{e(status.upper())}</td>"
            f"<td><code>{e(str(row.get('type', '')))}</code></td><td>{e(str(row.get('column') or '—'))}</td>"
            f"<td><code>{e(str(row.get('expected', '')))}</code></td>"
            f"<td>{e(observed if isinstance(observed, str) else json.dumps(observed, ensure_ascii=False))}</td>"
            f"<td>{e(unexpected)}</td><td><code>{e(_value_text(row.get('values') or []))}</code></td></tr>"
        )
    parts.append("</table>")
    findings = result.findings
    parts.append(f"<h2>Findings ({len(findings)})</h2>")
    if findings:
        parts.append("<table><tr><th>severity</th><th>id</th><th>where</th><th>message</th></tr>")
        for f in findings:
            sid = f.id + (" (waived)" if f.waived else "")
            parts.append(f"<tr><td>{e(f.severity.value)}</td><td><code>{e(sid)}</code></td>"
                         f"<td>{e(str(f.location or ''))}</td><td>{e(f.message)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No findings.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# Every data-derived string goes through one of these: the KFP UI renders Markdown natively.
_md, _md_code = md_text, md_code


def render_markdown(result: GateResult) -> str:
    """A Markdown summary: verdict, digest, failed expectations first, then the passing ones."""
    md = result.metadata
    stats = _stats(result)
    icon = {"pass": "✅", "warn": "⚠️", "fail": "❌"}[result.decision.value]
    out = [
        f"## {icon} Data validation: {result.decision.value.upper()}",
        "",
        f"- **Dataset:** `{_md_code(result.subject.name)}` (sha256 `{_md_code(result.subject.sha256 or 'not read')}`)",
        f"- **Suite:** `{_md_code((md.get('suite') or {}).get('name', ''))}` · engine {_md(md.get('engine', ''))} · "
        f"rows {md.get('rows') if md.get('rows') is not None else '—'}",
        f"- **Expectations:** {stats.get('successful', 0)} of {stats.get('expectations', 0)} passed "
        f"({stats.get('success_percent', 0)}%), unexpected values {stats.get('unexpected_rows', 0)}",
    ]
    if md.get("failing_columns"):
        out.append(f"- **Failing columns:** {', '.join(f'**{_md(c)}**' for c in md['failing_columns'])}")
    if md.get("blocking_reason"):
        out.append(f"- **Blocked:** {_md(md['blocking_reason'])}")
    out += ["", "| status | expectation | column | expected | observed | examples |", "|---|---|---|---|---|---|"]
    rows = sorted(md.get("expectations") or [], key=lambda r: (r.get("status") == "pass", r.get("index", 0)))
    for r in rows:
        status = str(r.get("status", "")).upper()
        status = f"**{status}**" if status in ("FAIL", "ERROR") else status
        column = f"**{_md(r.get('column'))}**" if r.get("column") and status.startswith("**") else _md(
            r.get("column") or "—")
        observed = r.get("observed")
        observed_text = observed if isinstance(observed, str) else json.dumps(observed, ensure_ascii=False)
        out.append(f"| {status} | `{_md_code(r.get('type', ''))}` | {column} | {_md(r.get('expected', ''))} | "
                   f"{_md(observed_text)} | {_md(_value_text(r.get('values') or []))} |")
    return "\n".join(out) + "\n"
