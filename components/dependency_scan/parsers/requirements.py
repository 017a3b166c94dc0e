"""pip requirements files: pins, ranges, extras, markers, includes, hashes, URLs, VCS and index options.

What pip would install is recorded as :class:`Dependency` values; the index
options as :class:`IndexRef` values. A line pip would reject (a malformed
requirement, an unknown option) raises :class:`ConfigError` naming the file
and line (exit 2). ``-r``/``-c`` includes are followed relative to the
including file; a remote include is refused (the gate runs offline).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.result import Location

from ..model import Dependency, IndexRef, InputFile, Inventory
from ._common import (
    DEFAULT_INDEX,
    egg_name,
    is_vcs,
    name_version_from_filename,
    read_input,
    strip_credentials,
    vcs_commit,
)

_COMMENT = re.compile(r"(^|\s+)#.*$")
# option -> (takes a value, canonical name)
_LINE_OPTIONS: dict[str, tuple[bool, str]] = {
    "-r": (True, "requirement"), "--requirement": (True, "requirement"),
    "-c": (True, "constraint"), "--constraint": (True, "constraint"),
    "-e": (True, "editable"), "--editable": (True, "editable"),
    "-i": (True, "index-url"), "--index-url": (True, "index-url"),
    "--extra-index-url": (True, "extra-index-url"),
    "-f": (True, "find-links"), "--find-links": (True, "find-links"),
    "--trusted-host": (True, "trusted-host"),
    "--no-index": (False, "no-index"),
    "--pre": (False, "pre"), "--prefer-binary": (False, "prefer-binary"),
    "--require-hashes": (False, "require-hashes"),
    "--only-binary": (True, "only-binary"), "--no-binary": (True, "no-binary"),
    "--use-feature": (True, "use-feature"),
}
_REQ_OPTIONS = {"--hash": True, "--config-settings": True, "-C": True, "--global-option": True}
_URLISH = ("http://", "https://", "file:", "ftp://")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each logical line: comments removed, ``\\`` continuations joined."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw)
        if not buf:
            start = n
        if line.endswith("\\"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        joined = " ".join(p.strip() for p in buf).strip()
        buf = []
        if joined:
            out.append((start, joined))
    if buf:
        joined = " ".join(p.strip() for p in buf).strip()
        if joined:
            out.append((start, joined))
    return out


def _split(line: str, where: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise ConfigError(f"cannot split requirement line: {exc}", where=where) from None


def _option(tokens: list[str], i: int, where: str) -> tuple[str, str | None, int]:
    """(canonical option, value, next index) for the option at ``tokens[i]``."""
    tok = tokens[i]
    name, eq, inline = tok.partition("=")
    if name not in _LINE_OPTIONS and len(tok) > 2 and tok[:2] in ("-r", "-c", "-e", "-i", "-f"):
        name, inline, eq = tok[:2], tok[2:], "="  # -rfile.txt
    spec = _LINE_OPTIONS.get(name)
    if spec is None:
        raise ConfigError(
            f"unknown or unsupported pip option {name!r}",
            where=where,
            hint="kfp-gates reads the options pip documents for requirements files; remove or fix this one",
        )
    takes_value, canon = spec
    if not takes_value:
        if eq:
            raise ConfigError(f"option {name} takes no value", where=where)
        return canon, None, i + 1
    if eq:
        return canon, inline, i + 1
    if i + 1 >= len(tokens):
        raise ConfigError(f"option {name} needs a value", where=where)
    return canon, tokens[i + 1], i + 2


def _url_dependency(text: str, loc: Location, *, name: str | None, editable: bool, hashes: tuple[str, ...],
                    marker: str | None, constraint: bool, origin: str = "requirements") -> Dependency:
    """A requirement given as a URL, VCS reference or local path."""
    url = strip_credentials(text)
    name = name or egg_name(text)
    if is_vcs(text):
        commit = vcs_commit(text)
        why = (
            f"VCS reference pinned to commit {commit[:12]}: advisories are matched by release version"
            if commit
            else "VCS reference without a pinned commit: the installed code can change at any time"
        )
        return Dependency(name=name or "", location=loc, origin=origin, kind="vcs", url=url,
                          hashes=hashes, marker=marker, constraint=constraint, reason=why)
    from_file = name_version_from_filename(text)
    local = not text.startswith(_URLISH) or text.startswith("file:")
    if from_file and not editable:
        fname, fversion = from_file
        return Dependency(name=name or fname, location=loc, origin=origin, kind="path" if local else "url",
                          version=fversion, url=url, hashes=hashes, marker=marker, constraint=constraint)
    why = "local path or editable project: no released version to check" if local else (
        "direct URL without a versioned file name: the version cannot be determined offline")
    return Dependency(name=name or "", location=loc, origin=origin, kind="path" if local else "url",
                      url=url, hashes=hashes, marker=marker, constraint=constraint, reason=why)


def _requirement(text: str, loc: Location, where: str, hashes: tuple[str, ...], constraint: bool,
                 origin: str = "requirements") -> Dependency:
    def as_url() -> Dependency:
        body, _, marker = text.partition(";")
        return _url_dependency(body.strip(), loc, name=None, editable=False, hashes=hashes,
                               marker=marker.strip() or None, constraint=constraint, origin=origin)

    if text.startswith(_URLISH) or is_vcs(text) or text.startswith((".", "/", "~")):
        return as_url()
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        if "/" in text.split(";")[0] and " " not in text.split(";")[0].strip():
            return as_url()  # a relative path such as wheels/pkg-1.0-py3-none-any.whl
        raise ConfigError(
            f"malformed requirement {text!r}: {str(exc).splitlines()[0]}",
            where=where,
            hint="write it as PEP 508, e.g. 'name[extra]==1.2.3; python_version >= \"3.10\"'",
        ) from None
    marker = str(req.marker) if req.marker else None
    if req.url:
        return _url_dependency(req.url, loc, name=req.name, editable=False, hashes=hashes, marker=marker,
                               constraint=constraint, origin=origin)
    specs = list(req.specifier)
    version = None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        version = specs[0].version
    return Dependency(
        name=req.name, location=loc, origin=origin, kind="pinned" if version else "range",
        version=version, specifier=str(req.specifier), extras=tuple(sorted(req.extras)), marker=marker,
        hashes=hashes, constraint=constraint,
    )


class _Parser:
    def __init__(self) -> None:
        self.deps: list[Dependency] = []
        self.indexes: list[IndexRef] = []
        self.inputs: list[InputFile] = []
        self.seen: set[Path] = set()
        self.names_index = False

    def parse(self, path: Path, *, constraint: bool, via: str | None) -> None:
        real = path.resolve()
        if real in self.seen:
            return  # an include cycle or a file included twice: its lines are already recorded
        self.seen.add(real)
        text, record = read_input(path, "requirements file" if not via else f"file included from {via}")
        self.inputs.append(record)
        for lineno, line in _logical_lines(text):
            where = f"{path}:{lineno}"
            loc = Location(path=str(path), line=lineno)
            if line.startswith("-"):
                self._options(path, _split(line, where), where, loc, constraint)
                continue
            # The requirement runs until the first word starting with "-" (pip's own split), so the quotes
            # of a marker survive; only the options part is shell-split.
            words = line.split(" ")
            cut = next((i for i, t in enumerate(words) if t.startswith("-") and i > 0), len(words))
            req_text = " ".join(words[:cut]).strip()
            hashes = self._requirement_options(_split(" ".join(words[cut:]), where), where)
            self.deps.append(_requirement(req_text, loc, where, hashes, constraint))

    def _requirement_options(self, tokens: list[str], where: str) -> tuple[str, ...]:
        hashes: list[str] = []
        i = 0
        while i < len(tokens):
            name, eq, value = tokens[i].partition("=")
            if name not in _REQ_OPTIONS:
                raise ConfigError(f"option {name!r} is not allowed after a requirement", where=where)
            if not eq:
                if i + 1 >= len(tokens):
                    raise ConfigError(f"option {name} needs a value", where=where)
                value = tokens[i + 1]
                i += 1
            if name == "--hash":
                alg, sep, digest = value.partition(":")
                if not sep or not digest or alg not in ("sha256", "sha384", "sha512"):
                    raise ConfigError(f"malformed --hash {value!r}; expected sha256:<hex>", where=where)
                hashes.append(value)
            i += 1
        return tuple(hashes)

    def _options(self, path: Path, tokens: list[str], where: str, loc: Location, constraint: bool) -> None:
        i = 0
        while i < len(tokens):
            if not tokens[i].startswith("-"):
                raise ConfigError(f"unexpected text {tokens[i]!r} after an option", where=where)
            opt, value, i = _option(tokens, i, where)
            if opt in ("requirement", "constraint"):
                assert value is not None
                if value.startswith(_URLISH):
                    raise ConfigError(
                        f"remote include {strip_credentials(value)!r} cannot be read offline",
                        where=where,
                        hint="download the file and include it by path",
                    )
                self.parse(path.parent / value, constraint=constraint or opt == "constraint", via=where)
            elif opt == "editable":
                assert value is not None
                name = egg_name(value)
                self.deps.append(_url_dependency(value, loc, name=name, editable=True, hashes=(), marker=None,
                                                 constraint=constraint))
            elif opt in ("index-url", "extra-index-url", "find-links", "trusted-host"):
                assert value is not None
                if opt == "index-url":
                    self.names_index = True
                self.indexes.append(IndexRef(url=strip_credentials(value), kind=opt, location=loc))  # type: ignore[arg-type]
            elif opt == "no-index":
                self.names_index = True
                self.indexes.append(IndexRef(url="", kind="no-index", location=loc))


def _apply_constraints(deps: list[Dependency]) -> list[Dependency]:
    """A range requirement pinned by a constraint (``-c``) is checked at the constrained version."""
    pins = {d.key: d for d in deps if d.constraint and d.version}
    out = []
    for d in deps:
        pin = pins.get(d.key)
        if not d.constraint and d.kind == "range" and pin is not None and pin.version is not None:
            d = replace(d, kind="pinned", version=pin.version,
                        reason=f"pinned to {pin.version} by constraint {pin.location}")
        out.append(d)
    return out


def parse_requirements(path: str | Path) -> Inventory:
    """Parse a requirements file and everything it includes. Raises ConfigError / InputNotFoundError (exit 2)."""
    p = _Parser()
    top = Path(path)
    p.parse(top, constraint=False, via=None)
    indexes = list(p.indexes)
    if not p.names_index:
        indexes.append(IndexRef(url=DEFAULT_INDEX, kind="index-url", location=Location(path=str(top)), implicit=True))
    return Inventory(dependencies=tuple(_apply_constraints(p.deps)), indexes=tuple(indexes), inputs=tuple(p.inputs))


def parse_requirement_strings(reqs: list[str], location: Location, origin: str) -> list[Dependency]:
    """Requirement strings from elsewhere (a pipeline's ``pip install`` arguments), parsed like file lines."""
    return [_requirement(r.strip(), location, str(location), (), False, origin) for r in reqs]
