"""Signed-commit verification against real repositories signed with ssh-keygen keys."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError, KfpGatesError
from kfp_gates.components.common.evidence import from_statement, to_statement
from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.severity import Decision
from kfp_gates.components.source_integrity import SourceOptions, source, verify_source
from kfp_gates.components.source_integrity import signatures as sig
from tests.support.netguard import no_network

from .conftest import BOB, MALLORY

BLOCK = GateSettings(on_fail="block")


def _root(repo) -> str:
    return repo.git("rev-list", "--max-parents=0", "HEAD")


def _verify(repo, keys, *, since: str | None = None, rev: str = "HEAD", **kw):
    return verify_source(repo.path, SourceOptions(rev=rev, since=since, allowed_signers=keys.signers, **kw), BLOCK)


def test_signed_history_passes_with_commit_and_tree_in_the_evidence(signed_repo, keys):
    with no_network() as attempts:
        result = _verify(signed_repo, keys, since=_root(signed_repo))
    assert attempts == []
    assert result.decision is Decision.PASS, result.findings
    head = signed_repo.git("rev-parse", "HEAD")
    tree = signed_repo.git("rev-parse", "HEAD^{tree}")
    raw = subprocess.run(["git", "-C", str(signed_repo.path), "cat-file", "commit", head],
                         capture_output=True, check=True).stdout
    assert result.subject.digest == {"sha256": hashlib.sha256(raw).hexdigest(), "gitCommit": head, "gitTree": tree}
    assert result.metadata["commit"] == head and result.metadata["tree"] == tree
    assert result.metadata["commits_checked"] == 2  # the two commits after the base
    assert result.metadata["signers"] == {"alice@example.com": 1, "bob@example.com": 1}
    # the evidence statement carries the same subject and survives a round trip
    statement = to_statement(result)
    assert statement["subject"][0]["digest"]["gitCommit"] == head
    assert from_statement(statement).metadata["tree"] == tree


def test_unsigned_commit_blocks_and_is_named_with_author(signed_repo, keys):
    base = _root(signed_repo)
    bad = signed_repo.commit("hotfix", {"train.py": "print('x')\n"}, key=None, author=MALLORY)
    signed_repo.commit("after", {"data.py": "rows = 11\n"}, key=keys.alice)
    result = _verify(signed_repo, keys, since=base)
    assert result.decision is Decision.FAIL
    [f] = result.active_findings()
    assert f.id == sig.UNSIGNED
    assert f.data["commit"] == bad and f.data["author"] == "Mallory <mallory@example.com>"
    assert bad[:12] in f.message and "Mallory" in f.message and "not signed" in f.message
    assert f.location.field == f"commit {bad}"


def test_commit_signed_by_a_key_not_in_allowed_signers_blocks(signed_repo, keys):
    bad = signed_repo.commit("sneaky", {"train.py": "print('m')\n"}, key=keys.mallory, author=MALLORY)
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    [f] = result.active_findings()
    assert f.id == sig.UNKNOWN_SIGNER and f.data["commit"] == bad
    assert "not in the allowed-signers file" in f.message
    assert f.data["key"].startswith("SHA256:")


def test_signature_by_allowed_key_under_someone_elses_name_still_names_the_real_key(signed_repo, keys):
    # Bob's key is allowed: a commit he signs with Mallory as author passes the signature check,
    # and the result records the signer principal (bob), not the claimed author.
    signed_repo.commit("bob signs", {"x.py": "1\n"}, key=keys.bob, author=MALLORY)
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.PASS
    assert result.metadata["signers"] == {"bob@example.com": 1}


def test_forged_commit_reusing_a_signature_blocks_as_bad_signature(signed_repo, keys):
    head = signed_repo.git("rev-parse", "HEAD")
    raw = signed_repo.git("cat-file", "commit", head)
    assert "gpgsig -----BEGIN SSH SIGNATURE" in raw
    forged = raw.replace("more epochs", "more epochs and a backdoor")
    path = signed_repo.path / ".." / "forged.txt"
    Path(path).write_text(forged + "\n")
    new = signed_repo.git("hash-object", "-t", "commit", "-w", str(path))
    signed_repo.git("update-ref", "refs/heads/main", new)
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    [f] = result.active_findings()
    assert f.id == sig.BAD_SIGNATURE and f.data["commit"] == new and f.severity.value == "critical"
    assert "changed after it was signed" in f.message


def test_amended_commit_loses_its_signature_and_blocks(signed_repo, keys):
    base = _root(signed_repo)
    signed_repo.git("commit", "-q", "--amend", "-m", "more epochs (amended)", "--no-gpg-sign")
    amended = signed_repo.git("rev-parse", "HEAD")
    result = _verify(signed_repo, keys, since=base)
    assert result.decision is Decision.FAIL
    assert [(f.id, f.data["commit"]) for f in result.active_findings()] == [(sig.UNSIGNED, amended)]


def test_rebased_history_no_longer_contains_the_reviewed_base(signed_repo, keys):
    reviewed = signed_repo.git("rev-parse", "HEAD")
    root = _root(signed_repo)
    # Rewrite: reset to the root and re-commit (signed) different content; the reviewed commit is gone.
    signed_repo.git("reset", "-q", "--hard", root)
    signed_repo.commit("rewritten", {"train.py": "print('other')\n"}, key=keys.alice)
    result = _verify(signed_repo, keys, since=reviewed)
    assert result.decision is Decision.FAIL
    ids = [f.id for f in result.active_findings()]
    assert ids == [source.BASE_NOT_ANCESTOR]
    assert reviewed[:12] in result.active_findings()[0].message


def test_replace_refs_cannot_disguise_an_unsigned_commit(signed_repo, keys):
    signed = signed_repo.git("rev-parse", "HEAD")
    unsigned = signed_repo.commit("unsigned", {"train.py": "print('u')\n"}, key=None)
    # `git replace` makes plain git show the signed commit in place of the unsigned one
    signed_repo.git("replace", "-f", unsigned, signed)
    assert signed_repo.git("log", "-1", "--format=%s", "HEAD") == "more epochs"
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    assert [f.data["commit"] for f in result.active_findings()] == [unsigned]


def test_repository_config_cannot_swap_the_signature_program(signed_repo, keys, tmp_path):
    fake = tmp_path / "fake-ssh-keygen"
    fake.write_text('#!/bin/sh\necho \'Good "git" signature for alice@example.com with ED25519 key SHA256:x\'\n')
    fake.chmod(0o755)
    bad = signed_repo.commit("sneaky", {"train.py": "print('m')\n"}, key=keys.mallory)
    signed_repo.git("config", "gpg.ssh.program", str(fake))
    signed_repo.git("config", "gpg.ssh.allowedSignersFile", str(tmp_path / "other"))
    assert signed_repo.git("log", "-1", "--format=%G?") == "G"  # plain git is fooled
    result = _verify(signed_repo, keys)
    assert [(f.id, f.data["commit"]) for f in result.active_findings()] == [(sig.UNKNOWN_SIGNER, bad)]


def test_caller_environment_cannot_redirect_git(signed_repo, keys, make_repo, tmp_path, monkeypatch):
    other = make_repo("other")
    other.commit("unsigned elsewhere", {"a": "1\n"}, key=None)
    evil = tmp_path / "evil.gitconfig"
    evil.write_text("[gpg \"ssh\"]\n\tprogram = /bin/false\n[core]\n\tfsmonitor = /bin/false\n")
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(evil))
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.PASS, result.findings
    assert result.metadata["commit"] == signed_repo.git("rev-parse", "HEAD")
    assert not evil.read_text().count("allowedSignersFile")  # the user's config is never written


def test_single_rev_checks_only_that_commit(signed_repo, keys):
    signed_repo.commit("unsigned", {"z.py": "1\n"}, key=None)
    signed_repo.commit("signed", {"z.py": "2\n"}, key=keys.alice)
    assert _verify(signed_repo, keys).decision is Decision.PASS
    assert _verify(signed_repo, keys, since="HEAD~2").decision is Decision.FAIL


def test_waiver_for_one_commit_by_alias(signed_repo, keys):
    from kfp_gates.components.common.policy import Waiver

    base = _root(signed_repo)
    bad = signed_repo.commit("legacy", {"y.py": "1\n"}, key=None)
    signed_repo.commit("fix", {"y.py": "2\n"}, key=keys.alice)
    waiver = Waiver(id=f"{sig.UNSIGNED}:{bad}", reason="imported history", owner="sec@example.com",
                    expires="2999-01-01")
    settings = GateSettings(on_fail="block", waivers=(waiver,))
    result = verify_source(signed_repo.path, SourceOptions(since=base, allowed_signers=keys.signers), settings)
    assert result.decision is Decision.PASS
    assert [f.waived for f in result.findings] == [True]


def test_bare_repository_is_verified_without_a_work_tree(signed_repo, keys, tmp_path):
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(signed_repo.path), str(bare)], check=True,
                   env=signed_repo_env())
    result = verify_source(bare, SourceOptions(allowed_signers=keys.signers), BLOCK)
    assert result.decision is Decision.PASS and result.metadata["work_tree_checked"] is False


def signed_repo_env() -> dict[str, str]:
    from kfp_gates.pipelines.demo_steps.source_integrity import git_env

    return git_env()


def test_shallow_clone_without_the_base_is_a_config_error(signed_repo, keys, tmp_path):
    base = _root(signed_repo)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{signed_repo.path}", str(shallow)], check=True,
                   env=signed_repo_env())
    with pytest.raises(ConfigError) as exc:
        verify_source(shallow, SourceOptions(since=base, allowed_signers=keys.signers), BLOCK)
    assert "base" in exc.value.message and "shallow" in (exc.value.hint or "")


def test_shallow_boundary_inside_the_range_blocks(signed_repo, keys, tmp_path):
    root = _root(signed_repo)
    shallow = tmp_path / "shallow2"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{signed_repo.path}", str(shallow)], check=True,
                   env=signed_repo_env())
    # fetch the root too, so it exists, while the commits between stay missing
    subprocess.run(["git", "-C", str(shallow), "fetch", "-q", "--depth", "1", "origin", root], check=True,
                   env=signed_repo_env())
    result = verify_source(shallow, SourceOptions(since=root, allowed_signers=keys.signers), BLOCK)
    assert result.decision is Decision.FAIL
    assert {f.id for f in result.active_findings()} >= {source.SHALLOW}


def test_missing_inputs_are_config_errors(signed_repo, keys, tmp_path):
    with pytest.raises(InputNotFoundError):
        verify_source(tmp_path / "nope", SourceOptions(allowed_signers=keys.signers))
    with pytest.raises(InputNotFoundError):
        verify_source(signed_repo.path, SourceOptions(allowed_signers=tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no allowed signers"):
        verify_source(signed_repo.path, SourceOptions())
    with pytest.raises(ConfigError, match="not a git repository"):
        verify_source(tmp_path, SourceOptions(allowed_signers=keys.signers))
    with pytest.raises(ConfigError, match="not a commit"):
        verify_source(signed_repo.path, SourceOptions(rev="no-such-branch", allowed_signers=keys.signers))


def test_bob_is_not_allowed_when_the_file_lists_only_alice(signed_repo, keys, tmp_path):
    from kfp_gates.pipelines.demo_steps.source_integrity import allowed_signers

    only_alice = allowed_signers(tmp_path / "only_alice", {"alice@example.com": keys.alice})
    result = verify_source(signed_repo.path, SourceOptions(since=_root(signed_repo), allowed_signers=only_alice),
                           BLOCK)
    bob_commit = signed_repo.git("rev-parse", "HEAD~1")
    assert [(f.id, f.data["commit"], f.data["author"]) for f in result.active_findings()] == [
        (sig.UNKNOWN_SIGNER, bob_commit, f"{BOB[0]} <{BOB[1]}>")
    ]


def test_partial_clone_never_fetches_missing_objects(signed_repo, keys, tmp_path):
    partial = tmp_path / "partial"
    signed_repo.git("config", "uploadpack.allowFilter", "true")
    signed_repo.git("config", "uploadpack.allowAnySHA1InWant", "true")
    subprocess.run(["git", "clone", "-q", "--filter=tree:0", "--no-checkout", f"file://{signed_repo.path}",
                    str(partial)], check=True, env=signed_repo_env())

    def objects() -> str:
        return subprocess.run(["git", "-C", str(partial), "count-objects", "-v"], capture_output=True, text=True,
                              env=signed_repo_env()).stdout

    before = objects()
    # the work-tree check needs trees the clone does not have: git must fail, not fetch them from origin
    assert "in-pack: 3" in before  # commits only: the clone really is partial
    with pytest.raises(KfpGatesError) as exc:
        verify_source(partial, SourceOptions(allowed_signers=keys.signers), BLOCK)
    assert exc.value.exit_code == 3 and "partial" in exc.value.message
    assert objects() == before


def test_control_characters_in_commit_metadata_are_neutralised(signed_repo, keys):
    signed_repo.commit("\x1b[2Jall good \x1b[32mPASS", {"t.py": "1\n"}, key=None, author=("Eve\x1b[0m", "e@x"))
    [f] = _verify(signed_repo, keys).active_findings()
    assert "\x1b" not in f.message and "\x1b" not in f.data["author"]
    assert "all good" in f.message
