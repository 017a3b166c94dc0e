"""Vault authentication methods: one module per method, one factory for CLI and components."""

from __future__ import annotations

from kfp_gates.components.common.errors import ConfigError

from .approle import AppRoleAuth
from .interface import AuthMethod, Login
from .jwt import JwtAuth
from .kubernetes import KubernetesAuth
from .token import TokenAuth

METHODS = ("token", "approle", "kubernetes", "jwt")

__all__ = [
    "METHODS",
    "AppRoleAuth",
    "AuthMethod",
    "JwtAuth",
    "KubernetesAuth",
    "Login",
    "TokenAuth",
    "auth_from_options",
]


def auth_from_options(
    method: str,
    *,
    role: str | None = None,
    role_id: str | None = None,
    role_id_file: str | None = None,
    secret_id_file: str | None = None,
    jwt_file: str | None = None,
    token_file: str | None = None,
    mount: str | None = None,
) -> AuthMethod:
    """Build the :class:`AuthMethod` named ``method`` from flat options (CLI flags, component parameters).

    ``oidc`` is accepted as a name for the JWT flow. Raises :class:`ConfigError`
    for an unknown method or a missing option.
    """
    method = (method or "").strip().lower()
    if method == "token":
        return TokenAuth(token_file=token_file or None)
    if method == "approle":
        return AppRoleAuth(
            role_id=role_id or None,
            role_id_file=role_id_file or None,
            secret_id_file=secret_id_file or "",
            mount=mount or "approle",
        )
    if method == "kubernetes":
        return KubernetesAuth(role=role or "", jwt_file=jwt_file or None, mount=mount or "kubernetes")
    if method in ("jwt", "oidc"):
        return JwtAuth(role=role or "", jwt_file=jwt_file or "", mount=mount or method)
    raise ConfigError(f"unknown auth method {method!r}", where="--auth", hint=f"choose one of: {', '.join(METHODS)}")
