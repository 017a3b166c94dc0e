"""Pod labels and annotations (``podMetadata``), merged into what each executor already has."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kfp_gates.components.common.errors import ConfigError

from ._spec import Platform, platform_executors


def _merge(platform: Platform, labels: Iterable[str], key: str, values: Mapping[str, str]) -> Platform:
    executors = platform_executors(platform)
    for label in labels:
        meta = executors.setdefault(label, {}).setdefault("podMetadata", {}).setdefault(key, {})
        for k, v in values.items():
            if k in meta and meta[k] != v:
                # The pipeline set this key to something else: overriding it silently would change what it does.
                raise ConfigError(
                    f"executor {label} already sets pod {key[:-1]} {k}={meta[k]!r}; hardening wants {v!r}",
                    where=f"platforms.kubernetes.deploymentSpec.executors.{label}.podMetadata.{key}.{k}",
                    hint="remove the pipeline's own setting or change the hardening option",
                )
            meta[k] = v
    return platform


def add_pod_labels(platform: Platform, labels: Iterable[str], values: Mapping[str, str]) -> Platform:
    """Add pod labels (e.g. the isolation label a default-deny NetworkPolicy selects) to ``labels``' executors."""
    return _merge(platform, labels, "labels", values)


def add_pod_annotations(platform: Platform, labels: Iterable[str], values: Mapping[str, str]) -> Platform:
    """Add pod annotations (e.g. Vault Agent Injector's) to ``labels``' executors."""
    return _merge(platform, labels, "annotations", values)
