"""What to harden, applied to every executor of a compiled pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._spec import Platform, dump_documents, executor_labels, load_documents
from .caching import disable_gate_caching
from .pod_metadata import add_pod_annotations, add_pod_labels
from .pull_policy import set_image_pull_policy
from .timeout import set_timeout
from .validate import validate_platform

# The pod label the profile namespace's default-deny egress NetworkPolicy selects (deploy/).
ISOLATION_LABEL = "kfp-gates.dev/isolation"


@dataclass(frozen=True)
class HardeningOptions:
    """Settings for every task. ``backend`` is the KFP backend the result must be valid for."""

    labels: dict[str, str] = field(default_factory=lambda: {ISOLATION_LABEL: "restricted"})
    annotations: dict[str, str] = field(default_factory=dict)
    image_pull_policy: str | None = "Always"
    timeout_seconds: int | None = None
    gate_caching_off: bool = True
    backend: str | None = None


def harden_documents(
    spec: dict[str, Any], platform: Platform, options: HardeningOptions | None = None
) -> tuple[dict[str, Any], Platform, dict[str, Any]]:
    """Harden in place and return (spec, platform, report). Raises ConfigError when the result is invalid."""
    opts = options or HardeningOptions()
    labels = executor_labels(spec)
    if opts.labels:
        add_pod_labels(platform, labels, opts.labels)
    if opts.annotations:
        add_pod_annotations(platform, labels, opts.annotations)
    if opts.image_pull_policy:
        set_image_pull_policy(platform, labels, opts.image_pull_policy)
    if opts.timeout_seconds:
        set_timeout(platform, labels, opts.timeout_seconds)
    uncached = disable_gate_caching(spec) if opts.gate_caching_off else []
    validate_platform(platform, opts.backend)
    return spec, platform, {"executors": labels, "caching_disabled": uncached}


def harden_text(text: str, options: HardeningOptions | None = None, *, where: str = "<pipeline>") -> str:
    """Harden compiled pipeline YAML; the result loads with ``kfp.components.load_component_from_text``."""
    spec, platform = load_documents(text, where)
    spec, platform, _ = harden_documents(spec, platform, options)
    return dump_documents(spec, platform)
