"""``kfp-gates lock create|verify`` and ``kfp-gates check`` through the real console script."""

from __future__ import annotations

import json

from kfp_gates.components.source_integrity import lock as lk

from .sample_pipeline import BUNDLED


def _edited(tmp_path):
    path = tmp_path / "edited.yaml"
    path.write_text(BUNDLED.read_text().replace("b = my - a * mx", "b = my - a * mx + 1"))
    return path


def test_create_then_verify_untouched_and_edited(cli, tmp_path):
    r = cli("lock", "create", str(BUNDLED), "-o", "components.lock")
    assert r.code == 0 and "locked 2 executor(s)" in r.out, r
    assert lk.load_lock(tmp_path / "components.lock").pipeline == "source-integrity-sample"
    r = cli("lock", "verify", str(BUNDLED), "--lock", "components.lock")
    assert r.code == 0 and r.out.startswith("PASS  source_integrity"), r
    r = cli("lock", "verify", str(_edited(tmp_path)), "--lock", "components.lock", "--format", "json")
    assert r.code == 1, r
    result = json.loads(r.out)
    assert [(f["id"], f["data"]["executor"]) for f in result["findings"]] == [(lk.CHANGED, "exec-train-model")]
    assert result["metadata"]["lock_sha256"] == lk.load_lock(tmp_path / "components.lock").sha256


def test_create_to_stdout_is_the_same_lock(cli, tmp_path):
    r = cli("lock", "create", str(BUNDLED))
    assert r.code == 0
    cli("lock", "create", str(BUNDLED), "-o", "l.json")
    assert r.out == (tmp_path / "l.json").read_text()


def test_check_with_lock(cli, tmp_path):
    assert cli("lock", "create", str(BUNDLED), "-o", "components.lock").code == 0
    r = cli("check", str(BUNDLED), "--lock", "components.lock")
    assert r.code == 0 and "PASS  pipeline_checks" in r.out and "PASS  source_integrity" in r.out, r
    r = cli("check", str(_edited(tmp_path)), "--lock", "components.lock")
    assert r.code == 1 and "exec-train-model" in r.out and "FAIL  source_integrity" in r.out
    r = cli("check", str(BUNDLED))
    assert r.code == 0 and "source_integrity" not in r.out


def test_lock_file_from_policy(cli, tmp_path):
    cli("lock", "create", str(BUNDLED), "-o", "components.lock")
    (tmp_path / "policy.yaml").write_text(
        "apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  source_integrity:\n    lock_file: components.lock\n")
    r = cli("check", str(_edited(tmp_path)), "--policy", "policy.yaml")
    assert r.code == 1 and "KFPG-LOCK-EXECUTOR-CHANGED" in r.out


def test_usage_errors_exit_2(cli, tmp_path):
    r = cli("lock", "verify", str(BUNDLED), "--lock", "missing.lock")
    assert r.code == 2 and "lock file not found" in r.err and "Traceback" not in r.err
    r = cli("lock", "verify", str(BUNDLED))
    assert r.code == 2 and "no lock file given" in r.err
    (tmp_path / "bad.lock").write_text("{ this is not json")
    r = cli("lock", "verify", str(BUNDLED), "--lock", "bad.lock")
    assert r.code == 2 and "bad.lock:1" in r.err and "not valid JSON" in r.err
    (tmp_path / "other.lock").write_text('{"kind": "SomethingElse"}')
    r = cli("lock", "verify", str(BUNDLED), "--lock", "other.lock")
    assert r.code == 2 and "not a kfp-gates component lock" in r.err
    r = cli("lock", "create", "missing.yaml")
    assert r.code == 2 and "pipeline file not found" in r.err
    (tmp_path / "notapipeline.yaml").write_text("just: a mapping\n")
    r = cli("lock", "create", "notapipeline.yaml")
    assert r.code == 2 and "not a compiled KFP pipeline" in r.err
    (tmp_path / "broken.yaml").write_text("deploymentSpec:\n  executors: [unclosed\n")
    r = cli("lock", "create", "broken.yaml")
    assert r.code == 2 and "not valid YAML" in r.err and "broken.yaml:" in r.err
    r = cli("check", "missing.yaml")
    assert r.code == 2
    r = cli("check", str(BUNDLED), "--lock", "bad.lock")
    assert r.code == 2
