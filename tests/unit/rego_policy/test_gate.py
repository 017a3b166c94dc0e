"""The policy gate's Python API with real regopy: decisions, and every way a policy fails closed."""

import hashlib
import json

import pytest

from kfp_gates.components.common.errors import ConfigError, PolicyError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision
from kfp_gates.components.rego_policy import PolicyEngine, canonical_json, load_rego, run
from kfp_gates.components.rego_policy.gate import INPUT_MISSING

from .conftest import ACCURACY, WARN_LOSS

POLICY = GatePolicy.parse("tier: standard\ngates:\n  policy_gate:\n    data: {min_accuracy: 0.9}\n")


def _doc(**metrics):
    return {"metrics": metrics, "gates": {}}


def test_accuracy_rule_passes_at_095_and_blocks_at_080_naming_the_metric(policy_dir):
    ok = run(_doc(accuracy=0.95, loss=0.1), POLICY, rego=policy_dir)
    assert ok.decision is Decision.PASS and not ok.findings
    blocked = run(_doc(accuracy=0.80, loss=0.1), POLICY, rego=policy_dir)
    assert blocked.decision is Decision.FAIL
    [f] = blocked.findings
    assert f.id == "KFPG-POLICY-DENY" and f.severity.value == "high"
    assert "accuracy 0.8 is below the minimum 0.9" in f.message
    assert f.location.path == "accuracy.rego" and f.location.line == 5


def test_shipped_promotion_rule_is_the_default(tmp_path):
    assert run(_doc(accuracy=0.95), POLICY).decision is Decision.PASS
    blocked = run(_doc(accuracy=0.5), POLICY)
    assert blocked.decision is Decision.FAIL
    assert "no deployment" in blocked.findings[0].message
    assert blocked.policy["rego"][0]["name"] == "policies/promotion.rego"


def test_shipped_promotion_rule_denies_a_failed_gate():
    doc = {"metrics": {"accuracy": 0.99}, "gates": {"model_scan": {"decision": "fail", "subject": {"name": "m.pkl"}}}}
    result = run(doc, POLICY)
    assert result.decision is Decision.FAIL
    assert "gate model_scan blocked" in result.findings[0].message


def test_warn_rule_warns(policy_dir):
    result = run(_doc(accuracy=0.95, loss=0.7), POLICY, rego=policy_dir)
    assert result.decision is Decision.WARN
    [f] = result.findings
    assert f.id == "KFPG-POLICY-WARN" and f.severity.value == "medium" and "loss 0.7 is high" in f.message


def test_subject_is_the_canonical_input_digest_and_policy_records_rego_digests_and_data(policy_dir):
    doc = {"gates": {}, "metrics": {"loss": 0.1, "accuracy": 0.95}}
    result = run(doc, POLICY, rego=policy_dir)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert result.subject.name == "policy input"
    assert canonical_json(doc) == canonical
    assert result.subject.sha256 == hashlib.sha256(canonical).hexdigest()
    files = {f["name"]: f["sha256"] for f in result.policy["rego"]}
    assert files["accuracy.rego"] == hashlib.sha256(ACCURACY.encode()).hexdigest()
    assert files["loss.rego"] == hashlib.sha256(WARN_LOSS.encode()).hexdigest()
    assert result.policy["data"] == {"min_accuracy": 0.9} and result.policy["package"] == "main"
    assert result.metadata["reads"]["metrics"] == ["accuracy", "loss"]


def test_a_metric_the_rule_reads_that_the_run_did_not_produce_blocks_and_cannot_be_softened(policy_dir):
    result = run(_doc(loss=0.1), POLICY, rego=policy_dir)
    assert result.decision is Decision.FAIL
    [f] = result.findings
    assert f.id == INPUT_MISSING and f.severity.value == "critical"
    assert "input.metrics.accuracy" in f.message and f.location.path == "accuracy.rego"
    lenient = GatePolicy.parse(
        "tier: fast-track\ngates:\n  policy_gate:\n    on_fail: warn\n    data: {min_accuracy: 0.9}\n"
    )
    assert run(_doc(loss=0.1), lenient, rego=policy_dir).decision is Decision.FAIL
    waived = GatePolicy.parse(
        "gates:\n  policy_gate:\n    data: {min_accuracy: 0.9}\n    waivers:\n"
        f"      - {{id: {INPUT_MISSING}, reason: not needed, owner: a@b.c, expires: 2099-01-01}}\n"
    )
    with pytest.raises(ConfigError, match="cannot be waived"):
        run(_doc(loss=0.1), waived, rego=policy_dir)


@pytest.mark.parametrize("value", ["0.95", True, None, [0.95]])
def test_a_metric_that_is_not_a_number_blocks(value):
    result = run({"metrics": {"accuracy": value}}, POLICY)
    assert result.decision is Decision.FAIL
    assert any(f.id == INPUT_MISSING and "not a number" in f.message for f in result.findings)


def test_a_gate_result_the_rule_reads_that_is_absent_blocks():
    rego = 'package main\nimport rego.v1\ndeny contains "unsigned" if input.gates.model_signing.decision != "pass"\n'
    result = run({"metrics": {}, "gates": {}}, None, rego_text=rego)
    assert result.decision is Decision.FAIL
    assert "input.gates.model_signing" in result.findings[0].message


def test_reads_through_an_import_alias_and_bracket_keys_are_checked():
    rego = (
        "package main\nimport rego.v1\nimport input.metrics as m\n"
        'deny contains "low f1" if m["f1-score"] < 0.5\n'
    )
    result = run({"metrics": {}}, None, rego_text=rego)
    assert result.decision is Decision.FAIL and "input.metrics.f1-score" in result.findings[0].message
    assert run({"metrics": {"f1-score": 0.9}}, None, rego_text=rego).decision is Decision.PASS


ERRORS = {
    "v0 deny[msg] is an object": (
        'package main\ndeny[msg] { input.metrics.accuracy < 0.9; msg := "low" }\n',
        r"policy.rego:2: data.main.deny is an object, not a set: this is the Rego v0 form",
    ),
    "syntax error names file:line": (
        "package main\nimport rego.v1\ndeny contains msg if {\n  input.metrics.accuracy <\n}\n",
        r"policy.rego:4:\d+: Rego does not compile",
    ),
    "unknown function names the line": (
        'package main\nimport rego.v1\n\ndeny contains "x" if nope(input.metrics.accuracy)\n',
        r"policy.rego:4: .*Function not found: nope",
    ),
    "no deny or warn rule": (
        "package main\nimport rego.v1\nallow if input.metrics.accuracy > 0.9\n",
        r"package main has no deny or warn rule",
    ),
    "undefined complete deny": (
        'package main\nimport rego.v1\ndeny := "low" if input.metrics.accuracy < 0.5\n',
        r"policy.rego:3: data.main.deny is undefined",
    ),
    "deny that is not a set": (
        'package main\nimport rego.v1\ndeny := ["low"]\n',
        r"data.main.deny is a array, not a set",
    ),
    "package not found": (
        'package other\nimport rego.v1\ndeny contains "x" if input.metrics.accuracy < 0.5\n',
        r"no Rego module declares package main",
    ),
    "unset threshold": (
        'package main\nimport rego.v1\ndeny contains "x" if input.metrics.accuracy < data.max_loss\n',
        r"policy.rego:3: the policy reads data.max_loss, which the policy data does not set",
    ),
    "whole-input with (crashes regopy)": (
        'package main\nimport rego.v1\ndeny contains "x" if input.metrics.accuracy < 0.5\n'
        'test_x if { count(deny) == 1 with input as {"metrics": {"accuracy": 0.1}} }\n',
        r"policy.rego:4: `with input as ...` replaces the whole input",
    ),
    "module without package": ('deny contains "x" if true\n', r"declares no package"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_a_policy_that_cannot_decide_is_a_config_error(case):
    rego, pattern = ERRORS[case]
    with pytest.raises(ConfigError, match=pattern) as info:
        run(_doc(accuracy=0.95), POLICY, rego_text=rego)
    assert info.value.exit_code == 2


def test_each_rule_is_queried_alone_a_missing_warn_does_not_hide_deny():
    rego = 'package main\nimport rego.v1\ndeny contains "low" if input.metrics.accuracy < 0.9\n'
    result = run(_doc(accuracy=0.5), None, rego_text=rego)
    assert result.decision is Decision.FAIL and [f.message for f in result.findings] == ["low"]


def test_message_objects_carry_an_id_that_can_be_waived_and_a_critical_severity():
    rego = (
        "package main\nimport rego.v1\n"
        'deny contains {"id": "MIN-ACC", "msg": "low accuracy"} if input.metrics.accuracy < 0.9\n'
        'deny contains {"msg": "tampered", "severity": "critical"} if input.metrics.tampered > 0\n'
    )
    result = run(_doc(accuracy=0.5, tampered=1), None, rego_text=rego)
    assert {(f.id, f.severity.value) for f in result.findings} == {
        ("MIN-ACC", "high"),
        ("KFPG-POLICY-DENY", "critical"),
    }
    waiver = "      - {id: MIN-ACC, reason: accepted for the demo, owner: a@b.c, expires: 2099-01-01}\n"
    waived = GatePolicy.parse("gates:\n  policy_gate:\n    waivers:\n" + waiver)
    result = run(_doc(accuracy=0.5, tampered=0), waived, rego_text=rego)
    assert result.decision is Decision.PASS and result.findings[0].waived


def test_the_generic_deny_id_cannot_be_waived():
    waiver = "      - {id: KFPG-POLICY-DENY, reason: every rule at once, owner: a@b.c, expires: 2099-01-01}\n"
    policy = GatePolicy.parse("gates:\n  policy_gate:\n    data: {min_accuracy: 0.9}\n    waivers:\n" + waiver)
    with pytest.raises(ConfigError, match="cannot be waived"):
        run(_doc(accuracy=0.5), policy)


def test_the_policy_section_is_strict():
    with pytest.raises(PolicyError) as info:
        GatePolicy.parse("gates:\n  policy_gate:\n    pakage: main\n")
    assert "did you mean 'package'" in info.value.diagnostics()
    with pytest.raises(PolicyError):
        GatePolicy.parse("gates:\n  policy_gate:\n    package: 'not a package!'\n")
    assert GatePolicy.default("critical").gate("policy_gate").on_fail == "block"
    assert GatePolicy.default("fast-track").gate("policy_gate").on_fail == "block"


def test_a_configured_package_is_used(tmp_path):
    rego = 'package kfp_gates.promotion\nimport rego.v1\ndeny contains "low" if input.metrics.accuracy < 0.9\n'
    policy = GatePolicy.parse("gates:\n  policy_gate:\n    package: kfp_gates.promotion\n")
    assert run(_doc(accuracy=0.5), policy, rego_text=rego).decision is Decision.FAIL


def test_one_engine_serves_many_inputs(policy_dir):
    engine = PolicyEngine(load_rego(policy_dir), {"min_accuracy": 0.9})
    decisions = [run(_doc(accuracy=a, loss=0.1), POLICY, engine=engine).decision for a in (0.95, 0.5, 0.91)]
    assert decisions == [Decision.PASS, Decision.FAIL, Decision.PASS]


def test_policy_tests_pass_and_fail_per_test(tmp_path):
    (tmp_path / "acc.rego").write_text(ACCURACY)
    (tmp_path / "acc_test.rego").write_text(
        "package main\nimport rego.v1\n"
        "test_low_is_denied if { count(deny) == 1 with input.metrics as {\"accuracy\": 0.5} "
        "with data.min_accuracy as 0.9 }\n"
        "test_wrong_expectation if { count(deny) == 1 with input.metrics as {\"accuracy\": 0.99} "
        "with data.min_accuracy as 0.9 }\n"
    )
    outcomes = {o.name: o.passed for o in PolicyEngine(load_rego(tmp_path), {}, tests=True).run_tests()}
    assert outcomes == {"data.main.test_low_is_denied": True, "data.main.test_wrong_expectation": False}


def test_the_shipped_policy_passes_its_own_tests():
    from kfp_gates.components.rego_policy import default_policy_dir

    outcomes = PolicyEngine(load_rego(default_policy_dir()), {}, tests=True).run_tests()
    assert outcomes and all(o.passed for o in outcomes), outcomes
