"""Kubernetes auth: the pod's (projected) service-account token and a Vault role."""

from __future__ import annotations

from typing import Any

import hvac

from kfp_gates.components.common.errors import ConfigError

from .._files import read_credential
from .interface import AuthMethod

DEFAULT_SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path


class KubernetesAuth(AuthMethod):
    """Log in as the pod's service account. ``jwt_file`` defaults to the standard SA token path.

    For a token with a Vault-specific audience, project one
    (``serviceAccountToken`` volume, ``audience: vault``) and point
    ``jwt_file`` at it. The token is re-read at every login because the
    kubelet rotates projected tokens.
    """

    name = "kubernetes"

    def __init__(self, *, role: str, jwt_file: str | None = None, mount: str = "kubernetes") -> None:
        if not role:
            raise ConfigError("Kubernetes auth needs a Vault role", where="--role")
        self.role = role
        self.jwt_file = jwt_file or DEFAULT_SA_TOKEN
        self.mount = mount

    def _login(self, client: hvac.Client) -> dict[str, Any]:
        jwt = read_credential(self.jwt_file, "service-account token")
        return client.auth.kubernetes.login(role=self.role, jwt=jwt, mount_point=self.mount, use_token=False)["auth"]
