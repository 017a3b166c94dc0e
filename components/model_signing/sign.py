"""Sign a model: hash it, bind the gate results it passed, sign the statement, write the bundle."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kfp_gates.components.common.errors import GateBlocked, InputNotFoundError

from .bundle import Bundle, write_bundle
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


def bind_gate_results(paths: Sequence[str | Path]) -> tuple[BoundGateResult, ...]:
    """Read gate results to bind. A failed result refuses signing (GateBlocked): sign only what passed."""
    bound: list[BoundGateResult] = []
    for p in paths:
        result, b = load_gate_result(p)
        if not result.passed:
            raise GateBlocked(
                f"gate {result.gate!r} failed for {result.subject.name}; a model that failed a gate is not signed",
                where=str(p),
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
    model or gate result), GateBlocked (a gate result that failed),
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
    bound = bind_gate_results(gate_results)
    manifest = hash_model(root, config, progress)
    bundle = signer.sign(build_payload(manifest, bound, signer=signer_label))
    write_bundle(bundle, out)
    return Signing(manifest, bound, bundle, out)
