"""The body of the ``policy_gate`` component, testable without KFP: read inputs, run the gate, publish."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.publish import MetricsSink, publish
from kfp_gates.components.common.result import GateResult

from .gate import input_document, run


def _read_result(path: str) -> GateResult:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputNotFoundError(f"gate result cannot be read: {exc.strerror}", where=path) from None
    try:
        return GateResult.from_json(text)
    except ValueError as exc:
        raise ConfigError(f"not a kfp-gates result: {str(exc).splitlines()[0]}", where=path) from None


def policy_step(
    *,
    metrics: Mapping[str, Any] | None,
    result_paths: Sequence[str],
    policy: str,
    tier: str,
    rego: str,
    result_path: str,
    html_path: str,
    markdown_path: str,
    metrics_sink: MetricsSink,
    result_metadata: MutableMapping[str, Any] | None = None,
) -> str:
    """Build the input document from the metrics and the gate results, evaluate, publish; return the verdict.

    ``policy`` is GatePolicy YAML text (empty: the ``tier`` defaults), ``rego``
    Rego source that replaces the section's files (empty: the section's, else the
    shipped promotion rule). Configuration errors raise (the task fails: no verdict).
    """
    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    results = [_read_result(p) for p in result_paths]
    document = input_document(metrics, results)
    result = run(document, gate_policy, rego_text=rego if rego.strip() else None)
    return publish(
        result,
        result_path=result_path,
        html_path=html_path,
        markdown_path=markdown_path,
        metrics=metrics_sink,
        extra_metrics={
            "deny": result.metadata["counts"]["deny"],
            "warn": result.metadata["counts"]["warn"],
            "inputs_missing": result.metadata["counts"]["missing"],
        },
        result_metadata=result_metadata,
    )
