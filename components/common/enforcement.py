"""What a person reads first when a gate blocks: the task log and the enforcing task's error.

:func:`log_summary` is the one screen every gate task prints to its log (the KFP
UI shows the log of a task before anything else); :func:`enforce` is the body of
the ``enforce_verdict`` component: it passes only ``pass``/``warn``, and when it
blocks, its error names the gate and its top findings, read from the gate's
result (and checked against it: a verdict that disagrees with its result blocks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .errors import GateBlocked
from .result import GateResult

TOP = 5  # findings shown in a log or an error: enough to act on, short enough to read in the UI


def _line(f_id: str, severity: str, message: str, where: str) -> str:
    text = " ".join(message.split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"  {severity:<8} {f_id}: {text}" + (f" [{where}]" if where else "")


def top_findings(result: GateResult, limit: int = TOP) -> list[str]:
    """The ``limit`` most severe non-waived findings, one line each, most severe first."""
    active = sorted(result.active_findings(), key=lambda f: f.severity, reverse=True)
    lines = [_line(f.id, f.severity.value, f.message, str(f.location or "")) for f in active[:limit]]
    if len(active) > limit:
        lines.append(f"  ... and {len(active) - limit} more (see the result artifact)")
    return lines


def log_summary(result: GateResult, reports: Mapping[str, str | None] | None = None) -> str:
    """One screen for the task log: verdict and subject, counts, top findings with ids, where the reports are."""
    subject = result.subject
    about = f"sha256:{subject.sha256}" if subject.known else "(subject not read: no digest)"
    counts = ", ".join(f"{n} {s}" for s, n in result.counts().items() if n) or "no findings"
    out = [f"kfp-gates: {result.gate} verdict {result.decision.value} for {subject.name} {about} ({counts})"]
    out += top_findings(result)
    for kind, path in (reports or {}).items():
        if path:
            out.append(f"  {kind}: {path}")
    return "\n".join(out) + "\n"


def enforce(gate: str, verdict: str, result_path: str | None = None) -> str:
    """Return ``verdict`` when it is ``pass`` or ``warn``; raise :class:`GateBlocked` otherwise.

    With ``result_path`` (the gate's result artifact) the error names its top
    findings, and a verdict that is not the result's own decision blocks (a
    wiring mistake or an edited output must not pass). Anything else —
    empty, garbled, a result that does not parse — blocks too.
    """
    result: GateResult | None = None
    if result_path:
        try:
            result = GateResult.from_json(Path(result_path).read_bytes())
        except (OSError, ValueError) as exc:
            raise GateBlocked(
                f"gate {gate!r}: its result could not be read ({type(exc).__name__}); cannot prove it passed",
                where=result_path,
            ) from None
        if result.decision.value != verdict:
            raise GateBlocked(
                f"gate {gate!r}: verdict {verdict!r} is not its result's decision {result.decision.value!r} "
                "(wire the verdict and the result of the same gate task)",
                where=result_path,
            )
    if verdict in ("pass", "warn"):
        return verdict
    detail = ""
    if result is not None:
        detail = f" for {result.subject.name}:\n" + "\n".join(top_findings(result))
    shown = json.dumps(verdict)
    raise GateBlocked(f"gate {gate!r} blocked the pipeline (verdict {shown}){detail}")
