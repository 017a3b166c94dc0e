"""Credential files: what a token file may hold, and that a malformed one is a usage error, not an outage."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.secrets._files import read_credential
from kfp_gates.components.secrets.auth import TokenAuth


@pytest.mark.parametrize("content", ["hvs.tok\n", "hvs.tok\r\n", "  hvs.tok  \n\n", "hvs.tok"])
def test_surrounding_whitespace_and_one_trailing_newline_are_fine(tmp_path, content: str) -> None:
    f = tmp_path / "token"
    f.write_bytes(content.encode())
    assert read_credential(f, "token file") == "hvs.tok"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("hvs.ab\r\ncd\n", "carriage return"),
        ("hvs.ab\ncd\n", "line break"),
        ("hvs.ab\rcd", "carriage return"),
        ("hvs.ab\x00cd", "control character"),
        ("hvs.ab\tcd", "control character"),
    ],
)
def test_a_control_character_inside_is_a_config_error_naming_the_file(tmp_path, content: str, kind: str) -> None:
    f = tmp_path / "token"
    f.write_bytes(content.encode())
    with pytest.raises(ConfigError) as exc:
        read_credential(f, "token file")
    assert kind in str(exc.value) and exc.value.where == str(f)
    assert "cd" not in str(exc.value) and "hvs.ab" not in exc.value.diagnostics()  # never the credential


def test_token_from_the_environment_is_checked_the_same_way() -> None:
    with pytest.raises(ConfigError, match="line break"):
        TokenAuth(env={"VAULT_TOKEN": "hvs.ab\ncd"})._token()


def test_cli_exits_2_naming_the_file_without_retrying_as_a_network_error(cli, tmp_path) -> None:
    """Before: requests refused the header (InvalidHeader), retried 3 times, exit 3 "unreachable"."""
    (tmp_path / "tok").write_bytes(b"hvs.abc\r\ndef\n")
    r = cli(
        "secret", "fetch", "--auth", "token", "--token-file", "tok", "--addr", "http://127.0.0.1:9",
        "--path", "secret/x", "--timeout", "2s",
    )  # fmt: skip
    assert r.code == 2, r
    assert "tok" in r.err and "carriage return" in r.err and "unreachable" not in r.err and "retry" not in r.err
