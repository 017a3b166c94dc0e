"""Reading an input file once, and only when it is a regular file.

A FIFO, socket or device named as an input would block ``open()`` or
``read()`` forever, or yield different bytes to each reader; a directory gives
a bare ``IsADirectoryError``. :func:`read_regular_file` opens non-blocking,
checks the descriptor it opened with ``fstat`` (so nothing can be swapped in
between the check and the read) and returns the bytes, so the caller digests
and parses the same bytes from one open.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError, InputNotFoundError


def read_regular_file(path: str | Path, what: str = "input file", *, directory_hint: str | None = None) -> bytes:
    """The bytes of ``path``, opened once.

    Raises :class:`InputNotFoundError` when it is missing or a directory, and
    :class:`ConfigError` when it is not a regular file or cannot be read (both
    exit 2), naming the path and the reason.
    """
    p = str(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputNotFoundError(f"{what} not found", where=p) from None
    except IsADirectoryError:
        raise InputNotFoundError(f"{what} is a directory, expected a file", where=p, hint=directory_hint) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", where=p) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputNotFoundError(f"{what} is a directory, expected a file", where=p, hint=directory_hint)
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{what} is not a regular file (a FIFO, socket or device); refusing to read it",
                              where=p, hint="pass a regular file (copy a stream to a file first)")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise ConfigError(f"cannot read {what}: {exc.strerror}", where=p) from None


@contextmanager
def parser_limits(what: str, where: str) -> Iterator[None]:
    """Turn a parser hitting an interpreter limit into a :class:`ConfigError` naming the file (exit 2).

    Deeply nested arrays or mappings exhaust the recursion limit of the JSON,
    TOML and YAML parsers (``RecursionError``); an integer literal longer than
    ``sys.get_int_max_str_digits()`` raises ``ValueError``. Both are hostile
    or broken input, not an internal error.
    """
    try:
        yield
    except RecursionError:
        raise ConfigError(f"{what} is nested too deeply to parse", where=where) from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc) and "int_max_str_digits" not in str(exc):
            raise
        raise ConfigError(f"{what} holds an integer literal too long to parse ({str(exc).split(';')[0]})",
                          where=where) from None
