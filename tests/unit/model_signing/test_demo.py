"""The demo steps produce the verdicts they announce, offline."""

from __future__ import annotations

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.pipelines.demo import SAMPLES
from kfp_gates.pipelines.demo_steps.model_signing import STEPS
from tests.support.netguard import no_network


def test_demo_steps_give_their_expected_verdicts_offline(tmp_path) -> None:
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    with no_network() as attempts:
        verdicts = [(s.run(policy, tmp_path).decision.value, s.expect) for s in STEPS]
    assert attempts == []
    assert [v for v, _ in verdicts] == [e for _, e in verdicts] == ["pass", "pass", "fail"]
