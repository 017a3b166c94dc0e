"""A prepared OpenBao dev server: a private KV v2 and KV v1 mount, AppRole with a least-privilege policy.

Built on the session ``openbao`` server (shared with other gates' tests), so
every mount and role has a random suffix.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Vault:
    server: object  # OpenBaoServer
    admin: object  # hvac.Client (root)
    kv: str
    kv1: str
    approle: str
    role_id: str
    secret_id_file: Path
    root_token_file: Path
    password_v1: str
    password_v2: str
    api_key: str
    policy: str
    tmp: Path
    leaks: list[str] = field(default_factory=list)

    @property
    def addr(self) -> str:
        return self.server.addr  # type: ignore[attr-defined]

    def env(self, **extra: str) -> dict[str, str]:
        return {"VAULT_ADDR": self.addr, "VAULT_MAX_RETRIES": "1", **extra}

    def new_secret_id(self, name: str = "sid") -> Path:
        sid = self.admin.auth.approle.generate_secret_id("fetcher", mount_point=self.approle)["data"]["secret_id"]
        p = self.tmp / f"{name}-{secrets.token_hex(3)}"
        p.write_text(sid)
        os.chmod(p, 0o600)
        self.leaks.append(sid)
        return p

    def assert_no_leak(self, *texts: str) -> None:
        """None of the secret values, secret ids or tokens handed out appear in ``texts``."""
        for text in texts:
            for value in (self.password_v1, self.password_v2, self.api_key, *self.leaks):
                assert value not in text, f"secret value leaked: {value[:3]}..."


@pytest.fixture(scope="module")
def vault(openbao, tmp_path_factory) -> Iterator[Vault]:
    admin = openbao.client()
    sfx = secrets.token_hex(4)
    kv, kv1, approle = f"kv-{sfx}", f"kv1-{sfx}", f"approle-{sfx}"
    admin.sys.enable_secrets_engine("kv", path=kv, options={"version": "2"})
    admin.sys.enable_secrets_engine("kv", path=kv1, options={"version": "1"})
    pw1, pw2, api_key = (f"pw-{secrets.token_hex(8)}" for _ in range(3))
    admin.secrets.kv.v2.create_or_update_secret(path="app/db", secret={"password": pw1, "user": "svc"}, mount_point=kv)
    admin.secrets.kv.v2.create_or_update_secret(path="app/db", secret={"password": pw2, "user": "svc"}, mount_point=kv)
    admin.secrets.kv.v2.create_or_update_secret(path="other/api", secret={"key": api_key}, mount_point=kv)
    admin.secrets.kv.v1.create_or_update_secret(path="legacy/api", secret={"key": api_key}, mount_point=kv1)
    policy = f"app-db-read-{sfx}"
    admin.sys.create_or_update_policy(policy, f'path "{kv}/data/app/db" {{ capabilities = ["read"] }}\n')
    admin.sys.enable_auth_method("approle", path=approle)
    admin.auth.approle.create_or_update_approle(
        "fetcher", token_policies=[policy], token_ttl="10m", token_max_ttl="30m", mount_point=approle
    )
    role_id = admin.auth.approle.read_role_id("fetcher", mount_point=approle)["data"]["role_id"]
    tmp = tmp_path_factory.mktemp("vault")
    root_file = tmp / "root-token"
    root_file.write_text(openbao.root_token)
    os.chmod(root_file, 0o600)
    v = Vault(openbao, admin, kv, kv1, approle, role_id, Path(), root_file, pw1, pw2, api_key, policy, tmp)
    v.secret_id_file = v.new_secret_id("fetcher")
    # Registered secrets stay registered: clearing the process-wide redactor here could unmask
    # values other tests registered.
    yield v
