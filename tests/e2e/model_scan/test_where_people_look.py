"""What a person sees of a blocked run: the gate task's log and the enforcing task's error name the findings."""

# No `from __future__ import annotations`: KFP reads real annotations.

import pytest
from kfp import dsl

from kfp_gates.components import enforce_verdict, scan_model

from .test_component import _train


@dsl.pipeline(name="model-scan-log")
def _gated(payload: bool) -> None:
    train = _train(payload=payload)
    scan = scan_model(model=train.outputs["model"])
    enforce_verdict(gate="model_scan", verdict=scan.outputs["Output"], result=scan.outputs["result"])


def test_blocked_run_names_the_gate_and_its_findings_in_log_and_error(kfp_local, capfd):
    with pytest.raises(RuntimeError):
        _gated(payload=True)
    out, err = capfd.readouterr()
    text = out + err
    # the scan task's log: verdict, the finding id and what it is
    assert "kfp-gates: model_scan verdict fail" in text
    assert "KFPG-MS-DANGEROUS-GLOBAL" in text and "os.system" in text.replace("posix.system", "os.system")
    # the enforcing task's error names the gate and the finding
    assert "gate 'model_scan' blocked the pipeline" in text
    blocked = text[text.index("gate 'model_scan' blocked the pipeline"):]
    assert "KFPG-MS-DANGEROUS-GLOBAL" in blocked


def test_a_clean_run_with_the_result_wired_passes(kfp_local):
    _gated(payload=False)  # raises if enforcement blocked
