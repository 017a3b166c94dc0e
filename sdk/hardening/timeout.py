"""``activeDeadlineSeconds``: a task that runs past it is killed (a hung or stalled step never runs forever)."""

from __future__ import annotations

from collections.abc import Iterable

from kfp_gates.components.common.errors import ConfigError

from ._spec import Platform, platform_executors


def set_timeout(platform: Platform, labels: Iterable[str], seconds: int) -> Platform:
    """Set the deadline where none is set, or lower one that is longer; never raise a shorter one."""
    if seconds <= 0:
        raise ConfigError(f"timeout must be positive, got {seconds}", where="timeout")
    executors = platform_executors(platform)
    for label in labels:
        cfg = executors.setdefault(label, {})
        current = int(cfg.get("activeDeadlineSeconds") or 0)
        cfg["activeDeadlineSeconds"] = seconds if not current else min(current, seconds)
    return platform
