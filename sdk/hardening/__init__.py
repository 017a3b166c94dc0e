"""Harden a compiled pipeline's every task by editing its IR — the shape ``secure()`` builds on.

kfp-kubernetes helpers refuse pipeline tasks ("Platform-specific features can
only be set on primitive components"), so tasks inside nested pipelines,
``dsl.If`` and ``dsl.ParallelFor`` cannot be reached from Python. Every
concern here is instead a function ``fn(platform, labels, ...) -> platform``
over the PlatformSpec's ``deploymentSpec.executors.<label>`` map (the
kfp-kubernetes shape), that **merges** into what the pipeline already set and
never replaces it; :func:`harden_documents` applies them to every executor of a
compiled pipeline, turns caching off on gate tasks, and validates the result
against the ``KubernetesExecutorConfig`` message and the target KFP backend
(:mod:`kfp_gates.sdk.platform_compat`): a field the backend would reject or
drop is an error naming it and the minimum backend, never written silently.
"""

from __future__ import annotations

from ._spec import dump_documents, executor_labels, load_documents, platform_executors
from .caching import disable_gate_caching
from .options import HardeningOptions, harden_documents, harden_text
from .pod_metadata import add_pod_annotations, add_pod_labels
from .pull_policy import set_image_pull_policy
from .timeout import set_timeout
from .validate import validate_platform

__all__ = [
    "HardeningOptions",
    "add_pod_annotations",
    "add_pod_labels",
    "disable_gate_caching",
    "dump_documents",
    "executor_labels",
    "harden_documents",
    "harden_text",
    "load_documents",
    "platform_executors",
    "set_image_pull_policy",
    "set_timeout",
    "validate_platform",
]
