"""JWT/OIDC auth: a signed JWT from a file (CI OIDC token, workload identity) and a role."""

from __future__ import annotations

from typing import Any

import hvac

from kfp_gates.components.common.errors import ConfigError

from .._files import read_credential
from .interface import AuthMethod


class JwtAuth(AuthMethod):
    """Log in to a ``jwt`` (or ``oidc``) auth mount with a JWT read from ``jwt_file``.

    Only the non-interactive JWT flow exists in a batch step: the OIDC browser
    flow needs a person. An ``oidc``-type mount accepts JWT logins for roles of
    ``role_type: jwt``.
    """

    name = "jwt"

    def __init__(self, *, role: str, jwt_file: str, mount: str = "jwt") -> None:
        if not role:
            raise ConfigError("JWT auth needs a Vault role", where="--role")
        if not jwt_file:
            raise ConfigError("JWT auth needs a JWT file", where="--jwt-file")
        self.role = role
        self.jwt_file = jwt_file
        self.mount = mount

    def _login(self, client: hvac.Client) -> dict[str, Any]:
        jwt = read_credential(self.jwt_file, "JWT file")
        return client.auth.jwt.jwt_login(role=self.role, jwt=jwt, path=self.mount, use_token=False)["auth"]
