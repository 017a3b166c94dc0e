"""The advisory-source extension point: one small ABC, one module per implementation.

A source turns some storage (a directory of OSV files, an OSV ``all.zip``, the
compact snapshot shipped in the package) into an :class:`AdvisorySet`. It
never returns an empty set: a source that yields zero usable records, or that
cannot be read at all, raises :class:`AdvisorySourceError` (exit 2), because
"no advisories" would otherwise read as "no vulnerabilities".
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kfp_gates.components.common.errors import ConfigError

from ..model import Advisory
from .osv import MalformedRecord, parse_record

MAX_LISTED_PROBLEMS = 20  # how many malformed-record names a result lists (the count is always exact)


class AdvisorySourceError(ConfigError):
    """The advisory data cannot be used (unreadable, unparseable, or empty): exit 2, never a pass."""


@dataclass(frozen=True)
class SourceInfo:
    """Where advisory data came from, for the result's metadata and the audit trail."""

    kind: str  # "embedded" | "directory" | "zip" | "compact"
    location: str
    digest: str  # "sha256:<hex>" of the content
    snapshot: datetime | None = None  # the data's own date: declared, else the newest ``modified``
    attribution: str | None = None


@dataclass(frozen=True)
class AdvisorySet:
    """Parsed advisories of one source, with an exact account of what was skipped and why."""

    info: SourceInfo
    advisories: tuple[Advisory, ...]
    malformed: int = 0
    malformed_examples: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # unparseable versions inside otherwise usable records
    other_ecosystems: int = 0  # records with no PyPI entry (an OSV all.zip may mix ecosystems)
    from_cache: bool = False

    @property
    def withdrawn(self) -> int:
        return sum(1 for a in self.advisories if a.withdrawn is not None)

    @property
    def active(self) -> int:
        return len(self.advisories) - self.withdrawn

    def newest_modified(self) -> datetime | None:
        dates = [a.modified for a in self.advisories if a.modified is not None]
        return max(dates) if dates else None

    def describe(self) -> dict[str, Any]:
        """The JSON-ready account recorded in every result as ``metadata.advisory_source``."""
        snapshot = self.info.snapshot or self.newest_modified()
        return {
            "kind": self.info.kind,
            "location": self.info.location,
            "digest": self.info.digest,
            "snapshot": snapshot.isoformat() if snapshot else None,
            "records": len(self.advisories),
            "active": self.active,
            "withdrawn_skipped": self.withdrawn,
            "malformed_skipped": self.malformed,
            "malformed_examples": list(self.malformed_examples),
            "unparseable_versions": len(self.notes),
            "other_ecosystems_skipped": self.other_ecosystems,
            "from_cache": self.from_cache,
            "attribution": self.info.attribution,
        }


def build_set(
    items: Iterable[tuple[str, Any]],
    info: SourceInfo,
    *,
    canonical_versions: bool = False,
    from_cache: bool = False,
) -> AdvisorySet:
    """Parse ``(name, record-or-exception)`` pairs into an :class:`AdvisorySet`.

    A pair whose second element is an exception (the file did not load) or a
    record that fails :func:`parse_record` is counted as malformed and
    skipped. Raises :class:`AdvisorySourceError` when nothing usable remains.
    """
    advisories: list[Advisory] = []
    notes: list[str] = []
    examples: list[str] = []
    malformed = other = 0
    for name, record in items:
        if isinstance(record, BaseException):
            malformed += 1
            if len(examples) < MAX_LISTED_PROBLEMS:
                examples.append(f"{name}: {record}")
            continue
        try:
            adv, rec_notes = parse_record(record, canonical_versions=canonical_versions)
        except MalformedRecord as exc:
            malformed += 1
            if len(examples) < MAX_LISTED_PROBLEMS:
                examples.append(f"{name}: {exc}")
            continue
        if not adv.affected and adv.withdrawn is None:
            other += 1
            continue
        advisories.append(adv)
        notes.extend(rec_notes)
    if not any(a.withdrawn is None for a in advisories):
        detail = f" ({malformed} malformed)" if malformed else ""
        raise AdvisorySourceError(
            f"advisory source has no usable PyPI advisories{detail}; refusing to report 'no vulnerabilities'",
            where=info.location,
            hint="point --advisories at an OSV directory or all.zip of the PyPI ecosystem "
            "(or omit it to use the embedded PyPA snapshot)",
        )
    return AdvisorySet(
        info=info,
        advisories=tuple(advisories),
        malformed=malformed,
        malformed_examples=tuple(examples),
        notes=tuple(notes),
        other_ecosystems=other,
        from_cache=from_cache,
    )


class AdvisorySource(abc.ABC):
    """Somewhere OSV advisories can be read from."""

    @abc.abstractmethod
    def load(self) -> AdvisorySet:
        """Read and parse every record. Raises :class:`AdvisorySourceError` (exit 2) on unusable data."""

    @abc.abstractmethod
    def describe(self) -> str:
        """A short human label (kind and location)."""
