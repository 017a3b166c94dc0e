"""Verify a model against its signature; raise, naming every file that differs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kfp_gates.components.common.errors import InputNotFoundError

from .bundle import Bundle, read_bundle
from .errors import (
    BAD_STATEMENT,
    GATE_FAILED,
    GATE_MISSING,
    GATE_OTHER_SUBJECT,
    GATE_RESULT_UNSIGNED,
    Difference,
    GateBindingError,
    ModelIntegrityError,
    SignatureError,
)
from .hashing import Manifest, Progress, Tree, hash_tree, walk
from .signers.interface import Verifier
from .statement import SignedStatement, load_gate_result, parse_payload


@dataclass(frozen=True)
class Verification:
    """A model that matched its signature: what was signed and what was found."""

    statement: SignedStatement
    actual: Manifest
    bundle: Bundle

    @property
    def manifest(self) -> Manifest:
        return self.statement.manifest


def relative_inside(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX) when it lies inside it, else None."""
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return None
    out = rel.as_posix()
    return None if out == "." else out


def _shape(ranges: tuple[tuple[int, int, str], ...]) -> tuple[tuple[int, str], ...]:
    """A file's identity independent of its name: sizes and digests of its ranges."""
    return tuple((end - start, digest) for start, end, digest in ranges)


def compare(expected: SignedStatement, actual: Manifest, tree: Tree) -> tuple[Difference, ...]:
    """Every difference between the signed manifest and the model on disk, file by file.

    A file that disappeared while another with identical content appeared is
    reported once, as renamed. Symlinks and special files found on disk are
    always reported (they are never hashed).
    """
    want = expected.manifest.files()
    have = actual.files()
    diffs: list[Difference] = []
    odd = {rel for rel, _ in tree.symlinks} | set(tree.specials)
    for rel, target in tree.symlinks:
        where = "where the signed file was" if rel in want else "not in the signature"
        diffs.append(Difference("symlink", rel, f"-> {target}, {where}"))
    for rel in tree.specials:
        diffs.append(Difference("special", rel))
    # Upstream shard signatures have no record of empty files: those cannot be judged, so are not reported.
    judge_empty = expected.manifest.method == "files" or expected.has_binding
    removed = [p for p in want if p not in have and p not in odd]
    added = [p for p in have if p not in want and p not in odd and (judge_empty or have[p])]
    by_shape: dict[tuple[tuple[int, str], ...], list[str]] = {}
    for p in removed:
        by_shape.setdefault(_shape(want[p]), []).append(p)
    renamed_from: set[str] = set()
    for p in sorted(added):
        candidates = by_shape.get(_shape(have[p]))
        if candidates:
            old = candidates.pop(0)
            renamed_from.add(old)
            diffs.append(Difference("renamed", old, f"now at {p}"))
        else:
            diffs.append(Difference("added", p))
    diffs.extend(Difference("removed", p) for p in removed if p not in renamed_from)
    for p, ranges in want.items():
        if p in have and have[p] != ranges:
            diffs.append(Difference("modified", p, _what_changed(ranges, have[p], expected.manifest.method)))
    return tuple(sorted(diffs, key=lambda d: (d.path, d.kind)))


def _what_changed(want: tuple[tuple[int, int, str], ...], have: tuple[tuple[int, int, str], ...], method: str) -> str:
    size_w = want[-1][1] if want and method == "shards" else None
    size_h = have[-1][1] if have and method == "shards" else None
    if method != "shards":
        return "content differs"
    if size_w != size_h:
        return f"size {size_w or 0} -> {size_h or 0} bytes"
    changed = [f"{s}-{e}" for (s, e, d), (_, _, d2) in zip(want, have, strict=False) if d != d2]
    return "bytes " + ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "") + " differ"


def check_gate_binding(
    statement: SignedStatement,
    require_gates: Sequence[str],
    gate_result_files: Sequence[str | Path] = (),
    *,
    model_digest: str,
    model_name: str = "the model",
) -> None:
    """Require each named gate to be bound with a passing result *about this model*.

    ``model_digest`` is the model digest of the verified bytes. A bound result
    counts only when its subject digest equals it; results bound about other
    subjects are named in the refusal. Given result files must be ones the
    signature binds (byte for byte) and be about this model too.
    Raises GateBindingError naming the first gate that is missing, failed or about other bytes.
    """
    bound = statement.gate_results
    for gate in dict.fromkeys(g.strip() for g in require_gates if g.strip()):
        mine = [g for g in bound if g.gate == gate]
        if not mine:
            signed = ", ".join(sorted({g.gate for g in bound})) or "none"
            raise GateBindingError(
                f"the signature carries no {gate!r} gate result (signed gate results: {signed})",
                finding_id=GATE_MISSING,
                gate=gate,
                hint=f"sign the model with --gate-result <{gate} result.json> after the gate passes",
                model_digest=model_digest,
            )
        about_this = [g for g in mine if g.subject_sha256 == model_digest]
        if not about_this:
            others = "; ".join(
                f"{g.name or 'result'} is about {g.subject_name} (sha256:{g.subject_sha256})" for g in mine
            )
            raise GateBindingError(
                f"the signed {gate!r} gate result is not about {model_name} (sha256:{model_digest}): {others}",
                finding_id=GATE_OTHER_SUBJECT,
                gate=gate,
                hint=f"run the {gate} gate on exactly these bytes, then sign with that result",
                model_digest=model_digest,
            )
        failed = [g for g in about_this if not g.passed]
        if failed or not any(g.passed for g in about_this):
            raise GateBindingError(
                f"the signed {gate!r} gate result has decision {(failed or about_this)[0].decision!r}",
                finding_id=GATE_FAILED,
                gate=gate,
                model_digest=model_digest,
            )
    signed_digests = {g.sha256 for g in bound}
    for f in gate_result_files:
        result, b = load_gate_result(f)
        if b.sha256 not in signed_digests:
            raise GateBindingError(
                f"gate result {Path(f).name} ({result.gate}) is not one of the results bound to the signature",
                finding_id=GATE_RESULT_UNSIGNED,
                gate=result.gate,
                hint="the result file was changed after signing, or belongs to another model",
                model_digest=model_digest,
            )
        if result.subject.sha256 != model_digest:
            raise GateBindingError(
                f"gate result {Path(f).name} ({result.gate}) is about {result.subject.describe()}, not "
                f"{model_name} (sha256:{model_digest})",
                finding_id=GATE_OTHER_SUBJECT,
                gate=result.gate,
                model_digest=model_digest,
            )


def verify_model(
    model: str | os.PathLike[str],
    signature: str | os.PathLike[str],
    verifier: Verifier,
    *,
    require_gates: Sequence[str] = (),
    gate_result_files: Sequence[str | Path] = (),
    workers: int = 0,
    progress: Progress | None = None,
) -> Verification:
    """Check that ``model`` is exactly what ``signature`` signed, with the gates it must carry.

    Raises InputNotFoundError (model or signature missing, exit 2),
    SignatureError (not a bundle, another key, bad signature, exit 1),
    ModelIntegrityError (files differ, exit 1), GateBindingError (a required
    gate absent or failed, exit 1), SignerUnavailableError (exit 3).
    """
    from .hashing import HashingConfig

    root = Path(model)
    if not os.path.lexists(root):
        raise InputNotFoundError("model not found", where=str(root))
    bundle = read_bundle(signature)
    payload_type, payload = verifier.verify(bundle)
    statement = parse_payload(payload_type, payload)
    m = statement.manifest
    ignore = list(m.ignore_paths)
    sig_rel = relative_inside(Path(signature), root) if root.is_dir() else None
    if sig_rel:
        ignore.append(sig_rel)  # a signature cannot sign itself; upstream ignores it too
    tree = walk(root, ignore, follow_symlinks_inside=m.allow_symlinks)
    actual = hash_tree(
        root,
        tree,
        method=m.method,
        hash_type=m.hash_type,
        shard_size=m.shard_size or 1,
        allow_symlinks=m.allow_symlinks,
        ignore_paths=m.ignore_paths,
        workers=HashingConfig(workers=workers).worker_count(),
        progress=progress,
        canonical_order=False,
        # A kfp-gates signature carries the model digest it was signed with: once every file matches the signed
        # manifest, the bytes are the signed bytes, so that digest is theirs, and a second sha256 of every byte
        # (which halves verification speed in shard mode) is needed only for signatures without one.
        model_digest=statement.model_digest is None,
    )
    diffs = compare(statement, actual, tree)
    if diffs:
        raise ModelIntegrityError(diffs, where=str(root), model_digest=actual.model_digest)
    if actual.model_digest is None:
        actual = replace(actual, model_digest=statement.model_digest)
    elif statement.model_digest is not None and statement.model_digest != actual.model_digest:
        # The files match the signed manifest, so the signer's model digest must be this one: a
        # mismatch means the statement is inconsistent (or the digest scheme differs): refuse.
        raise SignatureError(
            f"the signed model digest sha256:{statement.model_digest} is not the digest of the verified "
            f"files (sha256:{actual.model_digest})",
            finding_id=BAD_STATEMENT,
            where=str(root),
        )
    assert actual.model_digest is not None
    check_gate_binding(
        statement, require_gates, gate_result_files, model_digest=actual.model_digest, model_name=m.model_name
    )
    return Verification(statement, actual, bundle)
