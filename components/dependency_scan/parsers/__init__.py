"""One parser per input kind; :func:`parse_path` picks the parser from the file name.

requirements files (``*requirements*.txt``, ``*constraints*.txt``, ``*.in``,
any ``.txt`` under a ``requirements*/`` folder), ``pyproject.toml``,
``pylock.toml`` / ``pylock.*.toml``, ``uv.lock``, ``poetry.lock``, Python
sources (``*.py``), compiled pipelines (``*.yaml`` / ``*.yml`` holding a
``deploymentSpec``), and directories (walked for all of these). What a walk
leaves out (virtual environment, VCS and cache folders, hidden folders, YAML
that is not a pipeline, dependency files in formats not read, non-regular
files, anything else) is returned in :attr:`Inventory.skipped` with the reason.
Installed environments are named explicitly (:func:`parse_site_packages`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

from ..model import Inventory, SkippedFile
from ._common import decode_input, read_regular_file
from .pipeline import parse_pipeline_file, parse_pipeline_text
from .poetry_lock import parse_poetry_lock
from .pylock import parse_pylock
from .pyproject import parse_pyproject
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
    "parse_pyproject",
    "parse_python",
    "parse_requirements",
    "parse_site_packages",
    "parse_uv_lock",
]

_SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages",
              ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist"}


def detect(path: Path) -> str | None:
    """The input kind of a file from its name (and folder), or None when it is not one the gate reads.

    ``*.yaml`` / ``*.yml`` are "yaml": a compiled pipeline when the text holds a ``deploymentSpec``.
    """
    name = path.name
    if name == "uv.lock":
        return "uv.lock"
    if name == "poetry.lock":
        return "poetry.lock"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    if name == "pyproject.toml":
        return "pyproject"
    if name.endswith(".py"):
        return "python"
    if name.endswith((".txt", ".in")) and (
        "requirements" in name or "constraints" in name or name.endswith(".in")
        or path.parent.name.startswith(("requirements", "constraints"))  # requirements/base.txt
    ):
        return "requirements"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return None


# Files that declare dependencies in a format this gate does not read: say so instead of passing over them.
_UNREAD_DEPENDENCY_FILES = {
    "setup.cfg": "setup.cfg install_requires is not read; declare dependencies in pyproject.toml or a "
                 "requirements file",
    "Pipfile": "Pipfile is not read; scan a requirements file exported from it",
    "Pipfile.lock": "Pipfile.lock is not read; scan a requirements file exported from it",
    "pdm.lock": "pdm.lock is not read; export pylock.toml or requirements",
}


def _walk(root: Path) -> tuple[list[tuple[Path, str]], list[SkippedFile]]:
    found: list[tuple[Path, str]] = []
    skipped: list[SkippedFile] = []
    for dirpath, dirnames, filenames in os.walk(root):
        kept = []
        for d in sorted(dirnames):
            if d in _SKIP_DIRS:
                skipped.append(SkippedFile(str(Path(dirpath) / d), "virtual environment, VCS, build or cache folder"))
            elif d.startswith("."):
                skipped.append(SkippedFile(str(Path(dirpath) / d), "hidden folder"))
            else:
                kept.append(d)
        dirnames[:] = kept
        for f in sorted(filenames):
            path = Path(dirpath) / f
            kind = detect(path)
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError as exc:
                skipped.append(SkippedFile(str(path), f"cannot be read: {exc.strerror}"))
                continue
            if kind is not None and not regular:
                skipped.append(SkippedFile(str(path), "not a regular file (a FIFO, socket or device)"))
            elif kind is not None:
                found.append((path, kind))
            elif f in _UNREAD_DEPENDENCY_FILES:
                skipped.append(SkippedFile(str(path), _UNREAD_DEPENDENCY_FILES[f]))
            else:
                skipped.append(SkippedFile(str(path), "not a dependency input (requirements, pyproject, lock, "
                                                      "Python source or compiled pipeline)"))
    return found, skipped


def _parse_yaml(path: Path) -> Inventory:
    """A YAML file found in a directory: a compiled pipeline when it holds a ``deploymentSpec``, else skipped.

    The file is read once: the text that is sniffed is the text parsed and digested.
    """
    data = read_regular_file(path, "pipeline file")
    if b"deploymentSpec" not in data:
        return Inventory(skipped=(SkippedFile(str(path), "YAML without a deploymentSpec: not a compiled pipeline"),))
    text, record = decode_input(data, path, "pipeline file")
    return parse_pipeline_text(text, record, path)


_PARSERS: dict[str, Callable[[Path], Inventory]] = {
    "requirements": parse_requirements,
    "pyproject": parse_pyproject,
    "yaml": _parse_yaml,
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
        files, skipped = _walk(p)
        inv = Inventory(skipped=tuple(skipped))
        for f, kind in files:
            inv = inv + _PARSERS[kind](f)
        if not inv.inputs:
            raise ConfigError(
                "no requirements, pyproject, lock, compiled pipeline or Python files found",
                where=str(p),
                hint="name the files explicitly, or use --env for a site-packages directory",
            )
        # The skips that concern dependency files first: they are the ones a reader must see.
        generic = [s for s in inv.skipped if s.reason.startswith(("not a dependency input", "hidden folder"))]
        specific = [s for s in inv.skipped if s not in generic]
        return replace(inv, skipped=tuple(specific + generic))
    if not p.exists():
        raise InputNotFoundError("input not found", where=str(p))
    kind = detect(p) or "requirements"
    return _PARSERS["pipeline" if kind == "yaml" else kind](p)
