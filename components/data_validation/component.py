"""KFP component ``validate_data``: report, then enforce.

The task validates the dataset, writes the result JSON, an HTML and a
Markdown report and the metrics, and always succeeds when it could decide, so
the reports are published even when the data fails. It returns the verdict
(``pass`` | ``warn`` | ``fail``); ``enforce_verdict`` (or a ``dsl.If`` on the
verdict) then stops the pipeline before training starts::

    check = validate_data(dataset=prep.outputs["dataset"], suite=Path("suite.json").read_text())
    gate = enforce_verdict(gate="data_validation", verdict=check.outputs["Output"], result=check.outputs["result"])
    train(...).after(gate)

A suite or option that is invalid fails the task itself (fail closed): there
is no verdict to report.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def validate_data(
    dataset: dsl.Input[dsl.Dataset],
    suite: str,
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    engine: str = "pandas",
    data_format: str = "",
    delimiter: str = ",",
    header: bool = True,
    encoding: str = "utf-8",
    max_unexpected_values: int = 5,
    policy: str = "",
    tier: str = "standard",
) -> str:
    """Validate ``dataset`` against ``suite`` (GX suite JSON or YAML text); return the verdict."""
    from pathlib import Path

    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.data_validation import ValidationOptions, parse_suite, validate_data
    from kfp_gates.components.data_validation.readers import CsvOptions, detect_format
    from kfp_gates.components.data_validation.report import metrics as gate_metrics
    from kfp_gates.components.data_validation.report import render_html, render_markdown

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    effective = gate_policy.gate("data_validation")
    path = Path(dataset.path)
    fmt = data_format
    if not fmt:
        # KFP artifact files usually have no suffix: CSV unless the name says otherwise.
        try:
            fmt = detect_format(path)
        except Exception:  # noqa: BLE001 - no recognisable suffix
            fmt = "csv"
    options = ValidationOptions(
        engine=engine,
        data_format=fmt,
        csv=CsvOptions(delimiter=delimiter, header=header, encoding=encoding),
        max_unexpected_values=int(max_unexpected_values),  # compiled YAML defaults arrive as 5.0
    )
    gate_result = validate_data(
        path,
        parse_suite(suite, name="suite"),
        settings=GateSettings.from_effective(effective),
        options=options,
        subject_name=dataset.uri or dataset.name or path.name,  # the URI names the exact artifact
    )
    return publish(
        gate_result,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics=gate_metrics(gate_result),
        result_metadata=result.metadata,
        html_renderer=render_html,
        markdown_renderer=render_markdown,
    )
