"""``kfp-gates policy eval`` and ``policy test`` through the real console script: exit codes 0, 1, 2."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ACCURACY


def _files(tmp_path, accuracy, **extra):
    (tmp_path / "in.json").write_text(json.dumps({"metrics": {"accuracy": accuracy, **extra}, "gates": {}}))
    (tmp_path / "data.yaml").write_text("min_accuracy: 0.9\n")


def test_eval_passes_warns_and_denies(cli, tmp_path, policy_dir):
    _files(tmp_path, 0.95, loss=0.1)
    ok = cli("policy", "eval", "--rego", str(policy_dir), "--input", "in.json", "--data", "data.yaml")
    assert ok.code == 0, ok
    _files(tmp_path, 0.95, loss=0.9)
    warned = cli("policy", "eval", "--rego", str(policy_dir), "--input", "in.json", "--data", "data.yaml")
    assert warned.code == 0 and "WARN" in warned.out and "loss 0.9 is high" in warned.out
    _files(tmp_path, 0.80, loss=0.1)
    denied = cli(
        "policy", "eval", "--rego", str(policy_dir), "--input", "in.json", "--data", "data.yaml", "--format", "json"
    )
    assert denied.code == 1, denied
    [result] = json.loads(denied.out)["results"] if "results" in json.loads(denied.out) else [json.loads(denied.out)]
    assert result["decision"] == "fail" and result["subject"]["name"] == "policy input"
    assert "accuracy 0.8 is below the minimum 0.9" in denied.out


def test_eval_with_the_policy_files_section(cli, tmp_path, policy_dir):
    _files(tmp_path, 0.8, loss=0.1)
    (tmp_path / "policy.yaml").write_text(
        f"tier: standard\ngates:\n  policy_gate:\n    rego: {policy_dir}\n    data: {{min_accuracy: 0.7}}\n"
    )
    assert cli("policy", "eval", "--input", "in.json", "--policy", "policy.yaml").code == 0


def test_eval_missing_metric_blocks(cli, tmp_path, policy_dir):
    (tmp_path / "in.json").write_text(json.dumps({"metrics": {"loss": 0.1}}))
    (tmp_path / "data.yaml").write_text("min_accuracy: 0.9\n")
    r = cli("policy", "eval", "--rego", str(policy_dir), "--input", "in.json", "--data", "data.yaml")
    assert r.code == 1 and "input.metrics.accuracy" in r.out, r


@pytest.mark.parametrize(
    ("rego", "needle"),
    [
        ('package main\ndeny[msg] { input.metrics.accuracy < 0.9; msg := "low" }\n', "v0 form"),
        ("package main\nimport rego.v1\ndeny contains msg if {\n  input.metrics.accuracy <\n}\n", "a.rego:4:"),
        ("package main\nimport rego.v1\nallow if true\n", "no deny or warn rule"),
        ('package main\nimport rego.v1\ndeny := "x" if input.metrics.accuracy < 0.1\n', "is undefined"),
        ('package main\nimport rego.v1\ndeny contains "x" if input.metrics.accuracy < data.nope\n', "data.nope"),
    ],
)
def test_eval_of_a_policy_that_cannot_decide_exits_2(cli, tmp_path, rego, needle):
    _files(tmp_path, 0.95)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.rego").write_text(rego)
    r = cli("policy", "eval", "--rego", "p", "--input", "in.json", "--data", "data.yaml")
    assert r.code == 2, r
    assert needle in r.err and "Traceback" not in r.err


def test_eval_usage_errors_exit_2(cli, tmp_path, policy_dir):
    assert cli("policy", "eval", "--rego", "nowhere", "--input", "in.json").code == 2
    (tmp_path / "in.json").write_text("[1, 2]")
    r = cli("policy", "eval", "--rego", str(policy_dir), "--input", "in.json", "--data", "data.yaml")
    assert r.code == 2, r


def test_policy_test_reports_each_test(cli, tmp_path):
    d = tmp_path / "pol"
    d.mkdir()
    (d / "acc.rego").write_text(ACCURACY)
    (d / "acc_test.rego").write_text(
        "package main\nimport rego.v1\n"
        'test_low if { count(deny) == 1 with input.metrics as {"accuracy": 0.5} with data.min_accuracy as 0.9 }\n'
    )
    ok = cli("policy", "test", str(d))
    assert ok.code == 0 and "PASS  data.main.test_low" in ok.out and "1 passed, 0 failed" in ok.out, ok
    with (d / "acc_test.rego").open("a") as fh:
        fh.write('test_high if { count(deny) == 1 with input.metrics as {"accuracy": 0.99} '
                 "with data.min_accuracy as 0.9 }\n")
    failed = cli("policy", "test", str(d))
    assert failed.code == 1 and "FAIL  data.main.test_high" in failed.out, failed


def test_policy_test_without_tests_exits_2(cli, tmp_path, policy_dir):
    r = cli("policy", "test", str(policy_dir))
    assert r.code == 2 and "no Rego tests" in r.err


def test_the_shipped_policy_tests_pass(cli):
    from kfp_gates.components.rego_policy import default_policy_dir

    r = cli("policy", "test", str(default_policy_dir()))
    assert r.code == 0 and "3 passed, 0 failed" in r.out, r


# ----- light fuzzing: whatever the text, a clean error (2) or a decision, never a trace or a crash ----------
_REGO_BITS = st.sampled_from(
    ["package main\n", "import rego.v1\n", "deny contains msg if {", "}", "[msg]", "input.metrics.accuracy", " < ",
     "data.x", '"s"', "`raw`", "# c\n", "\n", "warn", " := ", "{", "(", ")", "with input as", "0.9", "msg := 1"]
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(_REGO_BITS, max_size=14), noise=st.text(max_size=20))
def test_fuzzed_rego_never_crashes(cli, tmp_path, parts, noise):
    d = tmp_path / "fz"
    d.mkdir(exist_ok=True)
    (d / "f.rego").write_text("".join(parts) + noise)
    (tmp_path / "in.json").write_text(json.dumps({"metrics": {"accuracy": 0.5}}))
    r = cli("policy", "eval", "--rego", str(d), "--input", str(tmp_path / "in.json"))
    assert r.code in (0, 1, 2), r
    assert "Traceback" not in r.err and "internal error" not in r.err, r


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.text(max_size=60))
def test_fuzzed_input_documents_exit_cleanly(cli, tmp_path, doc):
    (tmp_path / "in.json").write_text(doc)
    (tmp_path / "data.yaml").write_text("min_accuracy: 0.9\n")
    r = cli("policy", "eval", "--input", str(tmp_path / "in.json"), "--data", str(tmp_path / "data.yaml"))
    assert r.code in (1, 2), r
    assert "Traceback" not in r.err and "internal error" not in r.err, r
