"""The signed statement: upstream's in-toto payload plus kfp-gates' gate binding.

The payload is the in-toto Statement v1 that OpenSSF ``model_signing`` 1.x
signs (predicate type ``https://model_signing/signature/v1.0``): one subject
whose sha256 is taken over every resource digest, and a predicate with
``serialization`` and ``resources``. Upstream verifiers ignore any other
predicate field, so kfp-gates adds one, ``kfp_gates``, carrying the digests and
verdicts of the gate results this model passed and the list of empty files
(which the shards method has no resource for). Because it is inside the signed
payload, "this model passed these gates" is one signed claim.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError, UnsafeInputError
from kfp_gates.components.common.result import GateResult

from .errors import BAD_STATEMENT, SignatureError
from .hashing import Manifest, Resource, normalize_ignore_path

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BINDING_VERSION = "kfp-gates.dev/model-signing/v1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class BoundGateResult:
    """A gate result carried, by digest, in the signed statement."""

    gate: str
    decision: str
    sha256: str  # of the result file's bytes
    name: str  # file name it was read from (informative)
    subject_name: str
    subject_sha256: str
    tool: str
    finished_at: str

    @property
    def passed(self) -> bool:
        return self.decision in ("pass", "warn")

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "decision": self.decision,
            "digest": {"sha256": self.sha256},
            "name": self.name,
            "subject": {"name": self.subject_name, "digest": {"sha256": self.subject_sha256}},
            "tool": self.tool,
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BoundGateResult:
        sha = str(d["digest"]["sha256"])
        if not _HEX64.match(sha):
            raise ValueError("gate result digest is not a sha256")
        return cls(
            gate=str(d["gate"]),
            decision=str(d["decision"]),
            sha256=sha,
            name=str(d.get("name", "")),
            subject_name=str(d.get("subject", {}).get("name", "")),
            subject_sha256=str(d.get("subject", {}).get("digest", {}).get("sha256", "")),
            tool=str(d.get("tool", "")),
            finished_at=str(d.get("finished_at", "")),
        )


def load_gate_result(path: str | Path) -> tuple[GateResult, BoundGateResult]:
    """Read a GateResult JSON file (or its in-toto statement form) and its binding.

    Raises InputNotFoundError (missing file, exit 2) and UnsafeInputError
    (not a gate result, exit 1).
    """
    from kfp_gates.components.common.evidence import from_statement

    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputNotFoundError("gate result file not found", where=str(p)) from None
    except IsADirectoryError:
        raise InputNotFoundError("expected a gate result JSON file, found a directory", where=str(p)) from None
    try:
        data = json.loads(raw)
        result = from_statement(data) if isinstance(data, dict) and "_type" in data else GateResult.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise UnsafeInputError(
            f"not a kfp-gates gate result: {str(exc).splitlines()[0]}",
            where=str(p),
            hint="pass the result JSON a kfp-gates gate wrote (--format json, or the component's result artifact)",
        ) from None
    bound = BoundGateResult(
        gate=result.gate,
        decision=result.decision.value,
        sha256=hashlib.sha256(raw).hexdigest(),
        name=p.name,
        subject_name=result.subject.name,
        subject_sha256=result.subject.sha256 or "",
        tool=f"{result.tool.name} {result.tool.version}",
        finished_at=result.finished_at.isoformat(),
    )
    return result, bound


@dataclass(frozen=True)
class SignedStatement:
    """A verified payload, read back: the manifest that was signed and the gate results bound to it."""

    manifest: Manifest
    gate_results: tuple[BoundGateResult, ...]
    has_binding: bool  # False for statements signed by upstream tools
    subject_sha256: str
    model_digest: str | None = None  # the kfp-gates model digest the signer computed (None: upstream signature)


def build_payload(manifest: Manifest, gate_results: tuple[BoundGateResult, ...] = (), *, signer: str = "") -> bytes:
    """The in-toto statement to sign, as JSON bytes (the DSSE payload)."""
    name = manifest.resource_name
    algorithm = manifest.algorithm
    resources = [{"name": name(r), "algorithm": algorithm, "digest": r.digest} for r in manifest.resources]
    binding: dict[str, Any] = {"version": BINDING_VERSION, "gate_results": [g.to_dict() for g in gate_results]}
    if manifest.model_digest:
        # The digest every kfp-gates result names this model by: bound results must be about exactly it.
        binding["model_digest"] = {"sha256": manifest.model_digest}
    if manifest.method == "shards":
        binding["empty_files"] = list(manifest.empty_files)
    if signer:
        binding["signer"] = signer
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": manifest.serialization(), "resources": resources, "kfp_gates": binding},
    }
    return json.dumps(statement, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _bad(message: str) -> SignatureError:
    return SignatureError(
        f"signed statement is not a model-signing v1.0 statement: {message}",
        finding_id=BAD_STATEMENT,
        hint="sign the model with kfp-gates sign-model or model_signing >= 1.0",
    )


def parse_payload(payload_type: str, payload: bytes) -> SignedStatement:
    """Read a verified DSSE payload back into a manifest. Raises SignatureError on any inconsistency.

    Call this only on a payload whose signature was verified: it checks
    structure and internal consistency (the subject digest over the
    resources), not authenticity.
    """
    if payload_type != PAYLOAD_TYPE:
        raise _bad(f"payload type {payload_type!r}, expected {PAYLOAD_TYPE!r}")
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        raise _bad("payload is not JSON") from None
    if not isinstance(data, dict) or data.get("_type") != STATEMENT_TYPE:
        raise _bad("not an in-toto Statement v1")
    if data.get("predicateType") != PREDICATE_TYPE:
        raise _bad(f"predicate type {data.get('predicateType')!r} (pre-1.0 signatures are not accepted)")
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, UnsafeInputError, ConfigError) as exc:
        raise _bad(str(exc) or type(exc).__name__) from None


def _parse(data: dict[str, Any]) -> SignedStatement:
    subjects = data["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise ValueError("expected exactly one subject")
    subject_sha = str(subjects[0]["digest"]["sha256"])
    predicate = data["predicate"]
    ser = predicate["serialization"]
    method = ser["method"]
    if method not in ("files", "shards"):
        raise ValueError(f"unknown serialization method {method!r}")
    hash_type = str(ser["hash_type"])
    if hash_type not in ("sha256", "blake2", "blake2b"):
        raise ValueError(f"unsupported hash type {hash_type!r}")
    shard_size = int(ser["shard_size"]) if method == "shards" else None
    if shard_size is not None and shard_size <= 0:
        raise ValueError("shard_size must be positive")
    allow_symlinks = ser.get("allow_symlinks", False)
    if not isinstance(allow_symlinks, bool):
        raise ValueError("allow_symlinks must be a boolean")
    ignore = tuple(sorted({p for p in (normalize_ignore_path(str(x)) for x in ser.get("ignore_paths", [])) if p}))
    resources: list[Resource] = []
    seen: set[tuple[str, int, int]] = set()
    root = hashlib.sha256()
    for item in predicate["resources"]:
        name, digest = str(item["name"]), str(item["digest"])
        if method == "shards":
            path, start_s, end_s = name.rsplit(":", 2)
            start, end = int(start_s), int(end_s)
            if not 0 <= start < end or end - start > (shard_size or 0):
                raise ValueError(f"invalid shard {name!r}")
        else:
            path, start, end = name, 0, 0
        key = (path, start, end)
        if key in seen:
            raise ValueError(f"resource {name!r} listed twice")
        seen.add(key)
        root.update(bytes.fromhex(digest))  # ValueError (not hex) fails the statement
        resources.append(Resource(path, start, end, digest))
    if root.hexdigest() != subject_sha:
        raise ValueError("subject digest does not match the resources (the manifest is inconsistent)")
    binding = predicate.get("kfp_gates")
    bound: tuple[BoundGateResult, ...] = ()
    empty: tuple[str, ...] = ()
    model_sha: str | None = None
    if binding is not None:
        if not isinstance(binding, dict) or binding.get("version") != BINDING_VERSION:
            raise ValueError("unknown kfp_gates binding version")
        bound = tuple(BoundGateResult.from_dict(g) for g in binding.get("gate_results", []))
        empty = tuple(str(p) for p in binding.get("empty_files", []))
        if "model_digest" in binding:
            model_sha = str(binding["model_digest"]["sha256"])
            if not _HEX64.match(model_sha):
                raise ValueError("kfp_gates model_digest is not a sha256")
    manifest = Manifest(
        model_name=str(subjects[0].get("name", "")),
        method=method,
        hash_type=hash_type,
        allow_symlinks=allow_symlinks,
        ignore_paths=ignore,
        resources=tuple(resources),
        shard_size=shard_size,
        empty_files=empty,
    )
    return SignedStatement(manifest, bound, binding is not None, subject_sha, model_sha)
