"""The demo step starts a real OpenBao dev server, passes once, blocks on the second unwrap, and stops it."""

from __future__ import annotations

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.pipelines.demo import SAMPLES
from kfp_gates.pipelines.demo_steps.secrets import STEPS


def test_demo_steps_give_their_expected_verdicts(tmp_path):
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    results = [step.run(policy, tmp_path) for step in STEPS]
    assert [r.decision.value for r in results] == [s.expect for s in STEPS] == ["pass", "fail"]
    assert results[1].findings[0].id == "KFPG-SECRETS-WRAP-REUSED"
    delivered = tmp_path / "secrets-demo" / "delivered"
    assert sorted(p.name for p in delivered.iterdir()) == ["password", "user"]
    assert not (tmp_path / "secrets-demo" / "again").exists()
