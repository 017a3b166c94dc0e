"""Finding git and its helpers; refusing a git too old for SSH signatures."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.source_integrity.git import GitTools


def _fake_git(tmp_path, version: str):
    exe = tmp_path / "git"
    exe.write_text(f"#!/bin/sh\necho 'git version {version}'\n")
    exe.chmod(0o755)
    return tmp_path


def test_old_git_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_git(tmp_path, "2.30.1")))
    with pytest.raises(ConfigError, match="too old"):
        GitTools.find()


def test_new_enough_git_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_fake_git(tmp_path, "2.43.0.windows.1")))
    tools = GitTools.find()
    assert tools.git == str(tmp_path / "git") and tools.git_version == "2.43.0.windows.1"
    assert tools.ssh_keygen is None and tools.gpg is None  # not on this PATH


def test_missing_git(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="git is not installed"):
        GitTools.find()


def test_real_git_on_this_machine():
    tools = GitTools.find()
    assert tools.ssh_keygen and tools.git_version
