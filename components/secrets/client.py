"""An hvac client with timeouts, bounded retries and typed errors.

Every request made through :func:`connect` has a connect and a read timeout.
A request that fails with a connection error, a timeout or a 5xx answer is
repeated up to ``config.retries`` times with exponential backoff and full
jitter; a 4xx answer (bad credentials, no permission, no such path) is never
repeated, because repeating it cannot help and can lock an account.

Inside :func:`single_shot` a request is sent at most once after it may have
reached the server: unwrapping a response-wrapped token is single use, so a
retry after a lost answer would look exactly like an interception.

:func:`vault_errors` turns hvac and requests exceptions into the kfp-gates
error classes (auth/permission -> :class:`ConfigError`, exit 2; unreachable,
sealed, timeout -> :class:`InfrastructureError`, exit 3), with the server's
health (sealed, standby, uninitialised) in the message when it can tell.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hvac
import hvac.adapters
import hvac.exceptions
import requests

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import (
    ConfigError,
    GateTimeoutError,
    InfrastructureError,
    KfpGatesError,
)

from .config import VaultConfig

log = logging.getLogger("kfp_gates.secrets")

_SINGLE_SHOT: contextvars.ContextVar[bool] = contextvars.ContextVar("kfp_gates_vault_single_shot", default=False)
_RETRY_STATUS = frozenset({500, 502, 503, 504})


@contextlib.contextmanager
def single_shot() -> Iterator[None]:
    """Requests in this block are retried only when they cannot have reached the server."""
    token = _SINGLE_SHOT.set(True)
    try:
        yield
    finally:
        _SINGLE_SHOT.reset(token)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (so repeating it is always safe)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.ReadTimeout):
        text = repr(exc)
        return any(s in text for s in ("NewConnectionError", "Connection refused", "Failed to resolve"))
    return False


@dataclass
class RetryStats:
    """Counts of what the adapter did; read by tests and the benchmark."""

    requests: int = 0
    retries: int = 0


class RetryingAdapter(hvac.adapters.JSONAdapter):
    """hvac's JSON adapter plus retries with backoff and full jitter (see module docstring)."""

    def __init__(
        self,
        *args: Any,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.stats = RetryStats()

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_backoff, backoff * 2**attempt)]."""
        return self._rng.uniform(0, min(self.max_backoff, self.backoff * (2**attempt)))

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, raise_exception: bool = True, **kwargs: Any
    ) -> Any:
        attempt = 0
        while True:
            self.stats.requests += 1
            try:
                response = super().request(
                    method, url, headers=dict(headers or {}), raise_exception=False, **dict(kwargs)
                )
            except requests.RequestException as exc:
                retryable = not isinstance(exc, requests.exceptions.SSLError)  # a bad certificate stays bad
                if retryable and attempt < self.retries and (_never_sent(exc) or not _SINGLE_SHOT.get()):
                    self._pause(attempt, method, url, type(exc).__name__)
                    attempt += 1
                    continue
                raise
            if isinstance(response, requests.Response) and not response.ok:
                if response.status_code in _RETRY_STATUS and attempt < self.retries and not _SINGLE_SHOT.get():
                    self._pause(attempt, method, url, f"HTTP {response.status_code}")
                    attempt += 1
                    continue
                if raise_exception and not self.ignore_exceptions:
                    self._raise_for_error(method, self.urljoin(self.base_uri, url), response)
            return response

    def _pause(self, attempt: int, method: str, url: str, why: str) -> None:
        wait = self.delay(attempt)
        self.stats.retries += 1
        log.info(
            "vault %s %s failed (%s); retry %d/%d in %.2fs", method.upper(), url, why, attempt + 1, self.retries, wait
        )
        self._sleep(wait)


def connect(config: VaultConfig, token: str | None = None, **adapter_kwargs: Any) -> hvac.Client:
    """An unauthenticated (or ``token``-carrying) client for ``config``; makes no request.

    The token, if given, is registered with the redactor first.
    """
    redact.register_secret(token)
    cert = (config.client_cert, config.client_key) if config.client_cert and config.client_key else None
    kwargs: dict[str, Any] = {
        "retries": config.retries,
        "backoff": config.backoff,
        "max_backoff": config.max_backoff,
        **adapter_kwargs,
    }
    client = hvac.Client(
        url=config.addr,
        token=token or "",  # never fall back to VAULT_TOKEN silently: auth is explicit
        cert=cert,
        verify=config.verify,
        timeout=(min(config.connect_timeout, config.timeout), config.timeout),
        namespace=config.namespace,
        adapter=RetryingAdapter,
        **kwargs,
    )
    # hvac reads VAULT_TOKEN when token is falsy; make the client's identity exactly what we asked for.
    client.token = token or None
    return client


# ----- errors -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerStatus:
    """What ``sys/health`` says about a server."""

    initialized: bool
    sealed: bool
    standby: bool
    version: str

    def describe(self) -> str:
        if not self.initialized:
            return "not initialised"
        if self.sealed:
            return "sealed"
        if self.standby:
            return "a standby node"
        return "active"


def server_status(client: hvac.Client, timeout: float = 3.0) -> ServerStatus:
    """Read ``sys/health`` without retries (sealed and standby answers are data, not errors).

    Raises :class:`InfrastructureError` when the server cannot be reached.
    """
    url = client.adapter.urljoin(client.adapter.base_uri, "/v1/sys/health")
    try:
        resp = client.adapter.session.get(
            url,
            params={"standbyok": "false", "sealedcode": "503", "uninitcode": "501"},
            timeout=timeout,
            verify=client.adapter._kwargs.get("verify", True),
            cert=client.adapter._kwargs.get("cert"),
        )
        data = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise InfrastructureError(
            f"Vault at {client.adapter.base_uri} is unreachable ({type(exc).__name__})",
            hint="check the address, the network path and that the server is running",
        ) from None
    return ServerStatus(
        initialized=bool(data.get("initialized", False)),
        sealed=bool(data.get("sealed", False)),
        standby=bool(data.get("standby", False)),
        version=str(data.get("version", "")),
    )


def _status_suffix(client: hvac.Client | None) -> str:
    if client is None:
        return ""
    try:
        return f" (server is {server_status(client, timeout=2.0).describe()})"
    except InfrastructureError:
        return ""


def translate(
    exc: BaseException, *, action: str, where: str | None = None, client: hvac.Client | None = None
) -> KfpGatesError:
    """The kfp-gates error for an hvac/requests exception raised while doing ``action``.

    The returned error carries no response body and no request header: only
    the server's error strings (redacted), which never contain secret values.
    """
    addr = client.adapter.base_uri if client is not None else "Vault"
    if isinstance(exc, KfpGatesError):
        return exc
    if isinstance(exc, requests.exceptions.Timeout):
        return GateTimeoutError(
            f"{action}: Vault at {addr} did not answer in time",
            where=where,
            hint="check the server's load and network; raise VAULT_CLIENT_TIMEOUT if needed",
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigError(
            f"{action}: TLS verification of {addr} failed",
            where=where,
            hint="point VAULT_CACERT at the CA bundle that signed the server certificate",
        )
    if isinstance(exc, requests.RequestException):
        return InfrastructureError(
            f"{action}: Vault at {addr} is unreachable ({type(exc).__name__})",
            where=where,
            hint="check the address, the network path and that the server is running",
        )
    if isinstance(exc, hvac.exceptions.VaultError):
        detail = redact.redact(", ".join(exc.errors) if exc.errors else (exc.args[0] if exc.args else "") or "")
        detail = detail.strip() or type(exc).__name__
        if isinstance(exc, hvac.exceptions.VaultDown):
            sealed = "sealed" in detail.lower()
            state = "sealed" if sealed else "unavailable"
            return InfrastructureError(
                f"{action}: Vault at {addr} is {state}: {detail}{'' if sealed else _status_suffix(client)}",
                where=where,
                hint="unseal the server or wait for an active node",
            )
        if isinstance(exc, hvac.exceptions.VaultNotInitialized):
            return InfrastructureError(f"{action}: Vault at {addr} is not initialised", where=where)
        if isinstance(
            exc,
            hvac.exceptions.InternalServerError
            | hvac.exceptions.BadGateway
            | hvac.exceptions.UnexpectedError
            | hvac.exceptions.RateLimitExceeded,
        ):
            return InfrastructureError(
                f"{action}: Vault at {addr} failed: {detail}{_status_suffix(client)}",
                where=where,
                hint="retry later; check the server logs",
            )
        if isinstance(exc, hvac.exceptions.Unauthorized | hvac.exceptions.Forbidden):
            return ConfigError(
                f"{action}: permission denied: {detail}",
                where=where,
                hint="check the credentials and that the Vault policy grants this path",
            )
        if isinstance(exc, hvac.exceptions.InvalidPath):
            return ConfigError(
                f"{action}: nothing at this path: {detail}",
                where=where,
                hint="check the mount point, the path and the KV version",
            )
        return ConfigError(f"{action}: Vault refused the request: {detail}", where=where)
    return InfrastructureError(f"{action}: unexpected error talking to Vault ({type(exc).__name__})", where=where)


@contextlib.contextmanager
def vault_errors(action: str, *, where: str | None = None, client: hvac.Client | None = None) -> Iterator[None]:
    """Re-raise hvac/requests exceptions from the block as kfp-gates errors (no chained raw exception).

    The original exception is dropped (``from None``) because its repr can
    carry request bodies; its type name stays in the message.
    """
    try:
        yield
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        err = translate(exc, action=action, where=where, client=client)
    else:
        return
    raise err from None
