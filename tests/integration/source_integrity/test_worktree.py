"""The work tree must be exactly the verified commit, and nothing may hide a change from git."""

from __future__ import annotations

from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.severity import Decision
from kfp_gates.components.source_integrity import SourceOptions, verify_source
from kfp_gates.components.source_integrity import worktree as wt

BLOCK = GateSettings(on_fail="block")


def _verify(repo, keys, **kw):
    return verify_source(repo.path, SourceOptions(allowed_signers=keys.signers, **kw), BLOCK)


def _ids(result):
    return [f.id for f in result.active_findings()]


def test_clean_checkout_passes_and_ignored_build_output_is_fine(signed_repo, keys):
    (signed_repo.path / "__pycache__").mkdir()
    (signed_repo.path / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (signed_repo.path / "run.log").write_text("log\n")  # ignored by the commit's own .gitignore
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.PASS, result.findings
    assert result.metadata["work_tree_checked"] is True


def test_modified_tracked_file_blocks_naming_the_commit_and_path(signed_repo, keys):
    (signed_repo.path / "train.py").write_text("import os; os.system('exfiltrate')\n")
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    [f] = result.active_findings()
    head = signed_repo.git("rev-parse", "HEAD")
    assert f.id == wt.DIRTY and f.data["modified"] == ["train.py"] and f.data["commit"] == head
    assert head[:12] in f.message and "train.py" in f.message


def test_untracked_and_staged_files_block(signed_repo, keys):
    (signed_repo.path / "helper.py").write_text("x = 1\n")
    (signed_repo.path / "staged.py").write_text("y = 1\n")
    signed_repo.git("add", "staged.py")
    [f] = _verify(signed_repo, keys).active_findings()
    assert f.id == wt.DIRTY
    assert f.data["untracked"] == ["helper.py"] and f.data["modified"] == ["staged.py"]


def test_allow_dirty_skips_the_work_tree(signed_repo, keys):
    (signed_repo.path / "train.py").write_text("changed\n")
    result = _verify(signed_repo, keys, require_clean_tree=False)
    assert result.decision is Decision.PASS and result.metadata["work_tree_checked"] is False


def test_assume_unchanged_cannot_hide_an_edit(signed_repo, keys):
    signed_repo.git("update-index", "--assume-unchanged", "train.py")
    (signed_repo.path / "train.py").write_text("print('hidden edit')\n")
    assert signed_repo.git("status", "--porcelain") == ""  # plain git status is fooled
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    [f] = [f for f in result.active_findings() if f.id == wt.HIDDEN]
    assert f.data["paths"] == ["train.py"]


def test_skip_worktree_file_on_disk_is_reported(signed_repo, keys):
    signed_repo.git("update-index", "--skip-worktree", "data.py")
    (signed_repo.path / "data.py").write_text("rows = 10**9\n")
    assert wt.HIDDEN in _ids(_verify(signed_repo, keys))


def test_file_hidden_by_info_exclude_is_unreviewed_code(signed_repo, keys):
    (signed_repo.path / ".git" / "info" / "exclude").write_text("sitecustomize.py\n")
    (signed_repo.path / "sitecustomize.py").write_text("import evil\n")
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    [f] = result.active_findings()
    assert f.id == wt.UNREVIEWED_IGNORE and f.data["paths"] == ["sitecustomize.py"]
    assert ".git/info/exclude" in f.data["sources"]


def test_untracked_gitignore_that_ignores_itself_is_not_trusted(signed_repo, keys):
    sub = signed_repo.path / "pkg"
    sub.mkdir()
    (sub / ".gitignore").write_text(".gitignore\npayload.py\n")
    (sub / "payload.py").write_text("import evil\n")
    [f] = _verify(signed_repo, keys).active_findings()
    assert f.id == wt.UNREVIEWED_IGNORE
    assert sorted(f.data["paths"]) == ["pkg/.gitignore", "pkg/payload.py"]


def test_clean_filter_in_repo_config_is_refused_and_never_run(signed_repo, keys, tmp_path):
    marker = tmp_path / "filter-ran"
    signed_repo.git("config", "filter.evil.clean", f"sh -c 'touch {marker}; cat'")
    (signed_repo.path / ".git" / "info" / "attributes").write_text("*.py filter=evil\n")
    (signed_repo.path / "train.py").write_text("changed\n")
    result = _verify(signed_repo, keys)
    assert result.decision is Decision.FAIL
    [f] = result.active_findings()
    assert f.id == wt.UNSAFE_CONFIG and "filter.evil.clean" in f.message
    assert not marker.exists()


def test_core_worktree_redirect_is_refused(signed_repo, keys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    signed_repo.git("config", "core.worktree", str(elsewhere))
    assert wt.UNSAFE_CONFIG in _ids(_verify(signed_repo, keys))


def test_fsmonitor_hook_in_repo_config_never_runs(signed_repo, keys, tmp_path):
    marker = tmp_path / "fsmonitor-ran"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    hook.chmod(0o755)
    signed_repo.git("config", "core.fsmonitor", str(hook))
    assert _verify(signed_repo, keys).decision is Decision.PASS
    assert not marker.exists()


def test_checkout_at_another_commit_than_the_verified_one_blocks(signed_repo, keys):
    verified = signed_repo.git("rev-parse", "HEAD~1")
    result = _verify(signed_repo, keys, rev=verified)
    assert _ids(result) == [wt.HEAD_MISMATCH]
    assert result.active_findings()[0].data["verified"] == verified


def test_verification_leaves_the_repository_untouched(signed_repo, keys):
    git_dir = signed_repo.path / ".git"
    before = {p: p.stat().st_mtime_ns for p in git_dir.rglob("*") if p.is_file()}
    (signed_repo.path / "train.py").touch()  # stat change: a writing `git status` would refresh the index
    _verify(signed_repo, keys)
    after = {p: p.stat().st_mtime_ns for p in git_dir.rglob("*") if p.is_file()}
    assert before == after


def test_mode_change_is_dirty_unless_modes_are_ignored(signed_repo, keys):
    (signed_repo.path / "train.py").chmod(0o755)
    assert _ids(_verify(signed_repo, keys)) == [wt.DIRTY]
    assert _verify(signed_repo, keys, ignore_file_mode=True).decision is Decision.PASS
    (signed_repo.path / "train.py").write_text("edited\n")
    assert _ids(_verify(signed_repo, keys, ignore_file_mode=True)) == [wt.DIRTY]  # content still counts


def test_directory_inside_a_checkout_is_not_verified_as_that_checkout(signed_repo, keys):
    import pytest

    from kfp_gates.components.common.errors import ConfigError

    # e.g. an artifact copy that lost its .git, placed in a directory the parent repo ignores
    copy = signed_repo.path / "__pycache__" / "copy"
    copy.mkdir(parents=True)
    (copy / "train.py").write_text("import evil\n")
    with pytest.raises(ConfigError, match="not a git repository"):
        verify_source(copy, SourceOptions(allowed_signers=keys.signers), BLOCK)


def test_self_ignoring_tool_cache_is_shown_but_does_not_block(signed_repo, keys):
    cache = signed_repo.path / ".ruff_cache"
    (cache / "0.6.0").mkdir(parents=True)
    (cache / ".gitignore").write_text("# Automatically created by ruff.\n*\n")
    (cache / "0.6.0" / "1234567890").write_bytes(b"\0cache")
    result = _verify(signed_repo, keys)
    [f] = result.active_findings()
    assert f.id == wt.UNREVIEWED_IGNORE and f.severity.value == "low" and f.data["code"] == []
    assert result.decision is Decision.WARN
    # the same trick hiding a Python file blocks
    (cache / "0.6.0" / "hook.py").write_text("import evil\n")
    [f] = _verify(signed_repo, keys).active_findings()
    assert f.severity.value == "high" and f.data["code"] == [".ruff_cache/0.6.0/"]  # git names the directory


def test_ignored_directory_holding_code_blocks(signed_repo, keys):
    (signed_repo.path / ".git" / "info" / "exclude").write_text("vendor/\n")
    (signed_repo.path / "vendor" / "lib").mkdir(parents=True)
    (signed_repo.path / "vendor" / "lib" / "patched.py").write_text("x = 1\n")
    [f] = _verify(signed_repo, keys).active_findings()
    assert f.severity.value == "high" and f.data["code"] == ["vendor/"]
