"""KFP component ``scan_model``: report, then enforce.

The task scans the model artifact (a file or a directory) without loading
it, writes the result JSON, an HTML and a Markdown report and the metrics,
and succeeds whenever it could decide, so the reports are published even
for a blocked model. It returns the verdict (``pass`` | ``warn`` | ``fail``);
``enforce_verdict`` (or a ``dsl.If`` on the verdict) then stops the pipeline
before the model is registered or served::

    scan = scan_model(model=train.outputs["model"])
    gate = enforce_verdict(gate="model_scan", verdict=scan.outputs["Output"], result=scan.outputs["result"])
    register(model=train.outputs["model"]).after(gate)

An invalid policy or allow entry, or a missing model, fails the task itself
(fail closed): there is no verdict to report.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def scan_model(
    model: dsl.Input[dsl.Model],
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    policy: str = "",
    tier: str = "standard",
    allow: str = "",
) -> str:
    """Scan ``model`` for code-execution payloads; return the verdict.

    ``policy`` is GatePolicy YAML text (empty: the ``tier`` defaults);
    ``allow`` lists extra trusted globals, ``module.name``, separated by
    commas or newlines.
    """
    from pathlib import Path

    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.model_scan import run_gate
    from kfp_gates.components.model_scan.report import render_html, render_markdown

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    extra = tuple(a.strip() for a in allow.replace("\n", ",").split(",") if a.strip())
    path = Path(model.path)
    gate_result = run_gate(path, gate_policy, allow=extra, subject_name=model.name or path.name)
    return publish(
        gate_result,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        markdown_renderer=render_markdown,  # file names and globals come from the model: escaped
        html_renderer=render_html,  # lists the scanned files, also when the scan passes
        metrics=metrics,
        extra_metrics={"files_scanned": len(gate_result.metadata.get("files", []))},
        result_metadata=result.metadata,
    )
