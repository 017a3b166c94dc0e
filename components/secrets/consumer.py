"""Unwrapping inside a component: the consuming side of ``fetch_secret``.

Component code (the body of a ``@dsl.component``) calls::

    from kfp_gates.components.secrets.consumer import unwrap_artifact, secret_files

    secret = unwrap_artifact(wrapped)               # dsl.Input[dsl.Artifact] from fetch_secret
    password = secret["password"]

    with secret_files(wrapped) as folder:           # one 0600 file per field, removed afterwards
        subprocess.run(["psql", f"--passfile={folder / 'password'}"], check=True)

The Vault address comes from ``vault_addr=``, else ``VAULT_ADDR``, else the
artifact's metadata (written by ``fetch_secret``). A token that was already
unwrapped, expired or swapped raises :class:`WrappingTokenRejected`, so the
step fails: it never continues without its secret.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from kfp_gates.components.common.errors import ConfigError

from .config import VaultConfig
from .delivery import Delivery, unwrap_and_deliver
from .reading import SecretData, parse_vault_time
from .wrapping import WrappingTokenRejected


class ArtifactLike(Protocol):
    path: str
    metadata: Mapping[str, Any]


def _token_and_meta(wrapped: ArtifactLike | str | os.PathLike[str]) -> tuple[str, Mapping[str, Any]]:
    if isinstance(wrapped, str | os.PathLike):
        path, meta = Path(wrapped), {}
    else:
        path, meta = Path(wrapped.path), dict(getattr(wrapped, "metadata", None) or {})
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError("wrapped-secret artifact not found", where=str(path)) from None
    return token, meta


def deliver_artifact(
    wrapped: ArtifactLike | str | os.PathLike[str],
    *,
    to_dir: str | os.PathLike[str] | None = None,
    vault_addr: str | None = None,
    check_path: bool = True,
    result_path: str | os.PathLike[str] | None = None,
) -> Delivery:
    """Unwrap the token in ``wrapped`` once; optionally write the fields to ``to_dir`` and the result JSON.

    Returns the :class:`Delivery` (its ``result`` is ``fail`` when the token
    was rejected; nothing raises for that case here).
    """
    token, meta = _token_and_meta(wrapped)
    config = VaultConfig.from_env(vault_addr or os.environ.get("VAULT_ADDR") or meta.get("vault_addr"))
    created = parse_vault_time(meta.get("creation_time"))
    try:
        ttl = int(float(meta.get("ttl") or 0))  # KFP stores metadata numbers as doubles
    except (TypeError, ValueError):
        ttl = 0
    expires_at = created + timedelta(seconds=ttl) if created is not None and ttl > 0 else None
    delivery = unwrap_and_deliver(
        config,
        token,
        to_dir=to_dir,
        expected_path=str(meta["creation_path"]) if check_path and meta.get("creation_path") else None,
        expires_at=expires_at,
        accessor=meta.get("accessor"),
    )
    if result_path is not None:
        Path(result_path).write_text(delivery.result.to_json(), encoding="utf-8")
    return delivery


def unwrap_artifact(
    wrapped: ArtifactLike | str | os.PathLike[str], *, vault_addr: str | None = None, check_path: bool = True
) -> SecretData:
    """The secret behind ``wrapped`` (fields registered with the redactor).

    Raises :class:`WrappingTokenRejected` (a used, expired or swapped token),
    :class:`ConfigError` or :class:`InfrastructureError`.
    """
    delivery = deliver_artifact(wrapped, vault_addr=vault_addr, check_path=check_path)
    if delivery.secret is None:
        finding = delivery.result.findings[0]
        raise WrappingTokenRejected(finding)
    return delivery.secret


@contextlib.contextmanager
def secret_files(
    wrapped: ArtifactLike | str | os.PathLike[str], *, vault_addr: str | None = None, base_dir: str | None = None
) -> Iterator[Path]:
    """Unwrap into a private temporary directory (0700, files 0600) that is removed on exit."""
    folder = Path(tempfile.mkdtemp(prefix="kfp-gates-secret-", dir=base_dir))
    try:
        delivery = deliver_artifact(wrapped, to_dir=folder, vault_addr=vault_addr)
        if delivery.secret is None:
            raise WrappingTokenRejected(delivery.result.findings[0])
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
