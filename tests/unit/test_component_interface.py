"""Every gate component has the same public interface, so pipelines can wire any gate the same way.

Inputs ``policy`` (GatePolicy YAML text) and ``tier``; outputs ``result``,
``html_report``, ``markdown_report`` and ``metrics``, and the verdict as the
return value. Each one publishes through ``common.publish``.
"""

# No `from __future__ import annotations`: kept free of it like every file that touches KFP components.
import importlib

import pytest

GATE_COMPONENTS = [
    "validate_data",
    "scan_dependencies",
    "scan_container_image",
    "scan_model",
    "sign_model",
    "verify_model",
    "check_secret_age",
    "launch_isolated",
    "verify_source",
]

COMMON_INPUTS = {"policy": "String", "tier": "String"}
COMMON_OUTPUTS = {
    "result": "system.Artifact@0.0.1",
    "html_report": "system.HTML@0.0.1",
    "markdown_report": "system.Markdown@0.0.1",
    "metrics": "system.Metrics@0.0.1",
    "Output": "String",  # the verdict
}
OLD_NAMES = {"policy_yaml", "report_html", "report_md", "report_markdown"}


def _component(name: str):
    return getattr(importlib.import_module("kfp_gates.components"), name)


@pytest.mark.parametrize("name", GATE_COMPONENTS)
def test_gate_component_has_the_common_inputs_and_outputs(name):
    spec = _component(name).component_spec
    inputs = {k: v.type for k, v in spec.inputs.items()}
    outputs = {k: v.type for k, v in spec.outputs.items()}
    assert {k: inputs.get(k) for k in COMMON_INPUTS} == COMMON_INPUTS
    assert {k: outputs.get(k) for k in COMMON_OUTPUTS} == COMMON_OUTPUTS
    assert not OLD_NAMES & (set(inputs) | set(outputs))
    assert spec.inputs["policy"].default == ""
    assert spec.inputs["tier"].default == "standard"


@pytest.mark.parametrize("name", GATE_COMPONENTS)
def test_gate_component_publishes_through_the_shared_helper(name):
    code = "\n".join(_component(name).component_spec.implementation.container.command)
    assert "from kfp_gates.components.common.publish import publish" in code
    assert "log_metric(" not in code, "metrics go through publish(extra_metrics=...)"
