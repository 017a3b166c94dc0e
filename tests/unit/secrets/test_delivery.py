"""Delivering secret fields into 0600 files or a command's environment."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.secrets.delivery import command_env, run_with_env, secret_env, write_fields
from kfp_gates.components.secrets.reading import SecretData


def _secret(**fields: str) -> SecretData:
    return SecretData(fields=fields)


def test_files_are_0600_in_a_0700_directory_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        paths = write_fields(_secret(password="p-1234", user="svc"), tmp_path / "s")
    finally:
        os.umask(old)
    assert [p.name for p in paths] == ["password", "user"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o600}
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    assert (tmp_path / "s" / "password").read_text() == "p-1234"


def test_existing_file_or_planted_symlink_is_never_overwritten(tmp_path):
    d = tmp_path / "s"
    d.mkdir(mode=0o700)
    target = tmp_path / "elsewhere"
    os.symlink(target, d / "user")
    with pytest.raises(ConfigError, match="overwrite"):
        write_fields(_secret(password="p-1234", user="svc"), d)
    assert not target.exists()
    assert not (d / "password").exists()  # all or nothing


def test_unsafe_directories_are_refused(tmp_path):
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    with pytest.raises(ConfigError, match="writable by other users"):
        write_fields(_secret(a="bbbb"), open_dir)
    link = tmp_path / "link"
    os.symlink(tmp_path, link)
    with pytest.raises(ConfigError, match="symlink"):
        write_fields(_secret(a="bbbb"), link)


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "..", "x" * 300])
def test_field_names_that_are_not_plain_file_names_are_refused(tmp_path, name):
    with pytest.raises(ConfigError):
        write_fields(_secret(**{name: "value"}), tmp_path / "s")


def test_environment_names_and_protected_variables():
    assert secret_env(_secret(**{"db-password": "x", "api.key": "y"}), "APP_") == {
        "APP_DB_PASSWORD": "x",
        "APP_API_KEY": "y",
    }
    with pytest.raises(ConfigError, match="PATH"):
        secret_env(_secret(path="/evil"))
    with pytest.raises(ConfigError):
        secret_env(_secret(**{"1abc": "x"}))


def test_command_env_drops_vault_tokens():
    env = command_env(_secret(password="p"), base={"VAULT_TOKEN": "s.x", "BAO_TOKEN": "s.y", "HOME": "/h"})
    assert env == {"HOME": "/h", "PASSWORD": "p"}


def test_run_with_env_returns_the_commands_exit_code():
    code = run_with_env(_secret(token="abc-123"), [sys.executable, "-c",
                        "import os, sys; sys.exit(0 if os.environ['TOKEN'] == 'abc-123' else 5)"])  # fmt: skip
    assert code == 0
    with pytest.raises(ConfigError, match="not found"):
        run_with_env(_secret(a="b"), ["/nonexistent/cmd"])
    with pytest.raises(ConfigError, match="no command"):
        run_with_env(_secret(a="b"), [])


def test_consumer_reads_token_and_public_metadata(tmp_path):
    from kfp_gates.components.secrets import consumer

    class Art:
        path = str(tmp_path / "wrapped")
        metadata = {"creation_time": "2026-01-01T00:00:00.123456789Z", "ttl": 300.0, "vault_addr": "http://x:1"}

    (tmp_path / "wrapped").write_text("s.Token-Abcdefghijklmnopqrstuv\n")
    token, meta = consumer._token_and_meta(Art())
    assert token == "s.Token-Abcdefghijklmnopqrstuv" and meta["ttl"] == 300.0
    with pytest.raises(ConfigError, match="not found"):
        consumer._token_and_meta(str(tmp_path / "missing"))
