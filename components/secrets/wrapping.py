"""Response wrapping: fetch a secret as a single-use wrapping token, and unwrap it exactly once.

The fetching side holds only the wrapping token (for a whole KV secret it never
sees the value: Vault wraps the answer server-side). The consuming side looks
the token up first (which does not consume it) to check it is still valid and
was created for the expected path, then unwraps it once. A token that is
already used or expired cannot be told apart by the server; either way the
secret did not reach this step, so somebody else may hold it:
:class:`WrappingTokenRejected` is raised, carrying a security finding, and the
step blocks (exit 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import hvac
import hvac.exceptions

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError, GateBlocked
from kfp_gates.components.common.result import Finding, Location
from kfp_gates.components.common.severity import Severity

from .client import connect, single_shot, vault_errors
from .config import VaultConfig
from .reading import Lease, SecretData, SecretRef, parse_vault_time, read_secret

MIN_WRAP_TTL = timedelta(seconds=1)
DEFAULT_MAX_WRAP_TTL = timedelta(hours=1)

WRAP_REUSED = "KFPG-SECRETS-WRAP-REUSED"
WRAP_EXPIRED = "KFPG-SECRETS-WRAP-EXPIRED"
WRAP_PATH = "KFPG-SECRETS-WRAP-PATH"
_INVALID = "wrapping token is not valid or does not exist"


@dataclass(frozen=True)
class WrappedSecret:
    """A wrapping token and what is public about it. ``token`` is never shown by ``repr``."""

    token: str = field(repr=False)
    accessor: str
    ttl: int
    creation_time: str
    creation_path: str
    vault_addr: str
    lease: Lease | None = None

    @property
    def expires_at(self) -> datetime | None:
        created = parse_vault_time(self.creation_time)
        return created + timedelta(seconds=self.ttl) if created else None

    def public(self) -> dict[str, Any]:
        """Everything but the token: safe for artifact metadata, logs and reports."""
        out: dict[str, Any] = {
            "vault_addr": self.vault_addr,
            "creation_path": self.creation_path,
            "creation_time": self.creation_time,
            "ttl": self.ttl,
            "accessor": self.accessor,
        }
        if self.lease:
            out["lease"] = self.lease.to_dict()
        return out

    @classmethod
    def from_wrap_info(cls, info: Mapping[str, Any], vault_addr: str, lease: Lease | None = None) -> WrappedSecret:
        token = str(info["token"])
        redact.register_secret(token)
        return cls(
            token=token,
            accessor=str(info.get("accessor") or ""),
            ttl=int(info.get("ttl") or 0),
            creation_time=str(info.get("creation_time") or ""),
            creation_path=str(info.get("creation_path") or ""),
            vault_addr=vault_addr,
            lease=lease,
        )


def check_wrap_ttl(ttl: timedelta, maximum: timedelta = DEFAULT_MAX_WRAP_TTL) -> int:
    """``ttl`` in whole seconds, or ConfigError when it is under 1s or over ``maximum`` (policy ``max_wrap_ttl``)."""
    secs = int(ttl.total_seconds())
    if ttl < MIN_WRAP_TTL or ttl > maximum:
        raise ConfigError(
            f"wrap TTL {secs}s is outside 1s..{int(maximum.total_seconds())}s",
            where="--wrap-ttl",
            hint="a wrapping token should live only until the consuming step starts (minutes)",
        )
    return secs


def wrap_data(client: hvac.Client, data: SecretData, ttl_seconds: int) -> Mapping[str, Any]:
    """Wrap already-read fields with ``sys/wrapping/wrap``; returns the ``wrap_info`` block."""
    with vault_errors("wrap", client=client):
        body = client.adapter.post("/v1/sys/wrapping/wrap", json=dict(data.fields), wrap_ttl=f"{ttl_seconds}s")
    return body["wrap_info"]


def fetch_wrapped(
    client: hvac.Client, ref: SecretRef, ttl: timedelta, *, max_ttl: timedelta = DEFAULT_MAX_WRAP_TTL
) -> WrappedSecret:
    """Read ``ref`` as a response-wrapped answer and return only the wrapping token (and public facts).

    A whole KV secret is wrapped by Vault itself, so this process never holds
    the value. Selecting one ``field``, and dynamic secrets (whose lease must
    be recorded for revocation), need a plain read then ``sys/wrapping/wrap``:
    the values pass through this process, registered with the redactor.

    Raises :class:`ConfigError` (bad TTL, path, permission) or
    :class:`InfrastructureError` (unreachable, sealed, timeout).
    """
    secs = check_wrap_ttl(ttl, max_ttl)
    addr = client.adapter.base_uri
    if ref.field or ref.kind == "dynamic":
        data = read_secret(client, ref)
        return WrappedSecret.from_wrap_info(wrap_data(client, data, secs), addr, lease=data.lease)
    with vault_errors(f"read {ref.display} (wrapped)", client=client):
        body = getattr(client.adapter, ref.method)(ref.api_path, wrap_ttl=f"{secs}s", **ref.request_kwargs())
    info = body.get("wrap_info") if isinstance(body, Mapping) else None
    if not info or not info.get("token"):
        raise ConfigError(
            f"read {ref.display}: Vault did not wrap the answer",
            hint="is a proxy stripping the X-Vault-Wrap-TTL header?",
        )
    return WrappedSecret.from_wrap_info(info, addr)


# ----- unwrapping ---------------------------------------------------------------------------------------


class WrappingTokenRejected(GateBlocked):
    """The wrapping token was already used, expired, or created for another path. Carries the finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(
            finding.message,
            where=str(finding.location) if finding.location else None,
            hint="treat the secret as exposed: rotate it, and find out who unwrapped the token",
        )
        self.finding = finding


def _rejected(
    kind: str,
    *,
    expected_path: str | None,
    expires_at: datetime | None,
    accessor: str | None,
    actual_path: str | None = None,
) -> WrappingTokenRejected:
    loc = Location(field=expected_path) if expected_path else None
    data: dict[str, Any] = {"accessor": accessor} if accessor else {}
    if kind == WRAP_PATH:
        msg = (
            f"wrapping token was created for {actual_path!r}, not {expected_path!r}: "
            "it may have been replaced by someone who unwrapped the original"
        )
        return WrappingTokenRejected(
            Finding(
                id=WRAP_PATH,
                severity=Severity.CRITICAL,
                message=msg,
                location=loc,
                data={**data, "creation_path": actual_path},
            )
        )
    now = datetime.now(UTC)
    if expires_at is not None and now >= expires_at:
        msg = (
            f"wrapping token expired at {expires_at.isoformat()} before it was unwrapped; the secret was not delivered"
        )
        return WrappingTokenRejected(
            Finding(
                id=WRAP_EXPIRED,
                severity=Severity.CRITICAL,
                message=msg,
                location=loc,
                data={**data, "expired_at": expires_at.isoformat()},
            )
        )
    msg = (
        "wrapping token is not valid: it was already unwrapped (or revoked) before this step; "
        "somebody else may hold the secret"
    )
    return WrappingTokenRejected(
        Finding(id=WRAP_REUSED, severity=Severity.CRITICAL, message=msg, location=loc, data=data)
    )


def _is_invalid_token(exc: hvac.exceptions.VaultError) -> bool:
    text = " ".join(exc.errors or []) or str(exc.args[0] if exc.args else "")
    return isinstance(exc, hvac.exceptions.InvalidRequest | hvac.exceptions.Forbidden) and (
        _INVALID in text or "permission denied" in text or "bad token" in text
    )


def _same_path(actual: str, expected: str) -> bool:
    """``expected`` may be the API path (``secret/data/app/db``) or the KV v2 logical path (``secret/app/db``)."""
    if actual == expected:
        return True
    mount, sep, rest = actual.partition("/data/")
    return bool(sep) and f"{mount}/{rest}" == expected


class _Invalid(Exception):
    """Vault answered "wrapping token is not valid or does not exist" (used, expired or revoked)."""


def lookup(client: hvac.Client, token: str) -> dict[str, Any]:
    """``sys/wrapping/lookup`` (does not consume the token): creation_path, creation_time, creation_ttl.

    Raises :class:`_Invalid` for an invalid token so :func:`unwrap` can turn
    it into a finding; other errors are translated.
    """
    redact.register_secret(token)
    with vault_errors("look up wrapping token", client=client):
        try:
            return client.adapter.post("/v1/sys/wrapping/lookup", json={"token": token})["data"]
        except hvac.exceptions.VaultError as exc:
            if _is_invalid_token(exc):
                raise _Invalid() from None
            raise


def unwrap(
    config: VaultConfig,
    token: str,
    *,
    expected_path: str | None = None,
    expires_at: datetime | None = None,
    accessor: str | None = None,
) -> SecretData:
    """Unwrap ``token`` once and return the secret fields (registered with the redactor).

    ``expected_path`` (e.g. ``secret/data/app/db``) is compared with the
    token's ``creation_path`` before unwrapping: a mismatch means the token was
    swapped. ``expires_at`` (from the fetch step's metadata) lets the finding
    say "expired" rather than "already used".

    Raises :class:`WrappingTokenRejected` (exit 1) for a used, expired or
    swapped token; :class:`ConfigError` / :class:`InfrastructureError` for the
    rest. The request that consumes the token is never retried once it may
    have reached the server.
    """
    token = (token or "").strip()
    if not token:
        raise ConfigError("the wrapping token is empty", where="--token-file")
    expected = expected_path.strip().strip("/").removeprefix("v1/") if expected_path else None
    client = connect(config)  # unauthenticated: lookup needs no token
    try:
        info = lookup(client, token)
    except _Invalid:
        raise _rejected("invalid", expected_path=expected, expires_at=expires_at, accessor=accessor) from None
    created = parse_vault_time(info.get("creation_time"))
    if created is not None and expires_at is None:
        expires_at = created + timedelta(seconds=int(info.get("creation_ttl") or 0))
    actual = str(info.get("creation_path") or "")
    if expected and not _same_path(actual, expected):
        raise _rejected(WRAP_PATH, expected_path=expected, expires_at=expires_at, accessor=accessor, actual_path=actual)
    client.token = token  # the wrapping token is the credential of the unwrap call itself
    with vault_errors("unwrap", client=client), single_shot():
        try:
            body = client.adapter.post("/v1/sys/wrapping/unwrap")
        except hvac.exceptions.VaultError as exc:
            if _is_invalid_token(exc):
                # Valid a moment ago, gone now: somebody unwrapped it in between.
                raise _rejected("invalid", expected_path=expected, expires_at=expires_at, accessor=accessor) from None
            raise
    if not isinstance(body, Mapping):
        raise ConfigError("unwrap: Vault returned no data")
    return SecretData.from_response(body)
