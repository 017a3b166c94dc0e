"""Every executor config is a valid ``KubernetesExecutorConfig`` that the target KFP backend honours."""

from __future__ import annotations

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.sdk.platform_compat import first_backend_knowing, resolve_backend, unknown_fields

from ._spec import Platform, platform_executors


def validate_platform(platform: Platform, backend: str | None = None) -> None:
    """Raise ConfigError naming the first executor field that is invalid or unknown to ``backend``.

    The message is parsed with protobuf's own JSON parser (unknown fields are
    errors there) using kfp-kubernetes' generated ``KubernetesExecutorConfig``,
    then checked against the target backend's field table: the outer PlatformSpec
    accepts unknown keys silently, so this is the only place a typo is caught.
    """
    from google.protobuf import json_format
    from kfp.kubernetes import kubernetes_executor_config_pb2 as pb

    target = resolve_backend(backend)
    for label, cfg in sorted(platform_executors(platform).items()):
        where = f"platforms.kubernetes.deploymentSpec.executors.{label}"
        try:
            json_format.ParseDict(cfg, pb.KubernetesExecutorConfig())
        except json_format.ParseError as exc:
            raise ConfigError(f"executor {label}: not a valid KubernetesExecutorConfig: {exc}", where=where) from None
        for path in unknown_fields(cfg, target):
            needed = first_backend_knowing(cfg, path)
            raise ConfigError(
                f"executor {label}: field {path} is not known to KFP backend {target} "
                + (f"(it needs >= {needed})" if needed else "(no supported backend knows it)"),
                where=f"{where}.{path}",
                hint="target a newer backend (KFP_GATES_KFP_BACKEND) or express the setting as cluster policy",
            )
