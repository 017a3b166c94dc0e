"""Values the dependency gate passes between its parts.

Every value is a frozen dataclass: parsers produce :class:`Dependency`,
:class:`IndexRef`, :class:`ImageRef` and :class:`SourceFinding` values
collected in an :class:`Inventory`; advisory sources produce
:class:`Advisory` values; the matcher turns both into :class:`Match` values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kfp_gates.components.common.result import Location

_NORMALIZE = re.compile(r"[-_.]+")

DependencyKind = Literal["pinned", "range", "locked", "installed", "url", "vcs", "path", "unknown"]


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name: lower case, runs of ``-``, ``_``, ``.`` become ``-``."""
    return _NORMALIZE.sub("-", name).lower().strip()


@dataclass(frozen=True)
class Dependency:
    """One Python distribution an input says will be installed (or is installed).

    ``version`` is set only when the input fixes it exactly (``==``, a lock
    entry, an installed dist-info). ``specifier`` keeps a range as written.
    ``reason`` says why the dependency cannot be checked when neither a
    version nor a specifier is known (a VCS reference, a local path, ...).
    """

    name: str  # as written
    location: Location
    origin: str  # "requirements" | "pyproject" | "pylock" | "uv.lock" | "poetry.lock" | "site-packages" | "pipeline"
    kind: DependencyKind
    version: str | None = None
    specifier: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None  # credentials removed
    hashes: tuple[str, ...] = ()
    hash_checkable: bool = True  # False for installed dist-info (hashes do not apply)
    constraint: bool = False  # from a -c constraints file
    reason: str | None = None

    @property
    def key(self) -> str:
        return normalize_name(self.name) if self.name else ""


@dataclass(frozen=True)
class IndexRef:
    """A package index an input installs from. ``kind`` is how it was named."""

    url: str  # credentials removed
    kind: Literal["index-url", "extra-index-url", "find-links", "trusted-host", "no-index", "lock-source"]
    location: Location
    implicit: bool = False  # the default index, because the input named none


@dataclass(frozen=True)
class ImageRef:
    """A container image a pipeline task runs in."""

    image: str
    location: Location


@dataclass(frozen=True)
class SourceFinding:
    """A supply-chain weakness found in source code (Hugging Face loads, remote code)."""

    rule: str
    message: str
    location: Location
    data: dict[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class InputFile:
    """A file the scan read, with its digest (part of the result subject)."""

    path: str
    kind: str
    sha256: str


@dataclass(frozen=True)
class SkippedFile:
    """A file or folder a directory scan did not read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Inventory:
    """Everything the parsers found in the inputs, and what a directory walk left out."""

    dependencies: tuple[Dependency, ...] = ()
    indexes: tuple[IndexRef, ...] = ()
    images: tuple[ImageRef, ...] = ()
    source_findings: tuple[SourceFinding, ...] = ()
    inputs: tuple[InputFile, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()

    def __add__(self, other: Inventory) -> Inventory:
        return Inventory(
            self.dependencies + other.dependencies,
            self.indexes + other.indexes,
            self.images + other.images,
            self.source_findings + other.source_findings,
            self.inputs + other.inputs,
            self.skipped + other.skipped,
        )


# ----- advisories ------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One OSV range event. ``kind`` is introduced | fixed | last_affected | limit."""

    kind: str
    version: str


@dataclass(frozen=True)
class AffectedPackage:
    """One ``affected[]`` entry of an OSV record, PyPI only, ECOSYSTEM ranges only (GIT ranges dropped)."""

    name: str  # normalised
    ranges: tuple[tuple[Event, ...], ...] = ()
    versions: tuple[str, ...] = ()  # canonical PEP 440 form where valid, as written otherwise


@dataclass(frozen=True)
class Advisory:
    """The parts of an OSV record the gate uses."""

    id: str
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    modified: datetime | None = None
    published: datetime | None = None
    withdrawn: datetime | None = None
    severity: tuple[tuple[str, str], ...] = ()  # (type, score) e.g. ("CVSS_V3", "CVSS:3.1/...")
    database_severity: str | None = None  # database_specific.severity (GHSA style)
    affected: tuple[AffectedPackage, ...] = ()

    @property
    def url(self) -> str:
        return f"https://osv.dev/vulnerability/{self.id}"


@dataclass(frozen=True)
class Match:
    """An advisory that applies to a dependency's version, with the fixes that would clear it."""

    advisory: Advisory
    fixed: tuple[str, ...]  # fixed versions above the installed one, lowest first
    via: Literal["range", "versions", "both"]
