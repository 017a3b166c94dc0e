"""The compact snapshot format, and the PyPA snapshot embedded in the package.

A compact snapshot is gzip-compressed JSON: a header describing where the
data came from, and the records reduced to the fields matching needs (id,
aliases, related, dates, severity, PyPI ranges and canonical ``versions``
lists). Each reduced record is still a valid OSV record, so one parser
(:func:`~.osv.parse_record`) reads every source. The same format serves the
embedded default (``data/pypa-advisory-db.json.gz``), the on-disk cache of a
directory or zip source, and ``--advisories snapshot.json.gz``.

Regenerate the embedded file with ``python -m kfp_gates.sdk.tools.build_advisory_snapshot``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from ..model import Advisory
from .interface import AdvisorySet, AdvisorySource, AdvisorySourceError, SourceInfo, build_set
from .osv import parse_time

FORMAT = "kfp-gates/osv-compact/v1"
EMBEDDED_FILE = "pypa-advisory-db.json.gz"
EMBEDDED_LICENSE = "LICENSE-pypa-advisory-db.txt"
ATTRIBUTION = (
    "Python Packaging Advisory Database (https://github.com/pypa/advisory-database), "
    "CC-BY-4.0; reduced to the fields used for matching by kfp-gates"
)


def _iso(dt: Any) -> str | None:
    return dt.isoformat().replace("+00:00", "Z") if dt is not None else None


def record_to_json(adv: Advisory) -> dict[str, Any]:
    """An :class:`Advisory` as a minimal OSV record (empty fields omitted)."""
    rec: dict[str, Any] = {"id": adv.id}
    if adv.aliases:
        rec["aliases"] = list(adv.aliases)
    if adv.related:
        rec["related"] = list(adv.related)
    if adv.summary:
        rec["summary"] = adv.summary
    for key in ("modified", "published", "withdrawn"):
        value = _iso(getattr(adv, key))
        if value:
            rec[key] = value
    if adv.severity:
        rec["severity"] = [{"type": t, "score": s} for t, s in adv.severity]
    if adv.database_severity:
        rec["database_specific"] = {"severity": adv.database_severity}
    affected = []
    for a in adv.affected:
        entry: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": a.name}}
        if a.ranges:
            entry["ranges"] = [
                {"type": "ECOSYSTEM", "events": [{e.kind: e.version} for e in events]} for events in a.ranges
            ]
        if a.versions:
            entry["versions"] = list(a.versions)
        affected.append(entry)
    rec["affected"] = affected
    return rec


def dump(result: AdvisorySet, *, info: SourceInfo | None = None) -> bytes:
    """Serialise an :class:`AdvisorySet` (records sorted by package then id, so output is reproducible)."""
    info = info or result.info
    snapshot = info.snapshot or result.newest_modified()
    doc = {
        "format": FORMAT,
        "source": {
            "kind": info.kind,
            "location": info.location,
            "digest": info.digest,
            "snapshot": _iso(snapshot),
            "attribution": info.attribution,
        },
        "stats": {
            "malformed": result.malformed,
            "malformed_examples": list(result.malformed_examples),
            "notes": list(result.notes),
            "other_ecosystems": result.other_ecosystems,
        },
        "records": [
            record_to_json(a)
            for a in sorted(result.advisories, key=lambda a: (a.affected[0].name if a.affected else "", a.id))
        ],
    }
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def load_bytes(data: bytes, *, where: str, kind: str, digest: str | None, from_cache: bool = False) -> AdvisorySet:
    """Read a compact snapshot. Raises :class:`AdvisorySourceError` when it is not one.

    ``digest`` None keeps the digest recorded in the header (a cache entry
    describes the source it was built from, not itself).
    """
    try:
        doc = json.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError) as exc:
        raise AdvisorySourceError(f"not a compact advisory snapshot: {exc}", where=where) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("records"), list):
        raise AdvisorySourceError(f"not a compact advisory snapshot (format is not {FORMAT!r})", where=where)
    src = doc.get("source") or {}
    stats = doc.get("stats") or {}
    info = SourceInfo(
        kind=kind,
        location=where if kind != "embedded" else f"{where} ({src.get('location')})",
        digest=digest if digest is not None else str(src.get("digest") or ""),
        snapshot=parse_time(src.get("snapshot")),
        attribution=src.get("attribution"),
    )
    records = doc["records"]
    built = build_set(((str(r.get("id", i)) if isinstance(r, dict) else str(i), r) for i, r in enumerate(records)),
                      info, canonical_versions=True, from_cache=from_cache)
    return AdvisorySet(
        info=built.info,
        advisories=built.advisories,
        malformed=built.malformed + int(stats.get("malformed") or 0),
        malformed_examples=tuple(stats.get("malformed_examples") or ()) + built.malformed_examples,
        # Re-parsing finds the same unparseable versions the builder recorded: count each once.
        notes=tuple(dict.fromkeys(tuple(stats.get("notes") or ()) + built.notes)),
        other_ecosystems=built.other_ecosystems + int(stats.get("other_ecosystems") or 0),
        from_cache=from_cache,
    )


class CompactSource(AdvisorySource):
    """A compact snapshot file (``*.json.gz``) written by ``build_advisory_snapshot`` or the cache."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"compact snapshot {self.path}"

    def load(self) -> AdvisorySet:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise AdvisorySourceError("advisory snapshot not found", where=str(self.path)) from None
        except OSError as exc:
            raise AdvisorySourceError(f"cannot read advisory snapshot: {exc.strerror}", where=str(self.path)) from None
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        return load_bytes(data, where=str(self.path), kind="compact", digest=digest)


class EmbeddedSource(AdvisorySource):
    """The PyPA advisory-database snapshot shipped inside kfp-gates (CC-BY-4.0, see ``data/``)."""

    def describe(self) -> str:
        return "embedded PyPA advisory-database snapshot"

    def load(self) -> AdvisorySet:
        ref = resources.files("kfp_gates.components.dependency_scan") / "data" / EMBEDDED_FILE
        try:
            data = ref.read_bytes()
        except OSError as exc:
            raise AdvisorySourceError(
                f"the embedded advisory snapshot is missing from this installation: {exc}",
                where=str(ref),
                hint="reinstall kfp-gates, or pass --advisories DIR_OR_ZIP",
            ) from None
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        return load_bytes(data, where=f"embedded:{EMBEDDED_FILE}", kind="embedded", digest=digest)
