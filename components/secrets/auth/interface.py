"""The one interface every Vault authentication method implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import hvac

from kfp_gates.components.common import redact

from ..client import vault_errors


@dataclass(frozen=True)
class Login:
    """The result of a login. ``token`` is never shown by ``repr``."""

    token: str = field(repr=False)
    accessor: str
    policies: tuple[str, ...]
    ttl: int
    renewable: bool
    method: str

    @classmethod
    def from_auth(cls, auth: dict[str, Any], method: str) -> Login:
        token = str(auth["client_token"])
        redact.register_secret(token)
        return cls(
            token=token,
            accessor=str(auth.get("accessor") or ""),
            policies=tuple(auth.get("token_policies") or auth.get("policies") or ()),
            ttl=int(auth.get("lease_duration") or 0),
            renewable=bool(auth.get("renewable", False)),
            method=method,
        )


class AuthMethod(abc.ABC):
    """Turns a credential (a file, the pod's service-account token) into a Vault token.

    Implementations read their credential when :meth:`login` is called, never
    earlier, register it with the redactor, and never keep it in ``repr``.
    """

    name: str = "abstract"

    @abc.abstractmethod
    def _login(self, client: hvac.Client) -> dict[str, Any]:
        """Perform the login request and return the ``auth`` block of the answer."""

    def login(self, client: hvac.Client) -> Login:
        """Log ``client`` in and return the :class:`Login`; the client then carries the token.

        Raises :class:`ConfigError` (exit 2) when Vault rejects the credential
        or the credential file is missing, :class:`InfrastructureError`
        (exit 3) when Vault is unreachable, sealed or times out.
        """
        with vault_errors(f"{self.name} login", client=client):
            auth = self._login(client)
        login = Login.from_auth(auth, self.name)
        client.token = login.token
        return login

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
