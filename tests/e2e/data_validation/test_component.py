"""validate_data under kfp.local: reports are published even when the data fails, and training never starts."""

# No `from __future__ import annotations`: KFP reads real annotations.

import json
from pathlib import Path

import pytest
from kfp import dsl

from kfp_gates.components import enforce_verdict, validate_data

SUITE = json.dumps({
    "name": "e2e",
    "expectations": [
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": ["id", "age", "label"], "exact_match": True}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["cat", "dog"]}},
    ],
})
CLEAN = "id,age,label\n1,34,cat\n2,51,dog\n3,29,cat\n"
DEFECTIVE = "id,age,label\n1,34,cat\n2,510,dog\n2,29,<script>alert(1)</script>\n"


@dsl.component(base_image="python:3.11-slim")
def _prepare(text: str, dataset: dsl.Output[dsl.Dataset]) -> None:
    with open(dataset.path, "w") as fh:
        fh.write(text)


@dsl.component(base_image="python:3.11-slim")
def _train(dataset: dsl.Input[dsl.Dataset], marker: str) -> str:
    with open(marker, "w") as fh:
        fh.write("trained")
    return "model"


@dsl.pipeline(name="data-gate-e2e")
def _pipeline(text: str, suite: str, marker: str) -> str:
    prep = _prepare(text=text)
    check = validate_data(dataset=prep.outputs["dataset"], suite=suite)
    gate = enforce_verdict(gate="data_validation", verdict=check.outputs["Output"])
    train = _train(dataset=prep.outputs["dataset"], marker=marker).after(gate)
    return train.output


def _reports(root: Path, name: str) -> list[Path]:
    return sorted(p for p in root.rglob(name) if p.is_file())


def test_clean_data_passes_and_training_runs(kfp_local, tmp_path):
    marker = tmp_path / "trained.txt"
    task = _pipeline(text=CLEAN, suite=SUITE, marker=str(marker))
    assert task.output == "model"
    assert marker.read_text() == "trained"
    result = json.loads(_reports(kfp_local, "result")[0].read_text())
    assert result["decision"] == "pass"
    assert result["gate"] == "data_validation"


def test_failing_data_publishes_reports_and_blocks_training(kfp_local, tmp_path):
    marker = tmp_path / "trained.txt"
    with pytest.raises(RuntimeError):
        _pipeline(text=DEFECTIVE, suite=SUITE, marker=str(marker))
    assert not marker.exists(), "training ran although the data gate failed"

    result = json.loads(_reports(kfp_local, "result")[0].read_text())
    assert result["decision"] == "fail"
    ids = {f["id"] for f in result["findings"]}
    assert ids == {"expect_column_values_to_be_unique:id", "expect_column_values_to_be_between:age",
                   "expect_column_values_to_be_in_set:label"}
    import hashlib
    assert result["subject"]["digest"]["sha256"] == hashlib.sha256(DEFECTIVE.encode()).hexdigest()
    assert result["subject"]["name"].endswith("/prepare/dataset")  # the artifact's URI

    html = _reports(kfp_local, "html_report")[0].read_text()
    assert "FAIL" in html and "age" in html
    assert "<script>alert(1)</script>" not in html  # data values are escaped
    assert "&lt;script&gt;" in html
    markdown = _reports(kfp_local, "markdown_report")[0].read_text()
    assert "**FAIL**" in markdown and "**age**" in markdown
    # kfp.local records Metrics in the task's executor output.
    executor = next(p for p in _reports(kfp_local, "executor_output.json") if p.parent.name == "validate-data")
    metrics = json.loads(executor.read_text())["artifacts"]["metrics"]["artifacts"][0]["metadata"]
    assert metrics["expectations_evaluated"] == 4
    assert metrics["success_percent"] == 25.0
    assert not any(p.parent.name == "train" for p in _reports(kfp_local, "executor_output.json"))
