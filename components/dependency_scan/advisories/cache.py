"""An on-disk cache of parsed directory / zip sources, in the compact format.

Parsing 2,600 YAML files takes about a second; reading the cached compact
copy takes a fraction of that. The cache is JSON, never pickle, so a cache
file planted by someone else cannot execute code; it is still trusted data,
so it is read only from a directory owned by the current user and not
writable by group or others (otherwise it is ignored and the source is parsed
again). Any cache problem is silent and falls back to parsing: the cache can
make a scan faster, never different.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from pathlib import Path

from .interface import AdvisorySet, AdvisorySourceError

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``<base>/advisories``: base is ``$KFP_GATES_CACHE_DIR``, else ``$XDG_CACHE_HOME/kfp-gates``,
    else ``~/.cache/kfp-gates``."""
    base = os.environ.get("KFP_GATES_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "kfp-gates")
    return Path(base) / "advisories"


def _safe(path: Path) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _entry(cache_dir: Path, kind: str, location: Path, key: str) -> Path:
    name = hashlib.sha256(f"{kind}\0{location.resolve()}\0{key}".encode()).hexdigest()
    return cache_dir / f"{name}.json.gz"


def read_cache(cache_dir: Path, kind: str, location: Path, key: str) -> AdvisorySet | None:
    """The cached set for this source state, or None (missing, unsafe, or unreadable cache)."""
    from .compact import load_bytes

    entry = _entry(cache_dir, kind, location, key)
    if not entry.exists():
        return None
    if not (_safe(cache_dir) and _safe(entry)):
        log.warning("ignoring advisory cache %s: not owned by this user or writable by others", entry)
        return None
    try:
        data = entry.read_bytes()
        return load_bytes(data, where=str(location), kind=kind, digest=None, from_cache=True)
    except (OSError, AdvisorySourceError):
        return None


def write_cache(cache_dir: Path, kind: str, location: Path, key: str, result: AdvisorySet) -> None:
    """Store ``result``; failures are logged and ignored."""
    from .compact import dump

    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _safe(cache_dir):
            return
        entry = _entry(cache_dir, kind, location, key)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(dump(result))
        os.replace(tmp, entry)
    except OSError as exc:
        log.debug("advisory cache not written: %s", exc)
