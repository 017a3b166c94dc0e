"""``poetry.lock`` lock files (lock-version 1.x and 2.x)."""

from __future__ import annotations

from pathlib import Path

from kfp_gates.components.common.result import Location

from ..model import Dependency, IndexRef, Inventory
from ._common import DEFAULT_INDEX, LineFinder, load_toml, lock_error, read_input, strip_credentials, vcs_commit

WHAT = "poetry.lock"


def parse_poetry_lock(path: str | Path) -> Inventory:
    """Parse a Poetry lock file. Packages without a ``[package.source]`` come from PyPI."""
    p = Path(path)
    text, record = read_input(p, WHAT)
    doc = load_toml(text, p, WHAT)
    packages = doc.get("package")
    if not isinstance(packages, list) or not isinstance(doc.get("metadata"), dict):
        raise lock_error(p, WHAT, "no [[package]] array or [metadata] table: not a Poetry lock file")
    legacy_files = doc["metadata"].get("files") if isinstance(doc["metadata"].get("files"), dict) else {}
    lines = LineFinder(text)
    deps: list[Dependency] = []
    indexes: list[IndexRef] = []
    default_index_used = False
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise lock_error(p, WHAT, f"package[{i}] has no name")
        name = pkg["name"]
        loc = Location(path=str(p), line=lines.take(name), field=f"package[{i}]")
        version = pkg.get("version") if isinstance(pkg.get("version"), str) else None
        files = pkg.get("files") or legacy_files.get(name) or []
        hashes = tuple(f["hash"] for f in files if isinstance(f, dict) and isinstance(f.get("hash"), str))
        source = pkg.get("source") if isinstance(pkg.get("source"), dict) else None
        if source is None:
            default_index_used = True
        stype = (source or {}).get("type")
        surl = str((source or {}).get("url") or "")
        if stype == "legacy":
            indexes.append(IndexRef(url=strip_credentials(surl), kind="lock-source", location=loc))
        if stype == "git":
            commit = (source or {}).get("resolved_reference")
            pinned = isinstance(commit, str) and vcs_commit(f"git+x@{commit}") is not None
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="vcs", version=version,
                                   url=strip_credentials(surl), hash_checkable=False,
                                   reason=None if version and pinned else "git source without a resolved commit"))
            continue
        if stype in ("directory", "file"):
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="path", version=version,
                                   hashes=hashes, hash_checkable=stype == "file",
                                   reason=None if version else "local source without a version"))
            continue
        if version is None:
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="unknown", hashes=hashes,
                                   reason="lock entry has no version"))
            continue
        deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="url" if stype == "url" else "locked",
                               version=version, hashes=hashes, url=strip_credentials(surl) if surl else None))
    if default_index_used:
        indexes.append(IndexRef(url=DEFAULT_INDEX, kind="lock-source", location=Location(path=str(p)), implicit=True))
    return Inventory(dependencies=tuple(deps), indexes=tuple(indexes), inputs=(record,))
