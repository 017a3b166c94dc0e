"""KFP component ``policy_gate``: Rego over the run's metrics and the gate results decides promotion.

Report, then enforce: the task evaluates the policy, writes the result JSON, an
HTML and a Markdown report and the metrics, and returns the verdict;
``enforce_verdict`` then stops the pipeline before the model is promoted::

    scan = scan_model(model=train.outputs["model"])
    decision = policy_gate(model_metrics=train.outputs["metrics"], gate_result_1=scan.outputs["result"],
                           policy=policy)
    ok = enforce_verdict(gate="policy_gate", verdict=decision.output, result=decision.outputs["result"])
    promote(model=train.outputs["model"]).after(ok)

The metrics input is ``model_metrics`` (its metadata: what ``log_metric``
wrote), because ``metrics`` is the output every gate component has. Gate
results come in as up to eight optional ``gate_result_<n>`` artifacts (KFP has
no optional list of artifacts); each is keyed by its own ``gate`` field in the
input document. Rego that does not compile, an invalid policy, or two results
of one gate fail the task itself (fail closed): there is no verdict to report.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def policy_gate(
    model_metrics: dsl.Input[dsl.Metrics],
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    gate_result_1: dsl.Input[dsl.Artifact] = None,
    gate_result_2: dsl.Input[dsl.Artifact] = None,
    gate_result_3: dsl.Input[dsl.Artifact] = None,
    gate_result_4: dsl.Input[dsl.Artifact] = None,
    gate_result_5: dsl.Input[dsl.Artifact] = None,
    gate_result_6: dsl.Input[dsl.Artifact] = None,
    gate_result_7: dsl.Input[dsl.Artifact] = None,
    gate_result_8: dsl.Input[dsl.Artifact] = None,
    policy: str = "",
    tier: str = "standard",
    rego: str = "",
) -> str:
    """Evaluate the Rego policy on ``model_metrics`` and the gate results; return the verdict.

    ``policy`` is GatePolicy YAML text (empty: the ``tier`` defaults; the
    thresholds are ``gates.policy_gate.data``); ``rego`` is Rego source that
    replaces the policy's Rego files (empty: the section's files, else the
    shipped promotion rule).
    """
    from kfp_gates.components.rego_policy.steps import policy_step

    inputs = [gate_result_1, gate_result_2, gate_result_3, gate_result_4,
              gate_result_5, gate_result_6, gate_result_7, gate_result_8]
    return policy_step(
        metrics=dict(model_metrics.metadata or {}),
        result_paths=[r.path for r in inputs if r is not None],
        policy=policy,
        tier=tier,
        rego=rego,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics_sink=metrics,
        result_metadata=result.metadata,
    )
