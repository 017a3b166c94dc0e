"""Dynamic secrets with leases, recorded per run and revoked; token renewal.

The lease-producing engine is OpenBao's PKI secrets engine with a role that has
``generate_lease=true``: every issued certificate gets a real lease, runs
offline in the dev server, and revoking the lease revokes the certificate
(visible as ``revocation_time`` on ``pki/cert/<serial>``).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from kfp_gates.components.secrets import SecretRef, VaultConfig, login, unwrap
from kfp_gates.components.secrets.auth import TokenAuth
from kfp_gates.components.secrets.leases import (
    LeaseRegistry,
    TokenRenewer,
    renew_lease,
    renew_token,
    revoke_leases,
)
from kfp_gates.components.secrets.steps import StepAuth, fetch_step, revoke_step
from kfp_gates.components.secrets.wrapping import fetch_wrapped


@pytest.fixture(scope="module")
def pki(vault):
    mount = f"pki-{vault.kv}"
    a = vault.admin
    a.sys.enable_secrets_engine("pki", path=mount, config={"max_lease_ttl": "24h"})
    a.adapter.post(f"/v1/{mount}/root/generate/internal", json={"common_name": "ca.example.test", "ttl": "24h"})
    a.adapter.post(
        f"/v1/{mount}/roles/svc",
        json={"allowed_domains": "example.test", "allow_subdomains": True, "generate_lease": True, "ttl": "1h"},
    )
    policy = f"dyn-{vault.kv}"
    a.sys.create_or_update_policy(
        policy,
        f'path "{mount}/issue/svc" {{ capabilities = ["update"] }}\n'
        f'path "{vault.kv}/data/kfp-gates/leases/*" {{ capabilities = ["create", "update"] }}\n',
    )
    a.auth.approle.create_or_update_approle("dyn", token_policies=[policy], token_ttl="10m", mount_point=vault.approle)
    return mount


def _revoked(vault, mount: str, serial: str) -> bool:
    cert = vault.admin.adapter.get(f"/v1/{mount}/cert/{serial}")["data"]
    return int(cert.get("revocation_time") or 0) > 0


def _dyn_auth(vault, tmp_path) -> StepAuth:
    role_id = vault.admin.auth.approle.read_role_id("dyn", mount_point=vault.approle)["data"]["role_id"]
    sid = vault.admin.auth.approle.generate_secret_id("dyn", mount_point=vault.approle)["data"]["secret_id"]
    f = tmp_path / "dyn-sid"
    f.write_text(sid)
    f.chmod(0o600)
    return StepAuth("approle", role_id=role_id, credential_file=str(f), mount=vault.approle)


def test_dynamic_secret_lease_is_recorded_for_the_run_and_revoked_at_the_end(vault, pki, tmp_path):
    run_id = f"run-{time.time_ns()}"
    wrapped = fetch_step(
        vault_addr=vault.addr,
        secret_path=f"{pki}/issue/svc",
        auth=_dyn_auth(vault, tmp_path),
        dynamic=True,
        params={"common_name": "a.example.test"},
        wrap_ttl="2m",
        run_id=run_id,
        lease_registry=f"{vault.kv}/kfp-gates/leases",
    )
    assert wrapped.lease is not None and wrapped.lease.lease_id.startswith(f"{pki}/issue/svc/")
    assert 0 < wrapped.lease.duration <= 3600
    cert = unwrap(VaultConfig(vault.addr), wrapped.token)
    serial = cert["serial_number"]
    assert "BEGIN" in cert["certificate"] and not _revoked(vault, pki, serial)
    registry = LeaseRegistry(vault.admin, mount=vault.kv)
    assert list(registry.pending(run_id).values()) == [wrapped.lease.lease_id]

    # The exit handler's identity gets exactly what the README lists, nothing more.
    cleanup_policy = f"lease-cleanup-{vault.kv}"
    vault.admin.sys.create_or_update_policy(
        cleanup_policy,
        f'path "{vault.kv}/metadata/kfp-gates/leases/*" {{ capabilities = ["list", "delete"] }}\n'
        f'path "{vault.kv}/data/kfp-gates/leases/*" {{ capabilities = ["read"] }}\n'
        'path "sys/leases/revoke" { capabilities = ["update"] }\n',
    )
    cleanup_token = vault.admin.auth.token.create(policies=[cleanup_policy], ttl="5m")["auth"]["client_token"]
    vault.leaks.append(cleanup_token)
    cleanup_file = tmp_path / "cleanup-token"
    cleanup_file.write_text(cleanup_token)
    report = revoke_step(
        vault_addr=vault.addr,
        run_id=run_id,
        auth=StepAuth("token", credential_file=str(cleanup_file)),
        lease_registry=f"{vault.kv}/kfp-gates/leases",
    )
    assert report.revoked == (wrapped.lease.lease_id,) and report.ok
    assert _revoked(vault, pki, serial)
    assert registry.pending(run_id) == {}
    # Running the exit handler again is harmless.
    again = revoke_step(
        vault_addr=vault.addr,
        run_id=run_id,
        auth=StepAuth("token", credential_file=str(vault.root_token_file)),
        lease_registry=f"{vault.kv}/kfp-gates/leases",
    )
    assert again.revoked == ()


def test_lease_renewal_and_direct_revocation(vault, pki):
    client, _ = login(VaultConfig(vault.addr), TokenAuth(token_file=str(vault.root_token_file)))
    wrapped = fetch_wrapped(
        client,
        SecretRef(f"{pki}/issue/svc", kind="dynamic", params={"common_name": "b.example.test"}),
        timedelta(minutes=1),
    )
    serial = unwrap(VaultConfig(vault.addr), wrapped.token)["serial_number"]
    lease = wrapped.lease
    assert lease is not None
    if lease.renewable:
        assert renew_lease(client, lease, increment=600).duration > 0
    report = revoke_leases(client, [lease.lease_id, lease.lease_id])
    assert report.revoked == (lease.lease_id,)
    assert _revoked(vault, pki, serial)


def test_token_renewal_extends_a_short_token(vault):
    token = vault.admin.auth.token.create(policies=["default"], ttl="3s", explicit_max_ttl="60s", renewable=True)[
        "auth"
    ]["client_token"]
    vault.leaks.append(token)
    client, who = login(VaultConfig(vault.addr), TokenAuth(env={"VAULT_TOKEN": token}))
    assert who.ttl <= 3
    assert renew_token(client, increment=30) > 3
    with TokenRenewer(client, ttl=3, fraction=0.3, min_interval=0.5) as renewer:
        time.sleep(1.5)
    assert renewer.renewals >= 1 and not renewer.errors
    assert client.auth.token.lookup_self()["data"]["ttl"] > 0


def test_cli_dynamic_fetch_records_the_lease_for_the_run(cli, vault, pki, tmp_path):
    run_id = f"cli-run-{time.time_ns()}"
    r = cli("secret", "fetch", "--auth", "token", "--token-file", str(vault.root_token_file), "--dynamic",
            "--param", "common_name=c.example.test", "--path", f"{pki}/issue/svc", "--run-id", run_id,
            "--lease-registry", f"{vault.kv}/kfp-gates/leases", env=vault.env())  # fmt: skip
    assert r.code == 0, r
    assert f"recorded for run {run_id}" in r.err
    (tmp_path / "wt").write_text(r.out)
    u = cli("secret", "unwrap", "--token-file", str(tmp_path / "wt"), "--to-dir", str(tmp_path / "cert"),
            env=vault.env())  # fmt: skip
    assert u.code == 0 and (tmp_path / "cert" / "private_key").read_text().startswith("-----BEGIN")
    assert "PRIVATE KEY" not in u.out + u.err + r.out + r.err
    report = LeaseRegistry(vault.admin, mount=vault.kv).revoke_run(run_id)
    assert len(report.revoked) == 1
    serial = (tmp_path / "cert" / "serial_number").read_text()
    assert _revoked(vault, pki, serial)
    bad = cli("secret", "fetch", "--auth", "token", "--token-file", str(vault.root_token_file), "--param", "a=b",
              "--path", f"{pki}/issue/svc", env=vault.env())  # fmt: skip
    assert bad.code == 2 and "--dynamic" in bad.err
