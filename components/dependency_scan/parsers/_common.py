"""Helpers every parser uses: reading input files fail-closed, URL credential removal, file names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.files import parser_limits, read_regular_file

from ..model import InputFile

DEFAULT_INDEX = "https://pypi.org/simple"
_VCS = ("git+", "hg+", "svn+", "bzr+")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


def read_input(path: Path, what: str) -> tuple[str, InputFile]:
    """The text of an input file and its :class:`InputFile` record.

    Raises :class:`InputNotFoundError` when missing, :class:`ConfigError` when
    unreadable or not UTF-8 (exit 2: an input that cannot be read is never
    treated as empty).
    """
    return decode_input(read_regular_file(path, what), path, what)


def decode_input(data: bytes, path: Path, what: str) -> tuple[str, InputFile]:
    """:func:`read_input` on bytes already read. Raises :class:`ConfigError` when not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text (byte {exc.start})", where=str(path)) from None
    return text, InputFile(path=str(path), kind=what, sha256=hashlib.sha256(data).hexdigest())


def strip_credentials(url: str) -> str:
    """``url`` without user:password (index URLs often carry tokens); unparseable text is returned masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def is_vcs(url: str) -> bool:
    return url.startswith(_VCS)


def vcs_commit(url: str) -> str | None:
    """The ``@<ref>`` of a VCS URL when it is a full 40-hex commit id."""
    path = urlsplit(url.split("+", 1)[1] if "+" in url else url).path
    if "@" in path:
        ref = path.rsplit("@", 1)[1]
        return ref if _HEX40.match(ref) else None
    return None


def name_version_from_filename(url: str) -> tuple[str, str] | None:
    """(name, version) from a wheel or sdist file name at the end of a URL or path, if it is one."""
    base = urlsplit(url).path.rsplit("/", 1)[-1]
    try:
        if base.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(base)
            return str(name), str(version)
        if base.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(base)
            return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def egg_name(url: str) -> str | None:
    """The ``#egg=name`` fragment of a pip URL requirement."""
    frag = urlsplit(url).fragment
    for part in frag.split("&"):
        if part.startswith("egg="):
            return part[4:].split("[")[0] or None
    return None


def load_toml(text: str, path: Path, what: str) -> dict:
    """Parse TOML; a syntax error is a :class:`ConfigError` naming the line (exit 2)."""
    import tomllib

    try:
        with parser_limits(what, str(path)):
            return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise ConfigError(f"{what} is not valid TOML: {str(exc).split(' (at line')[0]}", where=where) from None


class LineFinder:
    """Line numbers of ``name = "<pkg>"`` entries in a lock file, in order (TOML parsers give none)."""

    def __init__(self, text: str) -> None:
        self._lines: dict[str, list[int]] = {}
        pat = re.compile(r'^\s*name\s*=\s*["\']([^"\']+)["\']', re.M)
        for m in pat.finditer(text):
            self._lines.setdefault(m.group(1), []).append(text.count("\n", 0, m.start()) + 1)

    def take(self, name: str) -> int | None:
        lines = self._lines.get(name)
        return lines.pop(0) if lines else None


def lock_error(path: Path, what: str, problem: str) -> ConfigError:
    return ConfigError(f"{what}: {problem}", where=str(path), hint=f"regenerate the {what} with its tool")
