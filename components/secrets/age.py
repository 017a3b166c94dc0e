"""Rotation hygiene: KV v2 secrets whose current version is older than ``max_secret_age``.

Reads only metadata (``<mount>/metadata/...``), never a secret value, so the
checking identity needs ``list`` and ``read`` on metadata alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import hvac
import hvac.exceptions

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import GateSettings, finalize
from kfp_gates.components.common.policy import format_duration
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, utcnow
from kfp_gates.components.common.severity import Severity

from .client import translate, vault_errors
from .delivery import GATE, TOOL
from .reading import parse_vault_time

STALE = "KFPG-SECRETS-STALE"
NO_CURRENT = "KFPG-SECRETS-NO-CURRENT-VERSION"
MAX_SECRETS = 10_000  # a walk that finds more is probably aimed at the wrong prefix


@dataclass(frozen=True)
class SecretAge:
    path: str
    version: int
    created: datetime | None
    deleted: bool

    def age(self, now: datetime) -> timedelta | None:
        return now - self.created if self.created else None


def _list(client: hvac.Client, mount: str, path: str) -> list[str]:
    try:
        return list(client.secrets.kv.v2.list_secrets(path=path, mount_point=mount)["data"]["keys"])
    except hvac.exceptions.InvalidPath:
        return []
    except (hvac.exceptions.VaultError, OSError) as exc:
        raise translate(exc, action="list secrets", where=f"{mount}/metadata/{path}", client=client) from None


def walk(client: hvac.Client, mount: str, prefix: str = "") -> Iterator[str]:
    """Every secret path under ``prefix`` (depth first, sorted). A prefix that is itself a secret is yielded too."""
    base = prefix.strip("/")
    if base and not prefix.endswith("/"):
        try:
            client.secrets.kv.v2.read_secret_metadata(path=base, mount_point=mount)
            yield base
            return
        except (hvac.exceptions.InvalidPath, hvac.exceptions.Forbidden):
            pass  # not a secret, or not one we may read: treat the prefix as a folder
        except (hvac.exceptions.VaultError, OSError) as exc:
            raise translate(exc, action="read metadata", where=f"{mount}/metadata/{base}", client=client) from None
    stack = [base + "/" if base else ""]
    count = 0
    while stack:
        folder = stack.pop()
        for key in sorted(_list(client, mount, folder), reverse=True):
            if key.endswith("/"):
                stack.append(folder + key)
            else:
                count += 1
                if count > MAX_SECRETS:
                    raise ConfigError(f"more than {MAX_SECRETS} secrets under {mount}/{base}", hint="narrow the prefix")
                yield folder + key


def secret_age(client: hvac.Client, mount: str, path: str) -> SecretAge:
    with vault_errors("read metadata", where=f"{mount}/metadata/{path}", client=client):
        meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)["data"]
    current = int(meta.get("current_version") or 0)
    info: dict[str, Any] = (meta.get("versions") or {}).get(str(current)) or {}
    deleted = bool(info.get("destroyed")) or bool(info.get("deletion_time"))
    return SecretAge(path=path, version=current, created=parse_vault_time(info.get("created_time")), deleted=deleted)


def check_age(
    client: hvac.Client,
    *,
    mount: str = "secret",
    prefixes: tuple[str, ...] = ("",),
    max_age: timedelta,
    settings: GateSettings,
    severity: Severity = Severity.MEDIUM,
    now: datetime | None = None,
) -> GateResult:
    """A finding per secret whose current version is older than ``max_age``.

    The subject digest is over the sorted (path, version, created) list, so
    two runs over unchanged secrets have the same subject. Raises
    ConfigError (permission, bad mount) or InfrastructureError (unreachable).
    """
    if max_age <= timedelta(0):
        raise ConfigError("max_secret_age must be positive", where="max_secret_age")
    started = utcnow()
    now = now or datetime.now(UTC)
    mount = mount.strip("/")
    seen: dict[str, SecretAge] = {}
    for prefix in prefixes or ("",):
        for path in walk(client, mount, prefix):
            if path not in seen:
                seen[path] = secret_age(client, mount, path)
    findings: list[Finding] = []
    for path, item in sorted(seen.items()):
        loc = Location(path=f"{mount}/{path}", field=f"version {item.version}")
        if item.deleted or item.created is None:
            findings.append(
                Finding(
                    id=NO_CURRENT,
                    severity=Severity.INFO,
                    location=loc,
                    message="current version is deleted or destroyed; nothing to rotate",
                )
            )
            continue
        age = item.age(now)
        if age is not None and age > max_age:
            findings.append(
                Finding(
                    id=STALE,
                    severity=severity,
                    location=loc,
                    message=(
                        f"secret last rotated {format_duration(timedelta(days=age.days) or age)} ago "
                        f"({item.created.date().isoformat()}), older than max_secret_age "
                        f"{format_duration(max_age)}"
                    ),
                    data={
                        "age_seconds": int(age.total_seconds()),
                        "created": item.created.isoformat(),
                        "version": item.version,
                    },
                )
            )
    listing = json.dumps(
        [[p, a.version, a.created.isoformat() if a.created else None] for p, a in sorted(seen.items())]
    )
    subject = Subject(
        name=f"{client.adapter.base_uri}/{mount}/{','.join(p.strip('/') for p in prefixes) or ''}",
        digest={"sha256": hashlib.sha256(listing.encode()).hexdigest()},
    )
    return finalize(
        gate=GATE,
        subject=subject,
        tool=TOOL,
        findings=findings,
        settings=settings,
        started_at=started,
        metadata={"action": "check-age", "secrets_checked": len(seen), "max_secret_age": format_duration(max_age)},
    )
