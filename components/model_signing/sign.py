"""Sign a model: hash it, bind the gate results it passed, sign the statement, write the bundle."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kfp_gates.components.common.errors import InputNotFoundError
from kfp_gates.components.common.result import GateResult

from .bundle import Bundle, write_bundle
from .errors import GATE_FAILED, GATE_OTHER_SUBJECT, GATE_SUBJECT_UNREAD, GateBindingError
from .hashing import HashingConfig, Manifest, Progress, hash_model
from .signers.interface import Signer
from .statement import BoundGateResult, build_payload, load_gate_result
from .verify import relative_inside


@dataclass(frozen=True)
class Signing:
    """A signed model: the manifest that was signed, the gate results bound to it, the bundle written."""

    manifest: Manifest
    gate_results: tuple[BoundGateResult, ...]
    bundle: Bundle
    signature_path: Path


def default_signature_path(model: str | os.PathLike[str]) -> Path:
    """``<model>.sig`` next to the model (outside it, so the signature never signs itself)."""
    p = Path(model)
    return p.with_name(p.name + ".sig")


def read_gate_results(paths: Sequence[str | Path]) -> list[tuple[Path, GateResult, BoundGateResult]]:
    """Read every gate result to bind. Raises InputNotFoundError (exit 2) or UnsafeInputError (not a result, exit 1)."""
    return [(Path(p), *load_gate_result(p)) for p in paths]


def bind_gate_results(
    results: Sequence[tuple[Path, GateResult, BoundGateResult]], model_digest: str, model_name: str
) -> tuple[BoundGateResult, ...]:
    """The bindings of results that passed *for this model*; raises GateBindingError otherwise.

    A result binds only when its decision passed and its subject digest is
    ``model_digest``, the model digest of the bytes being signed: a passing
    scan of one model is never signed into another model's statement.
    """
    bound: list[BoundGateResult] = []
    for path, result, b in results:
        if not result.subject.known:
            raise GateBindingError(
                f"gate result {path.name} ({result.gate}) names no subject digest (its gate could not read "
                f"{result.subject.name}); it proves nothing about {model_name}",
                finding_id=GATE_SUBJECT_UNREAD, gate=result.gate, model_digest=model_digest,
                hint=f"run the {result.gate} gate again on the model being signed",
            )
        if result.subject.sha256 != model_digest:
            raise GateBindingError(
                f"gate result {path.name} ({result.gate}) is about {result.subject.name} "
                f"(sha256:{result.subject.sha256}), not the model being signed, {model_name} "
                f"(sha256:{model_digest})",
                finding_id=GATE_OTHER_SUBJECT, gate=result.gate, model_digest=model_digest,
                hint=f"run the {result.gate} gate on exactly these bytes and bind that result",
            )
        if not result.passed:
            raise GateBindingError(
                f"gate {result.gate!r} failed for {result.subject.name} (result {path.name}); a model that failed "
                "a gate is not signed",
                finding_id=GATE_FAILED, gate=result.gate, model_digest=model_digest,
                hint="fix what the gate found (or waive it in the policy) and run the gate again",
            )
        bound.append(b)
    return tuple(bound)


def sign_model(
    model: str | os.PathLike[str],
    signer: Signer,
    *,
    signature: str | os.PathLike[str] | None = None,
    config: HashingConfig | None = None,
    gate_results: Sequence[str | Path] = (),
    progress: Progress | None = None,
    signer_label: str = "",
) -> Signing:
    """Sign ``model`` (a directory or one file) and write the bundle to ``signature``.

    A signature path inside the model directory is added to the ignore paths
    (and so recorded in what is signed). Raises InputNotFoundError (missing
    model or gate result), GateBindingError (a bound gate result that failed or is about other bytes),
    UnsafeInputError (symlinks, special files), ConfigError, SignerUnavailableError.
    """
    root = Path(model)
    if not os.path.lexists(root):
        raise InputNotFoundError("model not found", where=str(root))
    config = config or HashingConfig()
    out = Path(signature) if signature else default_signature_path(root)
    if root.is_dir():
        rel = relative_inside(out, root)
        if rel and rel not in config.ignore_paths:
            config = replace(config, ignore_paths=(*config.ignore_paths, rel))
    results = read_gate_results(gate_results)
    manifest = hash_model(root, config, progress)
    assert manifest.model_digest is not None  # hash_model computes it
    bound = bind_gate_results(results, manifest.model_digest, manifest.model_name)
    bundle = signer.sign(build_payload(manifest, bound, signer=signer_label))
    write_bundle(bundle, out)
    return Signing(manifest, bound, bundle, out)
