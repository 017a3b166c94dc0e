"""The two documents of a compiled pipeline and the PlatformSpec's per-executor map."""

from __future__ import annotations

from typing import Any

import yaml

from kfp_gates.components.common.errors import ConfigError

Platform = dict[str, Any]  # the PlatformSpec document: {"platforms": {"kubernetes": {...}}}


def load_documents(text: str, where: str = "<pipeline>") -> tuple[dict[str, Any], Platform]:
    """(PipelineSpec, PlatformSpec) of compiled pipeline YAML; an absent PlatformSpec comes back empty."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", where=where) from None
    spec = next((d for d in docs if isinstance(d, dict) and "deploymentSpec" in d), None)
    if spec is None:
        raise ConfigError("not a compiled KFP pipeline (no deploymentSpec)", where=where,
                          hint="pass the YAML written by `kfp.compiler.Compiler().compile`")
    platform = next((d for d in docs if isinstance(d, dict) and "platforms" in d), None)
    return spec, platform if platform is not None else {}


def dump_documents(spec: dict[str, Any], platform: Platform) -> str:
    """The YAML KFP writes: the PipelineSpec, then the PlatformSpec when it holds anything."""
    out = yaml.safe_dump(spec, sort_keys=True)
    if platform:
        out += "---\n" + yaml.safe_dump(platform, sort_keys=True)
    return out


def executor_labels(spec: dict[str, Any]) -> list[str]:
    """Every executor of the pipeline: the root DAG's and those of every nested pipeline, If and ParallelFor."""
    return sorted(((spec.get("deploymentSpec") or {}).get("executors")) or {})


def platform_executors(platform: Platform) -> dict[str, dict[str, Any]]:
    """``platforms.kubernetes.deploymentSpec.executors``, created when missing (so it can be merged into)."""
    k8s = platform.setdefault("platforms", {}).setdefault("kubernetes", {})
    return k8s.setdefault("deploymentSpec", {}).setdefault("executors", {})
