"""The isolation demo steps produce the verdicts they announce (real namespaces)."""

from __future__ import annotations

from pathlib import Path

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.pipelines.demo import SAMPLES
from kfp_gates.pipelines.demo_steps.isolation import STEPS


def test_demo_steps_give_their_expected_verdicts(tmp_path: Path, capfd) -> None:
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    assert [s.expect for s in STEPS] == ["pass", "fail"]
    for step in STEPS:
        result = step.run(policy, tmp_path)
        assert result.decision.value == step.expect, (step.title, result.findings)
    out = capfd.readouterr().out
    assert "requests from inside the sandbox: 0" in out and "BLOCKED" in out
