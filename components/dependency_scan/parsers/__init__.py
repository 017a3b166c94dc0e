"""One parser per input kind; :func:`parse_path` picks the parser from the file name.

requirements files (``*.txt``, ``*.in``), ``pylock.toml`` / ``pylock.*.toml``,
``uv.lock``, ``poetry.lock``, Python sources (``*.py``), compiled pipelines
(``*.yaml`` / ``*.yml`` holding a ``deploymentSpec``), and directories (walked
for all of these; virtual environments, VCS and cache folders skipped).
Installed environments are named explicitly (:func:`parse_site_packages`).
"""

from __future__ import annotations

import os
from pathlib import Path

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

from ..model import Inventory
from .pipeline import parse_pipeline_file
from .poetry_lock import parse_poetry_lock
from .pylock import parse_pylock
from .python_source import parse_python
from .requirements import parse_requirements
from .site_packages import parse_site_packages
from .uv_lock import parse_uv_lock

__all__ = [
    "detect",
    "parse_path",
    "parse_pipeline_file",
    "parse_poetry_lock",
    "parse_pylock",
    "parse_python",
    "parse_requirements",
    "parse_site_packages",
    "parse_uv_lock",
]

_SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages",
              ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist"}


def detect(path: Path) -> str | None:
    """The input kind of a file from its name, or None when it is not one the gate reads."""
    name = path.name
    if name == "uv.lock":
        return "uv.lock"
    if name == "poetry.lock":
        return "poetry.lock"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    if name.endswith(".py"):
        return "python"
    if name.endswith((".txt", ".in")) and ("requirements" in name or "constraints" in name or name.endswith(".in")):
        return "requirements"
    return None


def _walk(root: Path) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for f in sorted(filenames):
            kind = detect(Path(dirpath) / f)
            if kind is not None:
                found.append((Path(dirpath) / f, kind))
    return found


_PARSERS = {
    "requirements": parse_requirements,
    "pylock": parse_pylock,
    "uv.lock": parse_uv_lock,
    "poetry.lock": parse_poetry_lock,
    "python": parse_python,
    "pipeline": parse_pipeline_file,
}


def parse_path(path: str | Path) -> Inventory:
    """Parse a file or every recognised file under a directory.

    A file given by name is always read: by its name when recognised, as a
    pipeline when it is YAML, else as a requirements file. Raises
    InputNotFoundError / ConfigError (exit 2); an empty directory is an error.
    """
    p = Path(path)
    if p.is_dir():
        files = _walk(p)
        if not files:
            raise ConfigError(
                "no requirements, lock, pipeline or Python files found",
                where=str(p),
                hint="name the files explicitly, or use --env for a site-packages directory",
            )
        inv = Inventory()
        for f, kind in files:
            inv = inv + _PARSERS[kind](f)
        return inv
    if not p.exists():
        raise InputNotFoundError("input not found", where=str(p))
    kind = detect(p) or ("pipeline" if p.suffix in (".yaml", ".yml") else "requirements")
    return _PARSERS[kind](p)
