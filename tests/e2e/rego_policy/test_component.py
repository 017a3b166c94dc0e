"""policy_gate under kfp.local: a model above the accuracy threshold is promoted, one below is stopped."""

# No `from __future__ import annotations`: KFP reads real annotations.

import json
from pathlib import Path

import pytest
from kfp import dsl

from kfp_gates.components import enforce_verdict, policy_gate, scan_model

POLICY = "tier: standard\ngates:\n  policy_gate:\n    data: {min_accuracy: 0.9}\n"


@dsl.component(base_image="python:3.11-slim")
def _train(accuracy: float, model: dsl.Output[dsl.Model], metrics: dsl.Output[dsl.Metrics]) -> None:
    import pickle

    with open(model.path, "wb") as fh:
        pickle.dump({"coef": [0.25, -1.5]}, fh, protocol=4)
    metrics.log_metric("accuracy", accuracy)


@dsl.component(base_image="python:3.11-slim")
def _promote(model: dsl.Input[dsl.Model], marker: str) -> str:
    with open(marker, "w") as fh:
        fh.write("promoted")
    return "promoted"


@dsl.pipeline(name="policy-gate-e2e")
def _pipeline(accuracy: float, marker: str, policy: str) -> str:
    train = _train(accuracy=accuracy)
    scan = scan_model(model=train.outputs["model"])
    decision = policy_gate(
        model_metrics=train.outputs["metrics"], gate_result_1=scan.outputs["result"], policy=policy
    )
    ok = enforce_verdict(gate="policy_gate", verdict=decision.outputs["Output"], result=decision.outputs["result"])
    return _promote(model=train.outputs["model"], marker=marker).after(ok).output


def _policy_result(root: Path) -> dict:
    for p in sorted(root.rglob("result")):
        if p.is_file():
            data = json.loads(p.read_text())
            if data["gate"] == "policy_gate":
                return data
    raise AssertionError("no policy_gate result")


def test_accuracy_above_the_threshold_passes_and_is_promoted(kfp_local, tmp_path):
    marker = tmp_path / "promoted.txt"
    assert _pipeline(accuracy=0.95, marker=str(marker), policy=POLICY).output == "promoted"
    assert marker.read_text() == "promoted"
    result = _policy_result(kfp_local)
    assert result["decision"] == "pass" and result["subject"]["name"] == "policy input"
    assert result["metadata"]["input"] == {"metrics": ["accuracy"], "gates": ["model_scan"]}


def test_accuracy_below_the_threshold_publishes_reports_and_blocks_promotion(kfp_local, tmp_path):
    marker = tmp_path / "promoted.txt"
    with pytest.raises(RuntimeError):
        _pipeline(accuracy=0.80, marker=str(marker), policy=POLICY)
    assert not marker.exists(), "the model was promoted although the policy denied it"
    result = _policy_result(kfp_local)
    assert result["decision"] == "fail"
    assert [f["id"] for f in result["findings"]] == ["KFPG-POLICY-DENY"]
    assert "accuracy 0.8 is below the minimum 0.9" in result["findings"][0]["message"]
    md = next(p for p in sorted(kfp_local.rglob("markdown_report")) if "policy-gate" in str(p))
    assert "accuracy 0.8" in md.read_text()
