"""Rego policy gate: Conftest-style ``deny``/``warn`` rules over the run's metrics and gate results.

``run(subject, policy)`` evaluates the policy on the input document
``{"metrics": {...}, "gates": {"<gate>": <GateResult dict>}}`` and returns the
gate's :class:`GateResult`; :class:`PolicyEngine` is the engine (regopy,
in-process, one interpreter per task). ``policies/promotion.rego`` is the
default rule: no deployment if accuracy is below ``data.min_accuracy``.
The KFP component lives in :mod:`.component` and is imported lazily through
``kfp_gates.components.rego_policy``.
"""

from __future__ import annotations

from .engine import DEFAULT_PACKAGE, Evaluation, PolicyEngine, RegoFile, TestOutcome, default_policy_dir, load_rego
from .gate import GATE, SUBJECT_NAME, build_engine, canonical_json, input_document, run

__all__ = [
    "DEFAULT_PACKAGE",
    "GATE",
    "SUBJECT_NAME",
    "Evaluation",
    "PolicyEngine",
    "RegoFile",
    "TestOutcome",
    "build_engine",
    "canonical_json",
    "default_policy_dir",
    "input_document",
    "load_rego",
    "run",
]
