"""Leases of dynamic secrets: record them per pipeline run, revoke them when the run ends, renew tokens.

A dynamic secret read by a ``fetch_secret`` step is recorded under
``<registry mount>/<prefix>/<run id>/<n>`` (the lease id only, which is not a
credential). The exit-handler component ``revoke_leases`` reads the run's
records, revokes every lease and deletes the records, whether the run
succeeded or failed. A lease also ends when the token that created it
expires, so the fetch step's login TTL is an upper bound even if the exit
handler never runs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import hvac
import hvac.exceptions

from kfp_gates.components.common.errors import ConfigError, KfpGatesError

from .client import translate, vault_errors
from .reading import Lease

log = logging.getLogger("kfp_gates.secrets")


@dataclass(frozen=True)
class RevokeReport:
    """Outcome of :func:`revoke_leases`: ids revoked, and ids that failed with the reason."""

    revoked: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


def revoke_leases(client: hvac.Client, lease_ids: Iterable[str]) -> RevokeReport:
    """Revoke each lease (``sys/leases/revoke``), continuing past failures; report what happened.

    Revoking a lease that already ended succeeds (Vault answers 204), so this
    is safe to repeat.
    """
    revoked: list[str] = []
    failed: list[tuple[str, str]] = []
    for lease_id in dict.fromkeys(lease_ids):
        try:
            with vault_errors(f"revoke lease {lease_id}", client=client):
                client.sys.revoke_lease(lease_id=lease_id)
        except KfpGatesError as exc:
            failed.append((lease_id, exc.message))
            continue
        revoked.append(lease_id)
    return RevokeReport(tuple(revoked), tuple(failed))


def renew_lease(client: hvac.Client, lease: Lease, increment: int | None = None) -> Lease:
    """Renew ``lease``; returns it with the new duration. ConfigError when it is not renewable."""
    if not lease.renewable:
        raise ConfigError(f"lease {lease.lease_id} is not renewable")
    with vault_errors(f"renew lease {lease.lease_id}", client=client):
        body = client.sys.renew_lease(lease_id=lease.lease_id, increment=increment)
    return Lease(lease.lease_id, int(body.get("lease_duration") or 0), bool(body.get("renewable")))


def renew_token(client: hvac.Client, increment: int | None = None) -> int:
    """Renew the client's own token; return its new TTL in seconds (may be capped by the max TTL)."""
    with vault_errors("renew token", client=client):
        body = client.auth.token.renew_self(increment=increment)
    return int((body.get("auth") or {}).get("lease_duration") or 0)


def revoke_self(client: hvac.Client) -> None:
    """Revoke the client's own token (and, with it, every lease it created). Errors are logged, not raised."""
    try:
        with vault_errors("revoke token", client=client):
            client.auth.token.revoke_self()
    except KfpGatesError as exc:
        log.warning("could not revoke the step's Vault token: %s", exc.message)


@dataclass
class TokenRenewer:
    """Renew a long step's token in the background at ``fraction`` of its TTL, until stopped.

    Use as a context manager around the long work. Stops by itself when the
    token reached its max TTL (Vault returns a shorter TTL than asked) or
    renewal fails; ``errors`` keeps the reasons.
    """

    client: hvac.Client
    ttl: int
    fraction: float = 2 / 3
    min_interval: float = 1.0
    renewals: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def _run(self) -> None:
        ttl = self.ttl
        while not self._stop.wait(max(self.min_interval, ttl * self.fraction)):
            try:
                new_ttl = renew_token(self.client, increment=self.ttl)
            except KfpGatesError as exc:
                self.errors.append(exc.message)
                log.warning("token renewal failed: %s", exc.message)
                return
            self.renewals += 1
            if new_ttl <= 0:
                return
            ttl = new_ttl

    def __enter__(self) -> TokenRenewer:
        self._thread = threading.Thread(target=self._run, name="vault-token-renewer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class LeaseRegistry:
    """Lease ids per pipeline run, kept in a KV v2 mount so an exit handler can revoke them.

    The step that records needs ``create`` on ``<mount>/data/<prefix>/*``;
    the exit handler needs ``list``/``read``/``delete`` on the metadata and
    ``update`` on ``sys/leases/revoke``.
    """

    def __init__(self, client: hvac.Client, *, mount: str = "secret", prefix: str = "kfp-gates/leases") -> None:
        self.client = client
        self.mount = mount.strip("/")
        self.prefix = prefix.strip("/")

    def _run_path(self, run_id: str) -> str:
        run = (run_id or "").strip()
        if not run or "/" in run or run in {".", ".."}:
            raise ConfigError(f"invalid run id {run_id!r}", where="run_id")
        return f"{self.prefix}/{run}"

    def record(self, run_id: str, lease: Lease) -> str:
        """Store ``lease`` for ``run_id``; return the record's key (a hash of the lease id)."""
        key = hashlib.sha256(lease.lease_id.encode()).hexdigest()[:32]
        path = f"{self._run_path(run_id)}/{key}"
        with vault_errors("record lease", where=f"{self.mount}/{path}", client=self.client):
            self.client.secrets.kv.v2.create_or_update_secret(path=path, secret=lease.to_dict(), mount_point=self.mount)
        return key

    def pending(self, run_id: str) -> dict[str, str]:
        """record key -> lease id for ``run_id`` (empty when nothing was recorded)."""
        base = self._run_path(run_id)
        try:
            keys = self.client.secrets.kv.v2.list_secrets(path=base, mount_point=self.mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:
            return {}
        except (hvac.exceptions.VaultError, OSError) as exc:
            raise translate(
                exc, action="list recorded leases", where=f"{self.mount}/{base}", client=self.client
            ) from None
        out: dict[str, str] = {}
        for key in keys:
            with vault_errors("read recorded lease", where=f"{self.mount}/{base}/{key}", client=self.client):
                body = self.client.secrets.kv.v2.read_secret_version(
                    path=f"{base}/{key}", mount_point=self.mount, raise_on_deleted_version=True
                )
            out[key] = str(body["data"]["data"]["lease_id"])
        return out

    def forget(self, run_id: str, key: str) -> None:
        with vault_errors("delete lease record", client=self.client):
            self.client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=f"{self._run_path(run_id)}/{key}", mount_point=self.mount
            )

    def revoke_run(self, run_id: str) -> RevokeReport:
        """Revoke every lease recorded for ``run_id`` and delete the records of those revoked."""
        pending = self.pending(run_id)
        report = revoke_leases(self.client, pending.values())
        done = set(report.revoked)
        for key, lease_id in pending.items():
            if lease_id in done:
                self.forget(run_id, key)
        return report
