"""Model-file gate: block code-execution payloads in model artifacts without loading them.

``run_gate(path, policy)`` returns the gate's :class:`GateResult`;
:class:`ModelScanner` is the engine (formats by content, an opcode walker
that never unpickles, allow/deny lists kept as data in ``data/``).
The KFP component lives in :mod:`.component` and is imported lazily
through ``kfp_gates.components.scan_model``.
"""

from __future__ import annotations

from .gate import GATE, run_gate
from .globals_policy import GlobalsPolicy, Judgement, Verdict
from .scanner import ModelScanner, ScanLimits, ScanReport

__all__ = ["GATE", "GlobalsPolicy", "Judgement", "ModelScanner", "ScanLimits", "ScanReport", "Verdict", "run_gate"]
