"""Advisory sources: where OSV records come from.

:func:`open_source` picks the implementation for a path the user gave:
a directory (:class:`DirectorySource`), an OSV zip (:class:`ZipSource`), a
compact snapshot (:class:`CompactSource`), or nothing, which means the PyPA
snapshot embedded in the package (:class:`EmbeddedSource`).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from .archive import ZipSource
from .compact import CompactSource, EmbeddedSource
from .directory import DirectorySource
from .interface import AdvisorySet, AdvisorySource, AdvisorySourceError, SourceInfo

__all__ = [
    "AdvisorySet",
    "AdvisorySource",
    "AdvisorySourceError",
    "CompactSource",
    "DirectorySource",
    "EmbeddedSource",
    "SourceInfo",
    "ZipSource",
    "open_source",
]


def open_source(spec: str | os.PathLike[str] | None, *, cache_dir: Path | None = None) -> AdvisorySource:
    """The source for ``spec`` (None: the embedded snapshot). Raises :class:`AdvisorySourceError` (exit 2)."""
    if spec is None or str(spec) == "":
        return EmbeddedSource()
    path = Path(spec)
    if path.is_dir():
        return DirectorySource(path, cache_dir=cache_dir)
    if not path.exists():
        raise AdvisorySourceError(
            "advisory source not found",
            where=str(path),
            hint="pass an OSV directory, an OSV all.zip or a compact *.json.gz snapshot",
        )
    if not path.is_file():
        raise AdvisorySourceError(
            "advisory source is not a regular file (a FIFO, socket or device); refusing to read it",
            where=str(path),
            hint="pass an OSV directory, an OSV all.zip or a compact *.json.gz snapshot",
        )
    if path.name.endswith(".gz"):
        return CompactSource(path)
    if zipfile.is_zipfile(path):
        return ZipSource(path, cache_dir=cache_dir)
    raise AdvisorySourceError(
        "advisory source is neither a directory, a zip archive nor a compact .json.gz snapshot",
        where=str(path),
    )
