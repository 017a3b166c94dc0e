"""Which secret to read (:class:`SecretRef`) and reading it (:func:`read_secret`).

KV v2 (latest or a pinned version), KV v1, and *dynamic* secrets of any engine
(a GET, or a POST with parameters, whose answer carries a lease).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import hvac

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError

from .client import vault_errors

Kind = Literal["kv2", "kv1", "dynamic"]
KINDS: tuple[Kind, ...] = ("kv2", "kv1", "dynamic")


def _clean(path: str, what: str) -> str:
    p = (path or "").strip().strip("/")
    if not p or any(seg in ("", ".", "..") for seg in p.split("/")):
        raise ConfigError(f"invalid {what} {path!r}", where=what, hint="use a path such as secret/app/db")
    return p


@dataclass(frozen=True)
class Lease:
    """A dynamic secret's lease. The lease id is not a credential (revoking it needs a token)."""

    lease_id: str
    duration: int
    renewable: bool

    def to_dict(self) -> dict[str, Any]:
        return {"lease_id": self.lease_id, "duration": self.duration, "renewable": self.renewable}


@dataclass(frozen=True)
class SecretRef:
    """A secret in Vault. ``path`` is relative to ``mount`` (for ``dynamic``: the full API path).

    ``version`` pins a KV v2 version (``None`` = latest). ``field`` selects one
    key of the secret. ``params`` make a dynamic read a POST (e.g. ``pki/issue/role``
    with ``common_name``).
    """

    path: str
    mount: str = "secret"
    kind: Kind = "kv2"
    version: int | None = None
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown secret kind {self.kind!r}", where="kind", hint=f"one of: {', '.join(KINDS)}")
        object.__setattr__(self, "path", _clean(self.path, "path"))
        if self.kind != "dynamic":
            object.__setattr__(self, "mount", _clean(self.mount, "mount"))
        if self.version is not None and (self.kind != "kv2" or self.version < 1):
            raise ConfigError("a version can only pin a KV v2 secret, and starts at 1", where="version")
        if self.params and self.kind != "dynamic":
            raise ConfigError("parameters apply to dynamic secrets only", where="params")

    @classmethod
    def parse(cls, full_path: str, *, mount: str | None = None, **kw: Any) -> SecretRef:
        """``secret/app/db`` -> mount ``secret``, path ``app/db`` (unless ``mount`` is given)."""
        p = _clean(full_path, "path")
        if kw.get("kind") == "dynamic":
            return cls(path=p, mount="", **kw)
        if mount:
            m = _clean(mount, "mount")
            rel = p[len(m) + 1 :] if p.startswith(m + "/") else p
            return cls(path=rel, mount=m, **kw)
        if "/" not in p:
            raise ConfigError(
                f"path {full_path!r} has no mount",
                where="--path",
                hint="write it as MOUNT/PATH, e.g. secret/app/db, or pass --mount",
            )
        m, rel = p.split("/", 1)
        return cls(path=rel, mount=m, **kw)

    @property
    def method(self) -> str:
        return "post" if self.params else "get"

    @property
    def api_path(self) -> str:
        """The HTTP path, e.g. ``/v1/secret/data/app/db``; also the wrapping token's ``creation_path``."""
        if self.kind == "kv2":
            return f"/v1/{self.mount}/data/{self.path}"
        if self.kind == "kv1":
            return f"/v1/{self.mount}/{self.path}"
        return f"/v1/{self.path}"

    @property
    def creation_path(self) -> str:
        return self.api_path.removeprefix("/v1/")

    @property
    def display(self) -> str:
        base = self.creation_path
        return base + (f"?version={self.version}" if self.version else "") + (f"#{self.field}" if self.field else "")

    def request_kwargs(self) -> dict[str, Any]:
        if self.params:
            return {"json": dict(self.params)}
        if self.version:
            return {"params": {"version": self.version}}
        return {}


def parse_vault_time(value: str | None) -> datetime | None:
    """A Vault timestamp (RFC 3339 with nanoseconds) as an aware datetime; None when empty or malformed."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Vault prints nanoseconds; datetime takes microseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        frac = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(frac) :]
        text = f"{head}.{frac[:6]}{tz}"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass(frozen=True, repr=False)
class SecretData:
    """Secret fields (name -> text) with their version or lease. ``repr`` never shows values."""

    fields: Mapping[str, str]
    version: int | None = None
    lease: Lease | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        return f"SecretData(fields={sorted(self.fields)}, version={self.version}, lease={self.lease})"

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def select(self, name: str | None) -> SecretData:
        """Only field ``name`` (all fields when ``None``); ConfigError naming the fields that exist."""
        if not name:
            return self
        if name not in self.fields:
            raise ConfigError(
                f"the secret has no field {name!r}",
                where="--field",
                hint=f"fields: {', '.join(sorted(self.fields)) or '(none)'}",
            )
        return SecretData({name: self.fields[name]}, self.version, self.lease, self.metadata)

    @classmethod
    def from_response(cls, body: Mapping[str, Any]) -> SecretData:
        """Normalise a Vault answer (KV v2 nests ``data.data``); registers every value with the redactor."""
        data = body.get("data") or {}
        version: int | None = None
        metadata: dict[str, Any] = {}
        if (
            isinstance(data, Mapping)
            and set(data) == {"data", "metadata"}
            and isinstance(data.get("metadata"), Mapping)
            and "version" in data["metadata"]
        ):
            metadata = dict(data["metadata"])
            version = int(metadata["version"])
            data = data.get("data") or {}
        if not isinstance(data, Mapping):
            raise ConfigError("the secret is not a mapping of fields")
        fields = {str(k): _as_text(v) for k, v in data.items()}
        redact.register_secrets(fields.values())
        lease = None
        if body.get("lease_id"):
            try:
                duration = int(body.get("lease_duration") or 0)
            except (TypeError, ValueError):
                raise ConfigError("Vault returned a malformed lease duration") from None
            lease = Lease(str(body["lease_id"]), duration, bool(body.get("renewable")))
        return cls(fields=fields, version=version, lease=lease, metadata=metadata)


def read_secret(client: hvac.Client, ref: SecretRef) -> SecretData:
    """Read ``ref`` (not wrapped) and return its fields, already registered with the redactor.

    Raises :class:`ConfigError` when the path does not exist (or the version
    was deleted or destroyed), when permission is denied, or when ``ref.field``
    is missing; :class:`InfrastructureError` when Vault is unreachable.
    """
    with vault_errors(f"read {ref.display}", client=client):
        body = getattr(client.adapter, ref.method)(ref.api_path, **ref.request_kwargs())
    if not isinstance(body, Mapping) or body.get("data") is None:
        raise ConfigError(f"read {ref.display}: Vault returned no data", hint="was the version deleted or destroyed?")
    if ref.kind == "kv2":
        meta = (body.get("data") or {}).get("metadata") or {}
        if meta.get("destroyed") or meta.get("deletion_time"):
            raise ConfigError(f"read {ref.display}: this version was deleted or destroyed")
    return SecretData.from_response(body).select(ref.field)
