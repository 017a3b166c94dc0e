"""The enforcing half of "report, then enforce".

A gate task writes its verdict and reports and always succeeds, because KFP
never publishes the output artifacts of a failed task. This component runs
next, and fails the pipeline unless the verdict is ``pass`` or ``warn``: any
other value, including an empty or garbled one, blocks (fail closed).
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from ._component import gate_component


@gate_component
def enforce_verdict(gate: str, verdict: str) -> None:
    """Fail this task (and so the pipeline) unless ``verdict`` is 'pass' or 'warn'."""
    if verdict not in ("pass", "warn"):
        raise RuntimeError(f"kfp-gates: gate {gate!r} blocked the pipeline (verdict {verdict!r})")
    print(f"kfp-gates: gate {gate!r} verdict {verdict}: continuing")
