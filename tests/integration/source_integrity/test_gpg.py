"""OpenPGP-signed commits verified against an armored key file (a private keyring built per run)."""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.severity import Decision
from kfp_gates.components.source_integrity import SourceOptions, verify_source
from kfp_gates.components.source_integrity import signatures as sig

from .conftest import gpg_commit

BLOCK = GateSettings(on_fail="block")


@pytest.fixture
def gpg_repo(make_repo, keys, gpg_identities):
    repo = make_repo("gpg")
    repo.commit("init (ssh)", {"a.py": "1\n"}, key=keys.alice)
    gpg_commit(repo, gpg_identities["carol"], "carol (gpg)", {"a.py": "2\n"})
    return repo


def _agents(home) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if "gpg-agent" in ln and str(home) in ln]


def test_gpg_and_ssh_signers_together_pass(gpg_repo, keys, gpg_identities):
    options = SourceOptions(since="HEAD~1", allowed_signers=keys.signers, gpg_keys=gpg_identities["carol"].public)
    result = verify_source(gpg_repo.path, options, BLOCK)
    assert result.decision is Decision.PASS, result.findings
    assert result.metadata["signature_formats"] == {"openpgp": 1}
    assert list(result.metadata["signers"]) == ["Carol <carol@example.com>"]


def test_gpg_only_keys_file_is_enough(gpg_repo, gpg_identities):
    result = verify_source(gpg_repo.path, SourceOptions(gpg_keys=gpg_identities["carol"].public), BLOCK)
    assert result.decision is Decision.PASS


def test_gpg_key_not_in_the_keys_file_blocks(gpg_repo, keys, gpg_identities):
    bad = gpg_commit(gpg_repo, gpg_identities["eve"], "eve (gpg)", {"a.py": "3\n"})
    options = SourceOptions(allowed_signers=keys.signers, gpg_keys=gpg_identities["carol"].public)
    [f] = verify_source(gpg_repo.path, options, BLOCK).active_findings()
    assert f.id == sig.UNKNOWN_SIGNER and f.data["commit"] == bad and f.data["signature_format"] == "openpgp"


def test_gpg_signature_with_only_ssh_signers_is_not_accepted(gpg_repo, keys):
    # The user's own keyring must not count: carol's key is in her GnuPG home, not in an allowed file.
    [f] = verify_source(gpg_repo.path, SourceOptions(allowed_signers=keys.signers), BLOCK).active_findings()
    assert f.id == sig.UNKNOWN_SIGNER and "OpenPGP" in f.message


def test_no_gpg_agent_is_left_running(gpg_repo, gpg_identities, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    verify_source(gpg_repo.path, SourceOptions(gpg_keys=gpg_identities["carol"].public), BLOCK)
    assert _agents(tmp_path) == []


def test_bad_key_files(gpg_repo, tmp_path):
    junk = tmp_path / "junk.asc"
    junk.write_text("not a key\n")
    with pytest.raises(ConfigError, match="no public key"):
        verify_source(gpg_repo.path, SourceOptions(gpg_keys=junk))
    with pytest.raises(InputNotFoundError):
        verify_source(gpg_repo.path, SourceOptions(gpg_keys=tmp_path / "missing.asc"))
