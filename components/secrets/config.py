"""Where the Vault (or OpenBao) server is and how to talk to it.

:class:`VaultConfig` is built from explicit values, falling back to the
standard environment variables of the ``vault`` / ``bao`` CLIs, so a step that
runs next to Vault Agent or in a CI job with ``VAULT_ADDR`` set needs no flags:

=======================  ==========================================================
``VAULT_ADDR``           server URL (``BAO_ADDR`` is read when it is unset)
``VAULT_NAMESPACE``      Vault Enterprise / OpenBao namespace
``VAULT_CACERT``         CA bundle (PEM file) that signed the server certificate
``VAULT_CAPATH``         directory of CA certificates (``VAULT_CACERT`` wins)
``VAULT_CLIENT_CERT``    client certificate for TLS client auth (with ``VAULT_CLIENT_KEY``)
``VAULT_SKIP_VERIFY``    refused: kfp-gates never disables TLS verification
``VAULT_CLIENT_TIMEOUT`` per-request timeout, e.g. ``30s`` (default 30s)
``VAULT_MAX_RETRIES``    retries on connection errors and 5xx (default 3)
=======================  ==========================================================

``VAULT_TOKEN`` is read by the token auth method only (:mod:`.auth.token`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.policy import parse_duration

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_RETRIES = 3


def _env(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return None


@dataclass(frozen=True)
class VaultConfig:
    """Connection settings. Holds no credential: authentication is an :class:`~.auth.AuthMethod`.

    ``timeout`` bounds every HTTP request (read timeout; connecting is bounded
    by ``min(connect_timeout, timeout)``); ``retries`` is how many times a
    request that failed with a connection error or a 5xx answer is repeated,
    with exponential backoff (``backoff`` doubling up to ``max_backoff``) and
    full jitter.
    """

    addr: str
    namespace: str | None = None
    ca_cert: str | None = None
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.2
    max_backoff: float = 5.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.addr)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"invalid Vault address {self.addr!r}",
                where="addr",
                hint="use a URL such as https://vault.example.com:8200 (or set VAULT_ADDR)",
            )
        if parts.username or parts.password:
            raise ConfigError("the Vault address must not carry credentials", where="addr")
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ConfigError("timeouts must be positive", where="timeout")
        if self.retries < 0:
            raise ConfigError("retries must be zero or more", where="retries")
        files = (("ca_cert", self.ca_cert), ("client_cert", self.client_cert), ("client_key", self.client_key))
        for label, path in files:
            if path and not Path(path).is_file():
                raise ConfigError("file not found", where=f"{label}={path}", hint="check the path (VAULT_CACERT etc.)")
        if self.ca_path and not Path(self.ca_path).is_dir():
            raise ConfigError("directory not found", where=f"ca_path={self.ca_path}")
        if bool(self.client_cert) != bool(self.client_key):
            raise ConfigError("client_cert and client_key go together", where="client_cert")

    @property
    def is_tls(self) -> bool:
        return self.addr.startswith("https://")

    @property
    def verify(self) -> str | bool:
        """What requests verifies the server with: a CA file or directory, or the system store."""
        return self.ca_cert or self.ca_path or True

    def with_(self, **changes: object) -> VaultConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(
        cls, addr: str | None = None, *, env: Mapping[str, str] | None = None, **overrides: object
    ) -> VaultConfig:
        """Explicit values first, then ``VAULT_*`` (and ``BAO_*``) variables.

        Raises :class:`ConfigError` when no address is known, when
        ``VAULT_SKIP_VERIFY`` asks to disable TLS verification, or when a
        value is malformed.
        """
        env = os.environ if env is None else env
        addr = addr or _env(env, "VAULT_ADDR", "BAO_ADDR")
        if not addr:
            raise ConfigError("no Vault address", where="--addr", hint="pass --addr URL or set VAULT_ADDR")
        skip = (_env(env, "VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY") or "").strip().lower()
        if skip in {"1", "true", "yes", "on"}:
            raise ConfigError(
                "VAULT_SKIP_VERIFY is set: kfp-gates never disables TLS verification",
                where="VAULT_SKIP_VERIFY",
                hint="unset it and point VAULT_CACERT at the CA bundle that signed the server certificate",
            )
        values: dict[str, object] = {
            "addr": addr.rstrip("/"),
            "namespace": _env(env, "VAULT_NAMESPACE", "BAO_NAMESPACE"),
            "ca_cert": _env(env, "VAULT_CACERT", "BAO_CACERT"),
            "ca_path": _env(env, "VAULT_CAPATH", "BAO_CAPATH"),
            "client_cert": _env(env, "VAULT_CLIENT_CERT", "BAO_CLIENT_CERT"),
            "client_key": _env(env, "VAULT_CLIENT_KEY", "BAO_CLIENT_KEY"),
        }
        timeout = _env(env, "VAULT_CLIENT_TIMEOUT", "BAO_CLIENT_TIMEOUT")
        if timeout:
            try:
                values["timeout"] = parse_duration(timeout).total_seconds()
            except ValueError as exc:
                raise ConfigError(str(exc), where="VAULT_CLIENT_TIMEOUT") from None
        retries = _env(env, "VAULT_MAX_RETRIES", "BAO_MAX_RETRIES")
        if retries:
            try:
                values["retries"] = int(retries)
            except ValueError:
                raise ConfigError(f"not a number: {retries!r}", where="VAULT_MAX_RETRIES") from None
        values.update({k: v for k, v in overrides.items() if v not in (None, "")})
        return cls(**values)  # type: ignore[arg-type]
