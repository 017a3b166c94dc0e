"""TLS with a CA bundle (VAULT_CACERT) and Vault namespaces, on a private OpenBao dev server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.evidence import statement_json
from kfp_gates.components.secrets import SecretRef, VaultConfig, fetch_wrapped, login, read_secret
from kfp_gates.components.secrets.auth import TokenAuth
from kfp_gates.components.secrets.delivery import unwrap_and_deliver
from kfp_gates.components.secrets.devserver import OpenBaoServer


@pytest.fixture(scope="module")
def tls_server():
    with OpenBaoServer(tls=True) as server:
        admin = server.client()
        admin.secrets.kv.v2.create_or_update_secret(path="app/db", secret={"password": "pw-over-tls-4242"})
        admin.adapter.post("/v1/sys/namespaces/team-a")
        admin.adapter.post("/v1/sys/mounts/kv", json={"type": "kv", "options": {"version": "2"}},
                           headers={"X-Vault-Namespace": "team-a"})  # fmt: skip
        admin.adapter.post("/v1/kv/data/ml/db", json={"data": {"password": "pw-in-namespace-77"}},
                           headers={"X-Vault-Namespace": "team-a"})  # fmt: skip
        yield server


@pytest.fixture
def token_file(tls_server, tmp_path):
    f = tmp_path / "token"
    f.write_text(tls_server.root_token)
    return str(f)


def test_https_with_the_ca_bundle_from_vault_cacert(tls_server, token_file):
    cfg = VaultConfig.from_env(env={"VAULT_ADDR": tls_server.addr, "VAULT_CACERT": tls_server.ca_cert})
    client, _ = login(cfg, TokenAuth(token_file=token_file))
    wrapped = fetch_wrapped(client, SecretRef("app/db"), timedelta(minutes=1))
    delivery = unwrap_and_deliver(cfg, wrapped.token)
    assert delivery.secret is not None and delivery.secret["password"] == "pw-over-tls-4242"
    evidence = statement_json(delivery.result)
    assert "pw-over-tls-4242" not in evidence and wrapped.token not in evidence


def test_unknown_ca_is_a_config_error_not_a_silent_downgrade(tls_server, token_file, cli):
    with pytest.raises(ConfigError, match="TLS verification"):
        login(VaultConfig(tls_server.addr), TokenAuth(token_file=token_file))
    r = cli("secret", "fetch", "--auth", "token", "--token-file", token_file, "--path", "secret/app/db",
            env={"VAULT_ADDR": tls_server.addr, "VAULT_MAX_RETRIES": "0"})  # fmt: skip
    assert r.code == 2 and "TLS verification" in r.err, r
    ok = cli("secret", "fetch", "--auth", "token", "--token-file", token_file, "--path", "secret/app/db",
             "--ca-cert", tls_server.ca_cert, env={"VAULT_ADDR": tls_server.addr})  # fmt: skip
    assert ok.code == 0 and ok.out.startswith(("s.", "hvs.")), ok


def test_namespace_from_vault_namespace(tls_server, token_file):
    env = {"VAULT_ADDR": tls_server.addr, "VAULT_CACERT": tls_server.ca_cert, "VAULT_NAMESPACE": "team-a"}
    client, _ = login(VaultConfig.from_env(env=env), TokenAuth(token_file=token_file))
    assert read_secret(client, SecretRef.parse("kv/ml/db"))["password"] == "pw-in-namespace-77"
    root_ns, _ = login(VaultConfig(tls_server.addr, ca_cert=tls_server.ca_cert), TokenAuth(token_file=token_file))
    with pytest.raises(ConfigError):
        read_secret(root_ns, SecretRef.parse("kv/ml/db"))
