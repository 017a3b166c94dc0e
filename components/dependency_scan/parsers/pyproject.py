"""``pyproject.toml``: PEP 621 ``[project]`` dependencies, PEP 735 ``[dependency-groups]`` and Poetry's tables.

Read: ``[project].dependencies``, ``[project.optional-dependencies]``,
``[dependency-groups]`` (``{include-group = ...}`` entries are the other
group's entries, already read), ``[tool.poetry.dependencies]`` (``python``
left out), ``[tool.poetry.group.<name>.dependencies]`` and the legacy
``[tool.poetry.dev-dependencies]``. Poetry constraints are turned into PEP 440
(``^1.2`` is ``>=1.2,<2.0``, ``~1.2.3`` is ``>=1.2.3,<1.3.0``, a bare
version is ``==``); a ``git``/``path``/``url`` entry is a VCS, path or URL
dependency, as in a requirements file.

A pyproject names what a project accepts, usually ranges; where the same scan
also reads a lock or a pinned requirements file, the engine judges the
package by that pin (see :func:`..engine.evaluate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.result import Location

from ..model import Dependency, Inventory
from ._common import load_toml, read_input
from .requirements import parse_requirement_strings

WHAT = "pyproject"


def _caret(version: str) -> str:
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")]
    while len(parts) < 3:
        parts.append(0)
    first = next((i for i, p in enumerate(parts) if p != 0), len(version.split(".")) - 1)
    upper = parts[: first + 1]
    upper[-1] += 1
    return f">={version},<{'.'.join(str(p) for p in upper)}"


def _tilde(version: str) -> str:
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")]
    upper = [parts[0] + 1] if len(parts) == 1 else [parts[0], parts[1] + 1]
    return f">={version},<{'.'.join(str(p) for p in upper)}"


def poetry_specifier(spec: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier ("" for any version)."""
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part or part == "*":
            continue
        if part.startswith("^"):
            out.append(_caret(part[1:].strip()))
        elif part.startswith("~") and not part.startswith("~="):
            out.append(_tilde(part[1:].strip()))
        elif part[0].isdigit():
            out.append(f"=={part}")
        else:
            out.append(part.replace(" ", ""))
    return ",".join(out)


def _poetry_requirement(name: str, spec: Any, where: str) -> str:
    if isinstance(spec, str):
        return name + poetry_specifier(spec)
    if isinstance(spec, list):  # multiple constraints by marker: the union is what may be installed
        raise ConfigError(f"{name}: multiple-constraint Poetry dependencies are not supported", where=where,
                          hint="write one constraint, or scan the poetry.lock instead")
    if not isinstance(spec, dict):
        raise ConfigError(f"{name}: a Poetry dependency must be a string or a table", where=where)
    extras = spec.get("extras") or []
    head = name + (f"[{','.join(str(e) for e in extras)}]" if extras else "")
    marker = spec.get("markers")
    tail = f"; {marker}" if isinstance(marker, str) and marker else ""
    if "git" in spec:
        ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
        return f"{head} @ git+{spec['git']}" + (f"@{ref}" if ref else "") + tail
    if "url" in spec:
        return f"{head} @ {spec['url']}{tail}"
    if "path" in spec:
        return f"{head} @ file:{spec['path']}{tail}"
    version = spec.get("version", "*")
    return head + poetry_specifier(str(version)) + tail


def parse_pyproject(path: str | Path) -> Inventory:
    """Dependencies declared in a ``pyproject.toml``. Raises ConfigError on invalid TOML or entries (exit 2)."""
    p = Path(path)
    text, record = read_input(p, "pyproject.toml")
    doc = load_toml(text, p, "pyproject.toml")
    deps: list[Dependency] = []

    def add(reqs: Any, field: str) -> None:
        if reqs is None:
            return
        if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs):
            raise ConfigError(f"{field} must be a list of requirement strings", where=str(p))
        deps.extend(parse_requirement_strings(list(reqs), Location(path=str(p), field=field), WHAT))

    project = doc.get("project") or {}
    if isinstance(project, dict):
        add(project.get("dependencies"), "project.dependencies")
        for extra, reqs in sorted((project.get("optional-dependencies") or {}).items()):
            add(reqs, f"project.optional-dependencies.{extra}")
    for group, entries in sorted((doc.get("dependency-groups") or {}).items()):
        add([e for e in entries if isinstance(e, str)] if isinstance(entries, list) else entries,
            f"dependency-groups.{group}")
    poetry = ((doc.get("tool") or {}).get("poetry")) or {}
    if isinstance(poetry, dict):
        tables = [("tool.poetry.dependencies", poetry.get("dependencies")),
                  ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))]
        tables += [(f"tool.poetry.group.{g}.dependencies", (body or {}).get("dependencies"))
                   for g, body in sorted((poetry.get("group") or {}).items()) if isinstance(body, dict)]
        for field, table in tables:
            if not table:
                continue
            if not isinstance(table, dict):
                raise ConfigError(f"{field} must be a table", where=str(p))
            reqs = [_poetry_requirement(name, spec, f"{p} ({field}.{name})")
                    for name, spec in table.items() if name.lower() != "python"]
            add(reqs, field)
    return Inventory(dependencies=tuple(deps), inputs=(record,))
