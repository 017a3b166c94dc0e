"""``kfp-gates verify-source`` through the real console script: verdicts and exit codes."""

from __future__ import annotations

import json

from kfp_gates.components.source_integrity import signatures as sig

from .conftest import MALLORY


def test_signed_history_exits_0(cli, signed_repo, keys):
    r = cli("verify-source", str(signed_repo.path), "--since", "HEAD~2", "--allowed-signers", str(keys.signers))
    assert r.code == 0, r
    assert r.out.startswith("PASS  source_integrity")


def test_unsigned_commit_exits_1_naming_commit_author_reason(cli, signed_repo, keys):
    bad = signed_repo.commit("hotfix", {"train.py": "x\n"}, key=None, author=MALLORY)
    r = cli("verify-source", str(signed_repo.path), "--allowed-signers", str(keys.signers), "--format", "json")
    assert r.code == 1, r
    result = json.loads(r.out)
    assert result["decision"] == "fail"
    [f] = result["findings"]
    assert (f["id"], f["data"]["commit"], f["data"]["author"], f["data"]["reason"]) == (
        sig.UNSIGNED, bad, "Mallory <mallory@example.com>", "commit is not signed")
    assert result["subject"]["digest"]["gitCommit"] == bad


def test_standard_tier_blocks_by_default_and_policy_can_downgrade(cli, signed_repo, keys, tmp_path):
    signed_repo.commit("unsigned", {"train.py": "x\n"}, key=None)
    args = ["verify-source", str(signed_repo.path), "--allowed-signers", str(keys.signers)]
    assert cli(*args, "--tier", "standard").code == 1
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: fast-track\n"
                      "gates:\n  source_integrity:\n    on_fail: warn\n")
    r = cli(*args, "--policy", str(policy))
    assert r.code == 0 and r.out.startswith("WARN"), r


def test_allowed_signers_from_the_policy(cli, signed_repo, keys, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: critical\n"
                      f"gates:\n  source_integrity:\n    allowed_signers: {keys.signers}\n")
    assert cli("verify-source", str(signed_repo.path), "--policy", str(policy)).code == 0


def test_dirty_tree_and_allow_dirty(cli, signed_repo, keys):
    (signed_repo.path / "train.py").write_text("edited\n")
    args = ["verify-source", str(signed_repo.path), "--allowed-signers", str(keys.signers)]
    r = cli(*args)
    assert r.code == 1 and "KFPG-SRC-DIRTY-TREE" in r.out and "train.py" in r.out
    assert cli(*args, "--allow-dirty").code == 0


def test_usage_errors_exit_2(cli, signed_repo, keys, tmp_path):
    repo = str(signed_repo.path)
    r = cli("verify-source", str(tmp_path / "missing"), "--allowed-signers", str(keys.signers))
    assert r.code == 2 and "repository directory not found" in r.err and "Traceback" not in r.err
    r = cli("verify-source", repo, "--allowed-signers", str(tmp_path / "nope"))
    assert r.code == 2 and "allowed-signers file not found" in r.err
    r = cli("verify-source", repo)
    assert r.code == 2 and "no allowed signers" in r.err
    bad = tmp_path / "bad_signers"
    bad.write_text("# team\nalice@example.com not-a-key\n")
    r = cli("verify-source", repo, "--allowed-signers", str(bad))
    assert r.code == 2 and f"{bad}:2" in r.err
    r = cli("verify-source", str(tmp_path), "--allowed-signers", str(keys.signers))
    assert r.code == 2 and "not a git repository" in r.err
    r = cli("verify-source", repo, "--rev", "nope", "--allowed-signers", str(keys.signers))
    assert r.code == 2 and "not a commit" in r.err
    r = cli("verify-source", repo, "--since", "nope", "--allowed-signers", str(keys.signers))
    assert r.code == 2 and "base" in r.err


def test_report_formats(cli, signed_repo, keys, tmp_path):
    signed_repo.commit("unsigned", {"train.py": "x\n"}, key=None)
    out = tmp_path / "report.sarif"
    r = cli("verify-source", str(signed_repo.path), "--allowed-signers", str(keys.signers),
            "--format", "sarif", "-o", str(out))
    assert r.code == 1
    sarif = json.loads(out.read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == sig.UNSIGNED


def test_git_timeout_exits_3(cli, signed_repo, keys, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  source_integrity:\n    timeout: 0s\n")
    r = cli("verify-source", str(signed_repo.path), "--allowed-signers", str(keys.signers), "--policy", str(policy))
    assert r.code == 3 and "did not finish within" in r.err, r


def test_damaged_repository_blocks_with_exit_1(cli, signed_repo, keys):
    # a corrupt object store cannot be proven to hold signed code
    head = signed_repo.git("rev-parse", "HEAD")
    obj = signed_repo.path / ".git" / "objects" / head[:2] / head[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"corrupt")
    r = cli("verify-source", str(signed_repo.path), "--allowed-signers", str(keys.signers))
    assert r.code == 1 and "damaged" in r.err and "is corrupt" in r.err, r
