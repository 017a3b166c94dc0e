"""``uv.lock`` lock files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kfp_gates.components.common.result import Location

from ..model import Dependency, DependencyKind, IndexRef, Inventory
from ._common import LineFinder, load_toml, lock_error, read_input, strip_credentials

WHAT = "uv.lock"


def _hashes(pkg: dict[str, Any]) -> tuple[str, ...]:
    blobs = [pkg.get("sdist"), *(pkg.get("wheels") or [])]
    return tuple(b["hash"] for b in blobs if isinstance(b, dict) and isinstance(b.get("hash"), str))


def parse_uv_lock(path: str | Path) -> Inventory:
    """Parse a uv lock file. The project's own editable/virtual entries are not dependencies and are skipped."""
    p = Path(path)
    text, record = read_input(p, WHAT)
    doc = load_toml(text, p, WHAT)
    packages = doc.get("package")
    if "version" not in doc or not isinstance(packages, list):
        raise lock_error(p, WHAT, "no version key or [[package]] array: not a uv lock file")
    lines = LineFinder(text)
    deps: list[Dependency] = []
    indexes: list[IndexRef] = []
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise lock_error(p, WHAT, f"package[{i}] has no name")
        name = pkg["name"]
        loc = Location(path=str(p), line=lines.take(name), field=f"package[{i}]")
        raw_source = pkg.get("source")
        source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
        version = pkg.get("version") if isinstance(pkg.get("version"), str) else None
        if "editable" in source or "virtual" in source:
            continue  # the project itself or a workspace member: first-party code
        hashes = _hashes(pkg)
        if "registry" in source:
            indexes.append(IndexRef(url=strip_credentials(str(source["registry"])), kind="lock-source", location=loc))
        if "git" in source:
            url = str(source["git"])
            commit = url.rsplit("#", 1)[1] if "#" in url else None
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="vcs", version=version,
                                   url=strip_credentials(url.split("#")[0]), hashes=hashes,
                                   hash_checkable=False,
                                   reason=None if version and commit else "git source without a resolved commit"))
            continue
        if "path" in source or "directory" in source:
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="path", version=version,
                                   hashes=hashes, hash_checkable="path" in source,
                                   reason=None if version else "local source without a version"))
            continue
        if version is None:
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="unknown", hashes=hashes,
                                   reason="lock entry has no version"))
            continue
        kind: DependencyKind = "url" if "url" in source else "locked"
        deps.append(Dependency(name=name, location=loc, origin=WHAT, kind=kind, version=version, hashes=hashes,
                               url=strip_credentials(str(source["url"])) if "url" in source else None))
    return Inventory(dependencies=tuple(deps), indexes=tuple(indexes), inputs=(record,))
