"""Token auth: a token from a file, or ``VAULT_TOKEN``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import hvac

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError

from .._files import check_credential, read_credential
from .interface import AuthMethod


class TokenAuth(AuthMethod):
    """Use an existing token. ``token_file`` wins over ``VAULT_TOKEN`` (then ``BAO_TOKEN``).

    "Login" looks the token up (``auth/token/lookup-self``) so a wrong or
    expired token fails here, with exit 2, rather than on the first read.
    """

    name = "token"

    def __init__(self, token_file: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.token_file = token_file
        self._env = os.environ if env is None else env

    def _token(self) -> str:
        if self.token_file:
            return read_credential(self.token_file, "token file")
        token = (self._env.get("VAULT_TOKEN") or self._env.get("BAO_TOKEN") or "").strip()
        if not token:
            raise ConfigError("no Vault token", where="--token-file", hint="pass --token-file FILE or set VAULT_TOKEN")
        redact.register_secret(token)
        return check_credential(token, "the token in $VAULT_TOKEN/$BAO_TOKEN", "VAULT_TOKEN")

    def _login(self, client: hvac.Client) -> dict[str, Any]:
        token = self._token()
        client.token = token
        data = client.auth.token.lookup_self()["data"]
        return {
            "client_token": token,
            "accessor": data.get("accessor"),
            "policies": data.get("policies"),
            "lease_duration": data.get("ttl"),
            "renewable": data.get("renewable"),
        }
