"""OSV advisories from a zip archive, such as the ``PyPI/all.zip`` export of osv.dev."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

from .directory import SUFFIXES, load_text
from .interface import AdvisorySet, AdvisorySource, AdvisorySourceError, SourceInfo, build_set

# Limits against a hostile or corrupt archive: no single advisory is near 8 MiB, and a PyPI export
# holds tens of thousands of records, not millions.
MAX_MEMBER_BYTES = 8 << 20
MAX_MEMBERS = 500_000


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


class ZipSource(AdvisorySource):
    """Advisories from the ``*.json`` / ``*.yaml`` members of a zip file."""

    def __init__(self, path: str | os.PathLike[str], *, cache_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.cache_dir = cache_dir

    def describe(self) -> str:
        return f"zip {self.path}"

    def load(self) -> AdvisorySet:
        try:
            digest = _sha256(self.path)
        except FileNotFoundError:
            raise AdvisorySourceError("advisory archive not found", where=str(self.path)) from None
        except OSError as exc:
            raise AdvisorySourceError(f"cannot read advisory archive: {exc.strerror}", where=str(self.path)) from None
        if self.cache_dir is not None:
            from .cache import read_cache

            cached = read_cache(self.cache_dir, "zip", self.path, digest)
            if cached is not None:
                return cached
        items: list[tuple[str, Any]] = []
        try:
            with zipfile.ZipFile(self.path) as zf:
                members = [m for m in zf.infolist() if not m.is_dir() and m.filename.endswith(SUFFIXES)]
                if len(members) > MAX_MEMBERS:
                    raise AdvisorySourceError(
                        f"advisory archive has {len(members)} members (limit {MAX_MEMBERS})", where=str(self.path)
                    )
                for m in members:
                    if m.file_size > MAX_MEMBER_BYTES:
                        items.append((m.filename, ValueError(f"member larger than {MAX_MEMBER_BYTES} bytes")))
                        continue
                    with zf.open(m) as fh:
                        data = fh.read(MAX_MEMBER_BYTES + 1)
                    if len(data) > MAX_MEMBER_BYTES:  # the header lied about the size
                        items.append((m.filename, ValueError(f"member larger than {MAX_MEMBER_BYTES} bytes")))
                        continue
                    items.append((m.filename, load_text(m.filename, data)))
        except zipfile.BadZipFile as exc:
            raise AdvisorySourceError(f"not a valid zip archive: {exc}", where=str(self.path)) from None
        except (OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise AdvisorySourceError(f"cannot read advisory archive: {exc}", where=str(self.path)) from None
        info = SourceInfo(kind="zip", location=str(self.path), digest="sha256:" + digest)
        result = build_set(items, info)
        if self.cache_dir is not None:
            from .cache import write_cache

            write_cache(self.cache_dir, "zip", self.path, digest, result)
        return result
