"""``imagePullPolicy``: ``Always`` makes the node check the registry for a digest-pinned image on every start."""

from __future__ import annotations

from collections.abc import Iterable

from kfp_gates.components.common.errors import ConfigError

from ._spec import Platform, platform_executors

POLICIES = ("Always", "IfNotPresent", "Never")


def set_image_pull_policy(platform: Platform, labels: Iterable[str], policy: str = "Always") -> Platform:
    if policy not in POLICIES:
        raise ConfigError(f"image pull policy {policy!r}", hint=f"one of {', '.join(POLICIES)}")
    executors = platform_executors(platform)
    for label in labels:
        executors.setdefault(label, {})["imagePullPolicy"] = policy
    return platform
