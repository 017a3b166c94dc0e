"""``kfp-gates secret`` end to end through the console script, including every failure path.

Every captured stdout/stderr is searched for the secret values, secret ids
and tokens handed out (``vault.assert_no_leak``).
"""

from __future__ import annotations

import json
import socket
import stat
import threading
from datetime import timedelta

import pytest

from kfp_gates.components.common.errors import InfrastructureError
from kfp_gates.components.secrets import SecretRef, VaultConfig, fetch_wrapped, login, server_status
from kfp_gates.components.secrets.auth import AppRoleAuth, TokenAuth


def _fetch_args(vault, sid=None, *extra: str) -> list[str]:
    return [
        "secret", "fetch", "--auth", "approle", "--role-id", vault.role_id,
        "--auth-mount", vault.approle, "--secret-id-file", str(sid or vault.new_secret_id()),
        "--path", f"{vault.kv}/app/db", "--wrap-ttl", "2m", *extra,
    ]  # fmt: skip


def test_fetch_prints_only_the_wrapping_token_and_unwrap_delivers_files(cli, vault, tmp_path):
    r = cli(*_fetch_args(vault), env=vault.env())
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(("s.", "hvs."))
    token = lines[0]
    vault.leaks.append(token)
    (tmp_path / "wt").write_text(token)
    u = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--to-dir", str(tmp_path / "out"),
            "--expect-path", f"{vault.kv}/data/app/db", "--format", "json", env=vault.env())  # fmt: skip
    assert u.code == 0, u
    result = json.loads(u.out)
    assert result["decision"] == "pass" and result["metadata"]["fields"] == ["password", "user"]
    assert (tmp_path / "out" / "password").read_text() == vault.password_v2
    assert stat.S_IMODE((tmp_path / "out" / "password").stat().st_mode) == 0o600
    vault.assert_no_leak(r.err, u.out, u.err)
    assert token not in u.out + u.err

    # The second unwrap is a security finding: exit 1, no files, nothing leaked.
    again = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--to-dir", str(tmp_path / "out2"),
                "--format", "json", env=vault.env())  # fmt: skip
    assert again.code == 1, again
    assert json.loads(again.out)["findings"][0]["id"] == "KFPG-SECRETS-WRAP-REUSED"
    assert not (tmp_path / "out2").exists()
    vault.assert_no_leak(again.out, again.err)


def test_unwrap_into_a_commands_environment(cli, vault, tmp_path):
    token = cli(*_fetch_args(vault, None, "--token-out", str(tmp_path / "wt")), env=vault.env())
    assert token.code == 0 and token.out == "", token
    assert stat.S_IMODE((tmp_path / "wt").stat().st_mode) == 0o600
    script = (
        "import hashlib, os; "
        "print(hashlib.sha256(os.environ['DB_PASSWORD'].encode()).hexdigest(), "
        "os.environ['DB_USER'], 'VAULT_TOKEN' in os.environ)"
    )
    import hashlib
    import sys

    u = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--env-prefix", "DB_", "--",
            sys.executable, "-c", script, env=vault.env(VAULT_TOKEN="s.parent-token-must-not-pass-down"))  # fmt: skip
    assert u.code == 0, u
    digest, user, has_token = u.out.split()
    assert digest == hashlib.sha256(vault.password_v2.encode()).hexdigest()
    assert (user, has_token) == ("svc", "False")
    vault.assert_no_leak(token.err, u.out, u.err)


def test_command_exit_code_is_passed_through(cli, vault, tmp_path):
    assert cli(*_fetch_args(vault, None, "--token-out", str(tmp_path / "wt")), env=vault.env()).code == 0
    u = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--", "sh", "-c", "exit 7", env=vault.env())
    assert u.code == 7


def test_wrong_secret_id_exits_2_without_leaking_it(cli, vault, tmp_path):
    bad = tmp_path / "sid"
    bad.write_text("11111111-2222-3333-4444-555555555555")
    bad.chmod(0o600)
    r = cli(*_fetch_args(vault, bad), env=vault.env())
    assert r.code == 2, r
    assert "approle login" in r.err and "Traceback" not in r.err
    assert "11111111-2222-3333-4444-555555555555" not in r.out + r.err
    assert r.out == ""


def test_missing_secret_id_file_exits_2(cli, vault, tmp_path):
    r = cli(*_fetch_args(vault, tmp_path / "absent"), env=vault.env())
    assert r.code == 2 and "secret id file not found" in r.err, r


def test_permission_denied_path_exits_2(cli, vault):
    args = _fetch_args(vault)
    args[args.index("--path") + 1] = f"{vault.kv}/other/api"
    r = cli(*args, env=vault.env())
    assert r.code == 2 and "permission denied" in r.err, r
    vault.assert_no_leak(r.out, r.err)


def test_secret_looking_flag_values_and_bad_usage_exit_2(cli, vault, tmp_path):
    assert cli("secret", "fetch", "--auth", "approle", "--path", "x/y", env=vault.env()).code == 2
    r = cli("secret", "unwrap", "--token-file", str(tmp_path / "nope"), "--to-dir", str(tmp_path / "o"),
            env=vault.env())  # fmt: skip
    assert r.code == 2 and "not found" in r.err
    (tmp_path / "t").write_text("s.AAAAAAAAAAAAAAAAAAAAAAAA")
    both = cli("secret", "unwrap", "--token-file", str(tmp_path / "t"), env=vault.env())
    assert both.code == 2 and "exactly one of" in both.err
    skip = cli(*_fetch_args(vault), env=vault.env(VAULT_SKIP_VERIFY="true"))
    assert skip.code == 2 and "never disables TLS verification" in skip.err


def test_unreachable_server_exits_3(cli, vault, tmp_path):
    from kfp_gates.components.secrets.devserver import free_port

    addr = f"http://127.0.0.1:{free_port()}"
    r = cli(*_fetch_args(vault), env={"VAULT_ADDR": addr, "VAULT_MAX_RETRIES": "1"})
    assert r.code == 3 and "unreachable" in r.err, r
    assert cli("secret", "status", env={"VAULT_ADDR": addr}).code == 3


def test_status_of_an_active_server(cli, vault):
    r = cli("secret", "status", env=vault.env())
    assert r.code == 0 and ": active (version" in r.out, r


def test_server_that_never_answers_times_out_with_exit_3(cli, vault, tmp_path):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])  # accept, never answer
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        addr = f"http://127.0.0.1:{srv.getsockname()[1]}"
        r = cli(*_fetch_args(vault), "--timeout", "1s", env={"VAULT_ADDR": addr, "VAULT_MAX_RETRIES": "0"})
    finally:
        stop.set()
        acceptor.join(timeout=5)
        for c in held:
            c.close()
        srv.close()
    assert r.code == 3 and "did not answer in time" in r.err, r


def test_server_stopped_mid_run_is_an_infrastructure_error(openbao_factory, tmp_path, cli):
    server = openbao_factory()
    admin = server.client()
    admin.secrets.kv.v2.create_or_update_secret(path="app/db", secret={"password": "pw-stopped-run-123"})
    token_file = tmp_path / "token"
    token_file.write_text(server.root_token)
    client, _ = login(VaultConfig(server.addr, retries=2, backoff=0.01), TokenAuth(token_file=str(token_file)))
    assert fetch_wrapped(client, SecretRef("app/db"), timedelta(minutes=1)).ttl > 0
    server.stop()  # the server goes away between two calls of the same run
    with pytest.raises(InfrastructureError, match="unreachable") as exc:
        fetch_wrapped(client, SecretRef("app/db"), timedelta(minutes=1))
    assert exc.value.exit_code == 3
    assert client.adapter.stats.retries == 2  # connection errors were retried, then given up
    r = cli("secret", "fetch", "--auth", "token", "--token-file", str(token_file), "--path", "secret/app/db",
            env={"VAULT_ADDR": server.addr, "VAULT_MAX_RETRIES": "0"})  # fmt: skip
    assert r.code == 3, r
    assert "pw-stopped-run-123" not in r.out + r.err and server.root_token not in r.out + r.err


def test_sealed_server_exits_3_and_says_sealed(openbao_factory, tmp_path, cli):
    server = openbao_factory()
    admin = server.client()
    admin.secrets.kv.v2.create_or_update_secret(path="app/db", secret={"password": "pw-sealed-123"})
    token_file = tmp_path / "token"
    token_file.write_text(server.root_token)
    admin.sys.seal()
    status = server_status(__import__("hvac").Client(url=server.addr))
    assert status.sealed and status.describe() == "sealed"
    r = cli("secret", "fetch", "--auth", "token", "--token-file", str(token_file), "--path", "secret/app/db",
            env={"VAULT_ADDR": server.addr, "VAULT_MAX_RETRIES": "0"})  # fmt: skip
    assert r.code == 3 and "sealed" in r.err, r
    assert server.root_token not in r.out + r.err
    st = cli("secret", "status", env={"VAULT_ADDR": server.addr})
    assert st.code == 3 and "sealed" in st.out + st.err, st
    # unwrap against a sealed server is an infrastructure error too, not a (false) security finding
    (tmp_path / "wt").write_text("s.BBBBBBBBBBBBBBBBBBBBBBBB")
    u = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--to-dir", str(tmp_path / "o"),
            env={"VAULT_ADDR": server.addr, "VAULT_MAX_RETRIES": "0"})  # fmt: skip
    assert u.code == 3 and "sealed" in u.err, u


def test_approle_login_from_the_engine_registers_the_secret_id(vault):
    from kfp_gates.components.common import redact

    sid_file = vault.new_secret_id()
    login(VaultConfig(vault.addr), AppRoleAuth(role_id=vault.role_id, secret_id_file=str(sid_file),
                                               mount=vault.approle))  # fmt: skip
    sid = sid_file.read_text()
    assert redact.redact(f"secret id {sid}") == "secret id [REDACTED]"


def test_spent_token_never_runs_the_command(cli, vault, tmp_path):
    assert cli(*_fetch_args(vault, None, "--token-out", str(tmp_path / "wt")), env=vault.env()).code == 0
    first = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--to-dir", str(tmp_path / "a"),
                env=vault.env())  # fmt: skip
    assert first.code == 0
    marker = tmp_path / "ran"
    again = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--", "touch", str(marker),
                env=vault.env())  # fmt: skip
    assert again.code == 1 and not marker.exists()
    assert "KFPG-SECRETS-WRAP-REUSED" in again.out


def test_debug_traces_are_redacted(cli, vault):
    sid = vault.new_secret_id()
    args = _fetch_args(vault, sid)
    args[args.index("--path") + 1] = f"{vault.kv}/other/api"
    r = cli("--debug", *args, env=vault.env())
    assert r.code == 2 and "Traceback" in r.err
    vault.assert_no_leak(r.out, r.err)


class _StopAfterFirstRequest:
    """A loopback TCP proxy to a real server that stops the server when the second request arrives.

    The CLI logs in (first request) and then, while it reads the secret, the
    server goes away: the run is interrupted in the middle, not refused at
    the start.
    """

    def __init__(self, server) -> None:
        self.server = server
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        except OSError:
            client.close()
            return
        client.settimeout(5)
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                self.requests += data.count(b" HTTP/1.1\r\n")
                if self.requests >= 2:
                    self.server.stop()
                    break
                upstream.sendall(data)
                upstream.settimeout(5)
                reply = upstream.recv(65536)
                client.sendall(reply)
        except OSError:
            pass
        finally:
            upstream.close()
            client.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_cli_run_interrupted_by_the_server_stopping_exits_3(openbao_factory, tmp_path, cli):
    server = openbao_factory()
    server.client().secrets.kv.v2.create_or_update_secret(path="app/db", secret={"password": "pw-mid-run-9876"})
    token_file = tmp_path / "token"
    token_file.write_text(server.root_token)
    proxy = _StopAfterFirstRequest(server)
    try:
        r = cli("secret", "fetch", "--auth", "token", "--token-file", str(token_file), "--path", "secret/app/db",
                env={"VAULT_ADDR": proxy.addr, "VAULT_MAX_RETRIES": "1"})  # fmt: skip
    finally:
        proxy.close()
    assert proxy.requests >= 2, "the login went through before the server stopped"
    assert server.proc.poll() is not None
    assert r.code == 3 and "unreachable" in r.err, r
    assert "pw-mid-run-9876" not in r.out + r.err and server.root_token not in r.out + r.err
