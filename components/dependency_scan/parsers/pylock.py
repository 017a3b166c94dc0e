"""``pylock.toml`` (PEP 751) lock files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kfp_gates.components.common.result import Location

from ..model import Dependency, DependencyKind, IndexRef, Inventory
from ._common import LineFinder, load_toml, lock_error, read_input, strip_credentials

WHAT = "pylock.toml"


def _hashes(pkg: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    blobs = [pkg.get("sdist"), pkg.get("archive"), *(pkg.get("wheels") or [])]
    for blob in blobs:
        if isinstance(blob, dict) and isinstance(blob.get("hashes"), dict):
            out.extend(f"{alg}:{digest}" for alg, digest in sorted(blob["hashes"].items()))
    return tuple(out)


def parse_pylock(path: str | Path) -> Inventory:
    """Parse a PEP 751 lock file. Raises ConfigError (exit 2) when it is not one."""
    p = Path(path)
    text, record = read_input(p, WHAT)
    doc = load_toml(text, p, WHAT)
    if "lock-version" not in doc:
        raise lock_error(p, WHAT, "no lock-version key: not a PEP 751 lock file")
    packages = doc.get("packages")
    if not isinstance(packages, list):
        raise lock_error(p, WHAT, "no [[packages]] array")
    lines = LineFinder(text)
    deps: list[Dependency] = []
    indexes: list[IndexRef] = []
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            raise lock_error(p, WHAT, f"packages[{i}] has no name")
        name = pkg["name"]
        loc = Location(path=str(p), line=lines.take(name), field=f"packages[{i}]")
        version = pkg.get("version")
        marker = pkg.get("marker")
        hashes = _hashes(pkg)
        if isinstance(pkg.get("index"), str):
            indexes.append(IndexRef(url=strip_credentials(pkg["index"]), kind="lock-source", location=loc))
        vcs = pkg.get("vcs")
        if isinstance(vcs, dict):
            commit = vcs.get("commit-id")
            url = strip_credentials(str(vcs.get("url") or vcs.get("path") or ""))
            reason = None
            if not commit:
                reason = "VCS source without a commit-id"
            elif not version:
                reason = f"VCS source at commit {str(commit)[:12]} without a version"
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="vcs", version=version, url=url,
                                   marker=marker, hashes=hashes, reason=reason))
            continue
        if isinstance(pkg.get("directory"), dict):
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="path", version=version,
                                   marker=marker, hash_checkable=False,
                                   reason=None if version else "local directory without a version"))
            continue
        if not isinstance(version, str):
            deps.append(Dependency(name=name, location=loc, origin=WHAT, kind="unknown", marker=marker,
                                   hashes=hashes, reason="lock entry has no version"))
            continue
        kind: DependencyKind = "url" if isinstance(pkg.get("archive"), dict) else "locked"
        deps.append(Dependency(name=name, location=loc, origin=WHAT, kind=kind, version=version, marker=marker,
                               hashes=hashes))
    return Inventory(dependencies=tuple(deps), indexes=tuple(indexes), inputs=(record,))



