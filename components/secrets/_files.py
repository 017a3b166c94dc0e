"""Reading credential files and writing secret files safely."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

log = logging.getLogger("kfp_gates.secrets")

MAX_CREDENTIAL_BYTES = 64 * 1024  # a JWT or a secret id is a few KiB; anything larger is the wrong file
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")


# A credential travels in an HTTP header (hvac sends the token as X-Vault-Token) or a JSON
# body: a line break or another control character inside it is never part of a real one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_credential(value: str, what: str, where: str) -> str:
    """``value`` unchanged if it holds no control character; else :class:`ConfigError` (exit 2) naming ``where``.

    requests refuses a header value with CR/LF (``InvalidHeader``), which the
    client would otherwise retry as a network failure and report as exit 3.
    The message gives the position, never the value.
    """
    m = _CONTROL.search(value)
    if m:
        kind = {"\r": "a carriage return", "\n": "a line break"}.get(m.group(), f"control character {m.group()!r}")
        raise ConfigError(
            f"{what} holds {kind} inside the credential (character {m.start() + 1})",
            where=where,
            hint="the file must hold only the credential, on one line (one trailing newline is fine)",
        )
    return value


def read_credential(path: str | os.PathLike[str], what: str) -> str:
    """The stripped content of a credential file, registered with the redactor.

    Raises :class:`InputNotFoundError` when the file is missing or unreadable
    and :class:`ConfigError` when it is empty, too large, or holds a line break
    or another control character inside the credential (surrounding whitespace,
    such as the trailing newline of ``echo``, is stripped). A file that other
    users can read is accepted (Kubernetes projects SA tokens 0644) but logged.
    """
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputNotFoundError(f"{what} is not a regular file", where=str(p))
        if st.st_size > MAX_CREDENTIAL_BYTES:
            raise ConfigError(
                f"{what} is larger than {MAX_CREDENTIAL_BYTES} bytes",
                where=str(p),
                hint="point at the file that holds only the credential",
            )
        with p.open(encoding="utf-8", newline="") as fh:  # newline="": a CR stays a CR
            data = fh.read().strip()
    except FileNotFoundError:
        raise InputNotFoundError(f"{what} not found", where=str(p)) from None
    except PermissionError:
        raise InputNotFoundError(f"{what}: permission denied", where=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} is not UTF-8 text", where=str(p)) from None
    if not data:
        raise ConfigError(f"{what} is empty", where=str(p))
    redact.register_secret(data)
    check_credential(data, what, str(p))
    if st.st_mode & stat.S_IROTH:
        log.warning("%s %s is readable by other users; prefer mode 0600/0640", what, p)
    return data


def check_field_name(name: str) -> str:
    """``name`` if it is safe as a file name (no path separators, no leading dot); else ConfigError."""
    if not _FIELD_NAME.match(name) or name in {".", ".."}:
        raise ConfigError(
            f"secret field name {name!r} cannot be used as a file name",
            where=name,
            hint="field names may contain letters, digits, '_', '-', '.' and must not start with '.'",
        )
    return name


def prepare_dir(directory: str | os.PathLike[str]) -> Path:
    """Create ``directory`` with mode 0700 if needed; refuse a symlink or a group/world-writable directory."""
    d = Path(directory)
    if d.is_symlink():
        raise ConfigError("refusing to write secrets through a symlinked directory", where=str(d))
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = d.stat()
    except OSError as exc:
        raise ConfigError(f"cannot create the secrets directory: {exc.strerror}", where=str(d)) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigError("not a directory", where=str(d))
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            "the secrets directory is writable by other users",
            where=str(d),
            hint="use a private directory (mode 0700), e.g. an emptyDir with medium: Memory",
        )
    return d


def write_private(path: Path, content: str) -> None:
    """Create ``path`` with mode 0600 and write ``content``; never follows or replaces an existing file.

    ``O_EXCL | O_NOFOLLOW`` make a pre-planted file or symlink an error instead
    of a redirect of the secret to somewhere else.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError(
            "refusing to overwrite an existing file", where=str(path), hint="deliver secrets into an empty directory"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot create secret file: {exc.strerror}", where=str(path)) from None
    try:
        os.fchmod(fd, 0o600)  # the umask may have removed bits, never added: make the mode exact
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
