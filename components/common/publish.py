"""Publish a gate's result the same way from every KFP component.

Every gate component ends the same way: write the result JSON, an HTML and a
Markdown report, log metrics, print one line for the task log and return the
verdict. :func:`publish` is that ending, written once. It takes plain paths
and any object with a ``log_metric(name, value)`` method (KFP's
``dsl.Metrics`` artifact), so this module imports no KFP and is tested
without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Protocol

from .enforcement import log_summary
from .formats import render_html, render_markdown
from .result import GateResult
from .severity import Decision

Renderer = Callable[[GateResult], str]


class MetricsSink(Protocol):
    """What :func:`publish` needs from a metrics artifact (``kfp.dsl.Metrics`` has it)."""

    def log_metric(self, metric: str, value: float, /) -> None: ...


def standard_metrics(result: GateResult) -> dict[str, float]:
    """The metrics every gate logs: ``findings_<severity>`` (non-waived, every severity) and ``blocked`` (1/0)."""
    out = {f"findings_{severity}": float(count) for severity, count in result.counts().items()}
    out["blocked"] = 1.0 if result.decision is Decision.FAIL else 0.0
    return out


def publish(
    result: GateResult,
    *,
    result_path: str,
    html_path: str | None = None,
    markdown_path: str | None = None,
    metrics: MetricsSink | None = None,
    extra_metrics: Mapping[str, float] | None = None,
    result_metadata: MutableMapping[str, Any] | None = None,
    title: str | None = None,
    html_renderer: Renderer | None = None,
    markdown_renderer: Renderer | None = None,
) -> str:
    """Write ``result`` and its reports, log its metrics, print a summary line; return the verdict.

    Guarantees, in this order:

    * ``result_path`` holds ``result.to_json()`` (the :class:`GateResult` JSON,
      readable with ``GateResult.from_json``). It is written first, so the
      verdict is on disk even if a report fails to render.
    * ``html_path`` / ``markdown_path``, when given, hold the HTML and Markdown
      reports: :func:`~.formats.render_html` (with ``title``, default
      ``"kfp-gates: <gate>"``) and :func:`~.formats.render_markdown`, unless a
      gate passes its own ``html_renderer`` / ``markdown_renderer``.
    * ``metrics``, when given, receives ``findings_<severity>`` for every
      severity (non-waived findings, zeros included), ``blocked`` (1 when the
      decision is ``fail``, else 0) and then ``extra_metrics``, all as floats.
      An extra metric may not reuse one of the standard names (ValueError,
      raised before anything is written).
    * ``result_metadata``, when given (the result artifact's ``metadata``),
      gets ``decision`` and ``subject_sha256``.
    * The task log's summary (:func:`~.enforcement.log_summary`) is printed to
      stdout: ``kfp-gates: <gate> verdict <verdict> for <name> sha256:<digest>
      (<counts>)``, the top findings with their ids, and where the reports are.

    The return value is ``result.decision.value``: ``pass``, ``warn`` or ``fail``.
    """
    values = standard_metrics(result)
    for name, value in (extra_metrics or {}).items():
        if name in values:
            raise ValueError(f"extra metric {name!r} collides with a standard gate metric")
        values[name] = float(value)

    Path(result_path).write_text(result.to_json(), encoding="utf-8")
    if html_path is not None:
        if html_renderer is not None:
            page = html_renderer(result)
        else:
            page = render_html([result], title=title or f"kfp-gates: {result.gate.replace('_', ' ')}")
        Path(html_path).write_text(page, encoding="utf-8")
    if markdown_path is not None:
        text = markdown_renderer(result) if markdown_renderer is not None else render_markdown([result])
        Path(markdown_path).write_text(text, encoding="utf-8")
    if metrics is not None:
        for name, value in values.items():
            metrics.log_metric(name, value)
    if result_metadata is not None:
        result_metadata["decision"] = result.decision.value
        result_metadata["subject_sha256"] = result.subject.sha256 or ""

    verdict = result.decision.value
    # The task log is where a blocked run is read first: the verdict, top findings and where the reports are.
    reports = {"result": result_path, "html report": html_path, "markdown report": markdown_path}
    print(log_summary(result, reports), end="", flush=True)
    return verdict


__all__ = ["MetricsSink", "Renderer", "publish", "standard_metrics"]
