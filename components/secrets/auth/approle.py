"""AppRole auth: a role id (not secret) and a secret id read from a file."""

from __future__ import annotations

from typing import Any

import hvac

from kfp_gates.components.common.errors import ConfigError

from .._files import read_credential
from .interface import AuthMethod


class AppRoleAuth(AuthMethod):
    """Log in with ``role_id`` (or ``role_id_file``) and the secret id in ``secret_id_file``.

    The secret id comes from a file only (a mounted Kubernetes secret, a CI
    secret file), never from a flag or a pipeline parameter.
    """

    name = "approle"

    def __init__(
        self,
        *,
        secret_id_file: str,
        role_id: str | None = None,
        role_id_file: str | None = None,
        mount: str = "approle",
    ) -> None:
        if not (role_id or role_id_file):
            raise ConfigError("AppRole needs a role id", where="--role-id", hint="pass --role-id or --role-id-file")
        if not secret_id_file:
            raise ConfigError("AppRole needs a secret id file", where="--secret-id-file")
        self.role_id = role_id
        self.role_id_file = role_id_file
        self.secret_id_file = secret_id_file
        self.mount = mount

    def _login(self, client: hvac.Client) -> dict[str, Any]:
        role_id = self.role_id or read_credential(str(self.role_id_file), "role id file")
        secret_id = read_credential(self.secret_id_file, "secret id file")
        return client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=self.mount, use_token=False)[
            "auth"
        ]
