"""The demo steps produce the verdicts they announce."""

from __future__ import annotations

from pathlib import Path

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.pipelines.demo import SAMPLES
from kfp_gates.pipelines.demo_steps import model_scan


def test_demo_steps_match_their_expected_verdicts(tmp_path: Path) -> None:
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    verdicts = [(step.run(policy, tmp_path).decision.value, step.expect) for step in model_scan.STEPS]
    assert verdicts == [("pass", "pass"), ("fail", "fail")]
