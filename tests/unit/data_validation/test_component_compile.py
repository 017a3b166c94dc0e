"""validate_data compiles into a pipeline with a pinned image, no runtime installs, and UI report outputs."""

# No `from __future__ import annotations` here: KFP reads real annotations.

import yaml
from kfp import compiler, dsl

from kfp_gates.components import enforce_verdict, validate_data
from kfp_gates.components._image import IMAGE
from kfp_gates.components.common.kfp_ir import load_pipeline


@dsl.component(base_image="python:3.11-slim")
def _extract(dataset: dsl.Output[dsl.Dataset]):
    open(dataset.path, "w").write("a\n1\n")


@dsl.pipeline(name="validate-then-train")
def _pipeline(suite: str):
    data = _extract().outputs["dataset"]
    check = validate_data(dataset=data, suite=suite)
    enforce_verdict(gate="data_validation", verdict=check.outputs["Output"])


def test_compiled_component(tmp_path) -> None:
    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(_pipeline, str(out))
    pipeline = load_pipeline(out)
    (ours,) = [e for e in pipeline.executors.values() if "validate-data" in e.label]
    assert ours.image == IMAGE  # the configured image; a real digest is checked in test_no_stale_verdicts
    assert not ours.runtime_pip_installs()
    assert "from kfp_gates.components.data_validation" in (ours.embedded_code or "")
    spec = yaml.safe_load(out.read_text().split("\n---\n")[0])
    outputs = spec["components"]["comp-validate-data"]["outputDefinitions"]["artifacts"]
    assert outputs["html_report"]["artifactType"]["schemaTitle"] == "system.HTML"
    assert outputs["markdown_report"]["artifactType"]["schemaTitle"] == "system.Markdown"
    assert outputs["metrics"]["artifactType"]["schemaTitle"] == "system.Metrics"
    inputs = spec["components"]["comp-validate-data"]["inputDefinitions"]
    assert inputs["artifacts"]["dataset"]["artifactType"]["schemaTitle"] == "system.Dataset"
    assert inputs["parameters"]["engine"]["defaultValue"] == "pandas"
