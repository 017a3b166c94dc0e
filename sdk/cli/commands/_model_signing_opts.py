"""Options shared by ``sign-model`` and ``verify-model`` (Vault / OpenBao Transit, Sigstore, hashing)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_vault_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("Vault / OpenBao Transit (with --vault-transit NAME)")
    g.add_argument("--vault-addr", metavar="URL", help="Vault address (default: $VAULT_ADDR or $BAO_ADDR)")
    g.add_argument("--vault-mount", metavar="PATH", default="transit", help="Transit mount path (default: transit)")
    g.add_argument("--vault-namespace", metavar="NS", help="Vault Enterprise namespace (default: $VAULT_NAMESPACE)")
    g.add_argument("--vault-cacert", metavar="PEM", help="CA bundle for Vault's TLS certificate")
    g.add_argument(
        "--vault-token-file", metavar="FILE", help="read the Vault token from FILE (default: $VAULT_TOKEN / $BAO_TOKEN)"
    )
    g.add_argument("--vault-k8s-role", metavar="ROLE", help="log in with Kubernetes auth as ROLE (in a pod)")
    g.add_argument(
        "--vault-k8s-jwt-file",
        metavar="FILE",
        default="/var/run/secrets/kubernetes.io/serviceaccount/token",
        help="service-account token for Kubernetes auth",
    )
    g.add_argument("--vault-k8s-mount", metavar="PATH", default="kubernetes", help="Kubernetes auth mount")
    g.add_argument("--vault-timeout", type=float, default=10.0, metavar="SECONDS", help="Vault request timeout")


def add_sigstore_online_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sigstore-online",
        action="store_true",
        help="allow Sigstore to use the network (Fulcio, Rekor, OIDC); without it Sigstore reports unavailable",
    )


def vault_client(args: argparse.Namespace) -> Any:
    from kfp_gates.components.model_signing.signers.transit import VaultSettings, connect

    settings = VaultSettings.from_env(
        addr=args.vault_addr,
        mount=args.vault_mount,
        namespace=args.vault_namespace,
        cacert=args.vault_cacert,
        token_file=args.vault_token_file,
        k8s_role=args.vault_k8s_role,
        k8s_jwt_file=args.vault_k8s_jwt_file,
        k8s_mount=args.vault_k8s_mount,
        timeout=args.vault_timeout,
    )
    return connect(settings)


def check_exists(path: str, what: str, flag: str) -> None:
    from kfp_gates.components.common.errors import InputNotFoundError

    if not os.path.lexists(path):
        raise InputNotFoundError(f"{what} not found", where=path, hint=f"check {flag}")


def split_csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def close_progress(progress: Any) -> None:
    if progress is not None:
        progress.close()
