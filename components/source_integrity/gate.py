"""The component lock as a gate result (what ``lock verify``, ``check`` and the SDK report)."""

from __future__ import annotations

from importlib import metadata

from kfp_gates.components.common.digest import sha256_bytes
from kfp_gates.components.common.gate import Clock, GateSettings, finalize
from kfp_gates.components.common.kfp_ir import CompiledPipeline
from kfp_gates.components.common.result import GateResult, Subject, Tool

from .lock import ComponentLock, verify_lock

GATE = "source_integrity"


def tool() -> Tool:
    try:
        version = metadata.version("kfp-gates")
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        version = "0+unknown"
    return Tool(name="kfp-gates component-lock", version=version)


def pipeline_subject(pipeline: CompiledPipeline, text: str | None = None) -> Subject:
    """The pipeline as a subject: its name and the sha256 of its YAML text (re-read when not given)."""
    if text is None:
        with open(pipeline.path, "rb") as fh:
            data = fh.read()
    else:
        data = text.encode("utf-8")
    return Subject(name=pipeline.name, digest={"sha256": sha256_bytes(data)})


def lock_gate(
    pipeline: CompiledPipeline,
    lock: ComponentLock,
    settings: GateSettings | None = None,
    *,
    lock_path: str | None = None,
    subject: Subject | None = None,
) -> GateResult:
    """Verify ``pipeline`` against ``lock`` and decide with the policy's ``settings``."""
    clock = Clock()
    findings = verify_lock(pipeline, lock)
    return finalize(
        gate=GATE,
        subject=subject or pipeline_subject(pipeline),
        tool=tool(),
        findings=findings,
        settings=settings or GateSettings(),
        started_at=clock.started_at,
        metadata={
            "check": "component-lock",
            "pipeline": pipeline.path,
            "lock": lock_path,
            "lock_sha256": lock.sha256,
            "executors_locked": len(lock.executors),
            "executors_now": len(pipeline.executors),
        },
    )
