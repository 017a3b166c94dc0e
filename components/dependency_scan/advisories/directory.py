"""OSV advisories from a directory tree of ``*.yaml`` / ``*.yml`` / ``*.json`` files (the PyPA layout)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

from .interface import AdvisorySet, AdvisorySource, AdvisorySourceError, SourceInfo, build_set

SUFFIXES = (".yaml", ".yml", ".json")
# BaseLoader keeps every scalar as text: "1.10" stays "1.10" (not the float 1.1), and the unquoted
# timestamps some records carry stay strings that parse_time reads.
_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def advisory_files(root: Path) -> list[tuple[str, str, int, int]]:
    """(relative POSIX path, full path, size, mtime_ns) of every advisory file under ``root``, sorted.

    Hidden directories are skipped. Plain strings and ``os.scandir`` keep this
    cheap: it runs on every load, cached or not, to detect changes.
    """
    out: list[tuple[str, str, int, int]] = []
    stack = [("", str(root))]
    while stack:
        rel, path = stack.pop()
        with os.scandir(path) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                r = f"{rel}/{e.name}" if rel else e.name
                if e.is_dir(follow_symlinks=False):
                    stack.append((r, e.path))
                elif e.name.endswith(SUFFIXES) and e.is_file():
                    st = e.stat()
                    out.append((r, e.path, st.st_size, st.st_mtime_ns))
    out.sort()
    return out


def stat_fingerprint(files: list[tuple[str, str, int, int]]) -> str:
    """sha256 over (relative path, size, mtime) of each file: the cache key of a directory source."""
    h = hashlib.sha256()
    for rel, _, size, mtime in files:
        h.update(f"{rel}\0{size}\0{mtime}\n".encode())
    return h.hexdigest()


def load_text(name: str, data: bytes) -> Any:
    """One advisory file's content as a mapping (JSON or YAML by suffix). Exceptions are returned, not raised."""
    try:
        if name.endswith(".json"):
            return json.loads(data)
        return yaml.load(data, Loader=_LOADER)  # noqa: S506 - BaseLoader builds only str/list/dict
    except (ValueError, yaml.YAMLError) as exc:
        return ValueError(f"not valid {'JSON' if name.endswith('.json') else 'YAML'}: {str(exc).splitlines()[0]}")


class DirectorySource(AdvisorySource):
    """Advisories from a directory. ``cache_dir`` (optional) keeps a compact copy keyed by file metadata."""

    def __init__(self, root: str | os.PathLike[str], *, cache_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.cache_dir = cache_dir

    def describe(self) -> str:
        return f"directory {self.root}"

    def load(self) -> AdvisorySet:
        if not self.root.is_dir():
            raise AdvisorySourceError("advisory directory not found", where=str(self.root))
        files = advisory_files(self.root)
        if not files:
            raise AdvisorySourceError(
                "advisory directory holds no .yaml/.yml/.json files",
                where=str(self.root),
                hint="use the `vulns/` tree of the PyPA advisory database or an unpacked OSV export",
            )
        key = stat_fingerprint(files)
        if self.cache_dir is not None:
            from .cache import read_cache

            cached = read_cache(self.cache_dir, "directory", self.root, key)
            if cached is not None:
                return cached
        content = hashlib.sha256()
        items: list[tuple[str, Any]] = []
        for rel, full, _, _ in files:
            try:
                with open(full, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                items.append((rel, exc))
                continue
            content.update(hashlib.sha256(data).digest() + rel.encode() + b"\n")
            items.append((rel, load_text(rel, data)))
        info = SourceInfo(kind="directory", location=str(self.root), digest="sha256:" + content.hexdigest())
        result = build_set(items, info)
        if self.cache_dir is not None:
            from .cache import write_cache

            write_cache(self.cache_dir, "directory", self.root, key, result)
        return result

