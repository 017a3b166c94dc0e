"""Vault Agent Injector annotations on a KFP task (through kfp-kubernetes).

::

    from kfp_gates.sdk.vault import inject_vault_agent

    train = train_op(...)
    inject_vault_agent(
        train,
        role="ml-training",
        secrets={"db": "database/creds/readonly"},
        templates={"db": '{{ with secret "database/creds/readonly" }}{{ .Data.password }}{{ end }}'},
    )

The injector's init container logs in with the pod's service account and
renders each secret to ``/vault/secrets/<name>`` before the step starts. The
default ``agent-pre-populate-only: "true"`` runs no agent sidecar: a sidecar
never exits, so a batch pod (a Job, a pipeline step) would never complete,
a known pitfall of the injector.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kfp_gates.components.common.errors import ConfigError

if TYPE_CHECKING:
    from kfp.dsl import PipelineTask

log = logging.getLogger("kfp_gates.sdk.vault")

DEFAULT_PREFIX = "vault.hashicorp.com"
_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")
_PERMS = re.compile(r"^0?[0-7]{3}$")
_MAX_NAME_SEGMENT = 63  # Kubernetes annotation key name part


def vault_agent_annotations(
    *,
    role: str,
    secrets: Mapping[str, str],
    templates: Mapping[str, str] | None = None,
    pre_populate_only: bool = True,
    auth_path: str | None = None,
    namespace: str | None = None,
    ca_cert: str | None = None,
    tls_secret: str | None = None,
    secret_volume_path: str | None = None,
    file_perms: str | None = "0400",
    prefix: str = DEFAULT_PREFIX,
) -> dict[str, str]:
    """The annotation map (key -> value) for the Vault Agent Injector.

    Raises :class:`ConfigError` when the role or a secret is missing, a name
    cannot be an annotation key, a template has no matching secret, or a value
    looks like a credential rather than a path.
    """
    from kfp_gates.components.secrets.steps import refuse_secret_looking

    if not role:
        raise ConfigError("the Vault role is required", where="role")
    if not secrets:
        raise ConfigError("name at least one secret to inject", where="secrets")
    extra = sorted(set(templates or {}) - set(secrets))
    if extra:
        raise ConfigError(
            f"template(s) without a secret: {', '.join(extra)}",
            where="templates",
            hint="every template name must also be a key of secrets",
        )
    if file_perms is not None and not _PERMS.match(file_perms):
        raise ConfigError(f"invalid file mode {file_perms!r}", where="file_perms", hint="e.g. 0400")
    refuse_secret_looking(
        role=role, auth_path=auth_path, namespace=namespace, **{f"secrets[{k}]": v for k, v in secrets.items()}
    )
    p = prefix.rstrip("/")
    out: dict[str, str] = {f"{p}/agent-inject": "true", f"{p}/role": role}
    if pre_populate_only:
        out[f"{p}/agent-pre-populate-only"] = "true"
    else:
        log.warning("agent-pre-populate-only is off: the agent sidecar keeps the step's pod from completing")
    for key, value in (
        ("auth-path", auth_path),
        ("namespace", namespace),
        ("ca-cert", ca_cert),
        ("tls-secret", tls_secret),
        ("secret-volume-path", secret_volume_path),
    ):
        if value:
            out[f"{p}/{key}"] = value
    for name, path in secrets.items():
        segment = f"agent-inject-secret-{name}"
        if not _NAME.match(name) or len(segment) > _MAX_NAME_SEGMENT:
            raise ConfigError(
                f"secret name {name!r} cannot be used in an annotation key",
                where=f"secrets[{name}]",
                hint="lower-case letters, digits, '-', '.', '_'; at most 43 characters",
            )
        if not path or not path.strip("/"):
            raise ConfigError("empty secret path", where=f"secrets[{name}]")
        out[f"{p}/{segment}"] = path.strip("/")
        if templates and name in templates:
            out[f"{p}/agent-inject-template-{name}"] = templates[name]
        if file_perms is not None:
            out[f"{p}/agent-inject-perms-{name}"] = file_perms if len(file_perms) == 4 else "0" + file_perms
    return out


def inject_vault_agent(task: PipelineTask, **kwargs: object) -> PipelineTask:
    """Set the Vault Agent Injector annotations on ``task``; returns the task.

    Keyword arguments are those of :func:`vault_agent_annotations`. The step
    reads its secrets from ``/vault/secrets/<name>`` (or ``secret_volume_path``).
    """
    from kfp import kubernetes

    for key, value in vault_agent_annotations(**kwargs).items():  # type: ignore[arg-type]
        kubernetes.add_pod_annotation(task, key, value)
    return task
