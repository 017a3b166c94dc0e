"""An installed environment: the ``*.dist-info`` (and legacy ``*.egg-info``) entries of a site-packages directory."""

from __future__ import annotations

import hashlib
from email.parser import HeaderParser
from pathlib import Path

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.files import read_regular_file
from kfp_gates.components.common.result import Location

from ..model import Dependency, InputFile, Inventory

WHAT = "site-packages"


def _metadata_file(entry: Path) -> Path:
    if entry.suffix == ".dist-info":
        return entry / "METADATA"
    return entry / "PKG-INFO" if entry.is_dir() else entry


def parse_site_packages(path: str | Path) -> Inventory:
    """Every installed distribution under ``path``.

    A distribution whose metadata is missing or has no Name/Version is still
    listed, as a dependency that cannot be checked. A directory with no
    distribution at all raises :class:`ConfigError` (exit 2): an empty
    environment would otherwise pass.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputNotFoundError("site-packages directory not found", where=str(root))
    entries = sorted(e for e in root.iterdir() if e.name.endswith((".dist-info", ".egg-info")))
    if not entries:
        raise ConfigError(
            "no *.dist-info or *.egg-info entries: not a site-packages directory",
            where=str(root),
            hint="pass the directory printed by `python -c 'import site; print(site.getsitepackages())'`",
        )
    deps: list[Dependency] = []
    inputs: list[InputFile] = []
    for entry in entries:
        meta = _metadata_file(entry)
        loc = Location(path=str(meta))
        fallback = entry.name.removesuffix(".dist-info").removesuffix(".egg-info").split("-")[0]
        try:
            data = read_regular_file(meta, "installed metadata")  # a FIFO named METADATA must not hang the scan
        except (OSError, ConfigError):
            deps.append(Dependency(name=fallback, location=Location(path=str(entry)), origin=WHAT, kind="unknown",
                                   hash_checkable=False, reason="installed distribution without readable metadata"))
            continue
        inputs.append(InputFile(path=str(meta), kind="dist-info", sha256=hashlib.sha256(data).hexdigest()))
        headers = HeaderParser().parsestr(data.decode("utf-8", "replace"))
        name, version = headers.get("Name"), headers.get("Version")
        if not name or not version:
            deps.append(Dependency(name=name or fallback, location=loc, origin=WHAT, kind="unknown",
                                   hash_checkable=False, reason="installed metadata has no Name or Version"))
            continue
        deps.append(Dependency(name=name.strip(), location=loc, origin=WHAT, kind="installed",
                               version=version.strip(), hash_checkable=False))
    return Inventory(dependencies=tuple(deps), inputs=tuple(inputs))
