"""The kfp.local fixture runs a real pipeline whose component imports kfp_gates."""

# No `from __future__ import annotations` here: KFP reads real annotations.


import json

from kfp import dsl


@dsl.component(base_image="python:3.11-slim")
def _result_probe(name: str, report: dsl.Output[dsl.Artifact]) -> str:
    # Runs in a subprocess; imports must be inside the body (lightweight component).
    from kfp_gates.components.common.digest import sha256_bytes
    from kfp_gates.components.common.gate import GateSettings, finalize
    from kfp_gates.components.common.result import Subject, Tool, utcnow

    result = finalize(
        gate="probe",
        subject=Subject(name=name, digest={"sha256": sha256_bytes(name.encode())}),
        tool=Tool(name="probe", version="1"),
        findings=[],
        settings=GateSettings(),
        started_at=utcnow(),
    )
    with open(report.path, "w") as fh:
        fh.write(result.to_json())
    return result.decision.value


@dsl.pipeline(name="probe-pipeline")
def _probe_pipeline(name: str = "hello") -> str:
    return _result_probe(name=name).outputs["Output"]


def test_kfp_local_runs_component_that_imports_kfp_gates(kfp_local):
    task = _probe_pipeline(name="dataset.csv")
    assert task.output == "pass"
    reports = list(kfp_local.rglob("report"))
    assert len(reports) == 1
    data = json.loads(reports[0].read_text())
    assert data["gate"] == "probe"
    assert data["subject"]["name"] == "dataset.csv"
