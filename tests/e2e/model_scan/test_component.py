"""scan_model under kfp.local: a clean model is registered, a trojaned one publishes its reports and stops."""

# No `from __future__ import annotations`: KFP reads real annotations.

import json
from pathlib import Path

import pytest
from kfp import dsl

from kfp_gates.components import enforce_verdict, scan_model


@dsl.component(base_image="python:3.11-slim")
def _train(payload: bool, model: dsl.Output[dsl.Model]) -> None:
    """Writes a pickle; with ``payload`` it carries a call to os.system (written, never loaded)."""
    import os
    import pickle

    class Payload:
        def __reduce__(self):
            return os.system, ("echo pwned",)

    state = {"coef": [0.25, -1.5], "intercept": 0.1}
    if payload:
        state["hook"] = Payload()
    with open(model.path, "wb") as fh:
        pickle.dump(state, fh, protocol=4)


@dsl.component(base_image="python:3.11-slim")
def _register(model: dsl.Input[dsl.Model], marker: str) -> str:
    with open(marker, "w") as fh:
        fh.write("registered")
    return "registered"


@dsl.pipeline(name="model-scan-e2e")
def _pipeline(payload: bool, marker: str) -> str:
    train = _train(payload=payload)
    scan = scan_model(model=train.outputs["model"])
    gate = enforce_verdict(gate="model_scan", verdict=scan.outputs["Output"])
    reg = _register(model=train.outputs["model"], marker=marker).after(gate)
    return reg.output


def _reports(root: Path, name: str) -> list[Path]:
    return sorted(p for p in root.rglob(name) if p.is_file())


def test_clean_model_passes_and_is_registered(kfp_local, tmp_path):
    marker = tmp_path / "registered.txt"
    task = _pipeline(payload=False, marker=str(marker))
    assert task.output == "registered"
    assert marker.read_text() == "registered"
    result = json.loads(_reports(kfp_local, "result")[0].read_text())
    assert result["gate"] == "model_scan" and result["decision"] == "pass"


def test_trojaned_model_publishes_reports_and_blocks_registration(kfp_local, tmp_path):
    marker = tmp_path / "registered.txt"
    with pytest.raises(RuntimeError):
        _pipeline(payload=True, marker=str(marker))
    assert not marker.exists(), "the model was registered although the scan failed"
    result = json.loads(_reports(kfp_local, "result")[0].read_text())
    assert result["decision"] == "fail"
    assert [f["data"]["global"] for f in result["findings"]] == ["posix.system"]
    html = _reports(kfp_local, "html_report")[0].read_text()
    assert "FAIL" in html and "posix.system" in html
    md = _reports(kfp_local, "markdown_report")[0].read_text()
    assert "KFPG-MS-DANGEROUS-GLOBAL" in md


def test_component_compiles_with_digest_pinned_image(tmp_path):
    from kfp import compiler

    out = tmp_path / "scan_model.yaml"
    compiler.Compiler().compile(scan_model, str(out))
    text = out.read_text()
    assert "@sha256:" in text
    assert "pip install" not in text
