"""Vault / OpenBao secret delivery: short-lived, single-use credentials for pipeline steps.

The engine behind the ``fetch_secret`` / ``revoke_leases`` components and
``kfp-gates secret``. Plain Python over hvac, no KFP import.

* :mod:`.config`    where the server is (``VAULT_*`` environment honoured), TLS, timeouts, retries
* :mod:`.client`    hvac client with backoff+jitter retries, errors mapped to exit codes, health
* :mod:`.auth`      one module per auth method: token, approle, kubernetes, jwt/oidc
* :mod:`.reading`   KV v2 (latest or pinned), KV v1, dynamic secrets with leases
* :mod:`.wrapping`  response wrapping: fetch as a wrapping token, unwrap exactly once
* :mod:`.delivery`  unwrapped fields into 0600 files or a command's environment
* :mod:`.leases`    lease revocation per run, token renewal
* :mod:`.age`       rotation hygiene over KV v2 metadata (``max_secret_age``)
* :mod:`.consumer`  the helper component code calls to unwrap what ``fetch_secret`` produced
"""

from __future__ import annotations

import hvac

from .auth import AuthMethod, Login, auth_from_options
from .client import ServerStatus, connect, server_status
from .config import VaultConfig
from .reading import Lease, SecretData, SecretRef, read_secret
from .wrapping import WrappedSecret, WrappingTokenRejected, fetch_wrapped, unwrap

__all__ = [
    "AuthMethod",
    "Lease",
    "Login",
    "SecretData",
    "SecretRef",
    "ServerStatus",
    "VaultConfig",
    "WrappedSecret",
    "WrappingTokenRejected",
    "auth_from_options",
    "connect",
    "fetch_wrapped",
    "login",
    "read_secret",
    "server_status",
    "unwrap",
]


def login(config: VaultConfig, method: AuthMethod) -> tuple[hvac.Client, Login]:
    """Connect to ``config.addr`` and log in with ``method``; returns ``(client, login)``."""
    client = connect(config)
    return client, method.login(client)
