"""The ``model_signing`` gate: sign and verify, as GateResults built with ``finalize()``.

The engine (:func:`~.sign.sign_model`, :func:`~.verify.verify_model`) raises;
this layer turns a refusal (:class:`GateBlocked`) into findings so the gate
reports, then enforces. Usage and infrastructure errors (exit 2 and 3)
propagate: the caller cannot get a verdict from a gate that could not run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import GateBlocked
from kfp_gates.components.common.gate import Clock, GateSettings, finalize, unread_subject_finding
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity

from .errors import BAD_STATEMENT, GateBindingError, ModelIntegrityError, SignatureError
from .hashing import HashingConfig, Progress
from .sign import Signing, sign_model
from .signers.interface import Signer, Verifier
from .verify import verify_model

GATE = "model_signing"
ERROR = "KFPG-SIGN-UNSAFE-INPUT"


def tool() -> Tool:
    def v(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return Tool(name="kfp-gates model_signing", version=f"{v('kfp-gates')} (model-signing {v('model-signing')})")


def _refused_subject(exc: GateBlocked, model: Path, what: str) -> tuple[Subject, list[Finding]]:
    """The subject of a refusal: the model digest of the bytes that were hashed, or none at all.

    Never a made-up digest (of a path or of the signature): when the refusal
    came before the model was hashed, the result names no digest and carries
    the blocking SUBJECT_UNREAD finding, so it cannot be bound as a pass.
    """
    name = model.name or str(model)
    digest = getattr(exc, "model_digest", None)
    if digest:
        return Subject(name=name, digest={"sha256": digest}), []
    why = f"no model digest was computed: {what} was refused before the model's bytes were digested"
    return Subject.unread(name), [unread_subject_finding(name, why)]


def findings_for(exc: GateBlocked, model: Path) -> list[Finding]:
    """One finding per difference (integrity), or one for the refusal."""
    crit = Severity.CRITICAL
    if isinstance(exc, ModelIntegrityError):
        return [
            Finding(
                id=d.finding_id,
                severity=crit,
                message=str(d),
                location=Location(path=d.path),
                data={"kind": d.kind, "detail": d.detail},
            )
            for d in exc.differences
        ]
    if isinstance(exc, GateBindingError):
        return [Finding(id=exc.finding_id, severity=crit, message=exc.message, data={"gate": exc.gate})]
    fid = exc.finding_id if isinstance(exc, SignatureError) else ERROR
    loc = Location(path=exc.where) if exc.where else None
    return [Finding(id=fid or BAD_STATEMENT, severity=crit, message=exc.message, location=loc)]


def run_verify_gate(
    model: str | os.PathLike[str],
    signature: str | os.PathLike[str],
    verifier: Verifier,
    settings: GateSettings,
    *,
    require_gates: Sequence[str] = (),
    gate_result_files: Sequence[str | Path] = (),
    progress: Progress | None = None,
) -> GateResult:
    """Verify and return the gate's result: ``pass``, or ``fail`` with one finding per problem.

    Raises ConfigError/InputNotFoundError (exit 2) and InfrastructureError (exit 3).
    """
    clock = Clock()
    root, sig = Path(model), Path(signature)
    meta: dict[str, Any] = {"signature": str(sig), "verifier": verifier.describe()}
    try:
        v = verify_model(
            root, sig, verifier, require_gates=require_gates, gate_result_files=gate_result_files, progress=progress
        )
    except GateBlocked as exc:
        subject, unread = _refused_subject(exc, root, "the signature or the model")
        findings = findings_for(exc, root) + unread
    else:
        findings = []
        m = v.manifest
        assert v.actual.model_digest is not None
        subject = Subject(name=m.model_name or root.name, digest={"sha256": v.actual.model_digest})
        meta.update(
            manifest_sha256=v.statement.subject_sha256,
            method=m.method,
            hash_type=m.hash_type,
            files=len(v.actual.files()),
            bytes=v.actual.total_bytes,
            ignore_paths=list(m.ignore_paths),
            signed_gate_results=[g.to_dict() for g in v.statement.gate_results],
            signed_by=v.bundle.kind,
            signed_with_kfp_gates=v.statement.has_binding,
        )
    meta["elapsed_seconds"] = round(clock.elapsed(), 3)
    return finalize(
        gate=GATE,
        subject=subject,
        tool=tool(),
        findings=findings,
        settings=_with_extra(settings, require_gates=list(require_gates)),
        started_at=clock.started_at,
        metadata=meta,
    )


def run_sign_gate(
    model: str | os.PathLike[str],
    signer: Signer,
    settings: GateSettings,
    *,
    signature: str | os.PathLike[str] | None = None,
    config: HashingConfig | None = None,
    gate_result_files: Sequence[str | Path] = (),
    progress: Progress | None = None,
) -> tuple[GateResult, Signing | None]:
    """Sign and return (result, signing). A refusal (failed gate result, symlink) is a ``fail`` result."""
    clock = Clock()
    root = Path(model)
    signing: Signing | None = None
    try:
        signing = sign_model(
            root,
            signer,
            signature=signature,
            config=config,
            gate_results=gate_result_files,
            progress=progress,
            signer_label=tool().version,
        )
    except GateBlocked as exc:
        subject, unread = _refused_subject(exc, root, "the input")
        findings = findings_for(exc, root) + unread
        meta: dict[str, Any] = {}
    else:
        findings = []
        m = signing.manifest
        assert m.model_digest is not None
        subject = Subject(name=m.model_name, digest={"sha256": m.model_digest})
        meta = {
            "manifest_sha256": m.root_digest(),
            "signature": str(signing.signature_path),
            "signer": signer.describe(),
            "method": m.method,
            "hash_type": m.hash_type,
            "shard_size": m.shard_size,
            "files": len(m.files()),
            "bytes": m.total_bytes,
            "ignore_paths": list(m.ignore_paths),
            "bound_gate_results": [g.to_dict() for g in signing.gate_results],
        }
    meta["elapsed_seconds"] = round(clock.elapsed(), 3)
    result = finalize(
        gate=GATE,
        subject=subject,
        tool=tool(),
        findings=findings,
        settings=settings,
        started_at=clock.started_at,
        metadata=meta,
    )
    return result, signing


def _with_extra(settings: GateSettings, **extra: Any) -> GateSettings:
    return GateSettings(
        fail_on=settings.fail_on, on_fail=settings.on_fail, waivers=settings.waivers, extra={**settings.extra, **extra}
    )
