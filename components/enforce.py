"""The enforcing half of "report, then enforce".

A gate task writes its verdict and reports and always succeeds, because KFP
never publishes the output artifacts of a failed task. This component runs
next, and fails the pipeline unless the verdict is ``pass`` or ``warn``: any
other value, including an empty or garbled one, blocks (fail closed).
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp.dsl import Artifact, Input

from ._component import gate_component


@gate_component
def enforce_verdict(gate: str, verdict: str, result: Input[Artifact] = None) -> None:
    """Fail this task (and so the pipeline) unless ``verdict`` is 'pass' or 'warn'.

    Pass the gate's ``result`` artifact too and the error names the gate's top
    findings (the KFP UI shows it first), and a verdict that is not that
    result's decision blocks.
    """
    from kfp_gates.components.common.enforcement import enforce
    from kfp_gates.components.common.errors import GateBlocked

    try:
        enforce(gate, verdict, result.path if result is not None else None)
    except GateBlocked as exc:
        raise RuntimeError(f"kfp-gates: {exc.message}") from None
    print(f"kfp-gates: gate {gate!r} verdict {verdict}: continuing")
