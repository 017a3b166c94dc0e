"""Moving a step's files in and out of an isolated pod without giving it any credential.

Inputs: the launcher packs them into a gzip tar that travels as a ConfigMap
(``binaryData``); an init container of the pod (``inbox``) unpacks it into an
``emptyDir`` that the step mounts read-only. Outputs: after the step finished,
the pod's last container (``outbox``) packs the output ``emptyDir`` and writes it
to its log, base64 between two marker lines with the archive's sha256; the
launcher reads that log through the API server, checks the digest and unpacks.
Both ends use the same code from this module:

    python -m kfp_gates.components.isolation.staging unpack ARCHIVE DEST
    python -m kfp_gates.components.isolation.staging pack SRC        # to stdout

Unpacking is strict: regular files and directories only (no links, devices or
FIFOs), no absolute paths, no ``..``, no member that escapes the destination,
bounded total size and member count. Anything else is refused, not skipped.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import sys
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from kfp_gates.components.common.errors import ConfigError, UnsafeInputError

BEGIN = "KFPG-OUTPUTS-BEGIN"
END = "KFPG-OUTPUTS-END"
MAX_MEMBERS = 100_000
MAX_BYTES = 8 << 30
_LINE = 76


def pack(paths: Iterable[Path], *, names: Iterable[str] | None = None) -> bytes:
    """A reproducible gzip tar of ``paths`` (files or directories), each stored under its name.

    Symlinks are not followed and not stored: only regular files and directories
    travel. Raises :class:`ConfigError` when a path does not exist.
    """
    paths = list(paths)
    arcnames = list(names) if names is not None else [p.name for p in paths]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, compresslevel=6) as tar:
        for path, arc in zip(paths, arcnames, strict=True):
            if not path.exists():
                raise ConfigError("input not found", where=str(path))
            for full, rel in _walk(path, arc):
                info = tar.gettarinfo(str(full), arcname=rel)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0
                if info.isfile():
                    with open(full, "rb") as fh:
                        tar.addfile(info, fh)
                elif info.isdir():
                    tar.addfile(info)
    return buf.getvalue()


def _walk(path: Path, arc: str) -> Iterator[tuple[Path, str]]:
    if path.is_symlink():
        return
    yield path, arc
    if path.is_dir():
        for child in sorted(path.iterdir()):
            yield from _walk(child, f"{arc}/{child.name}")


def unpack(data: bytes, dest: Path, *, max_bytes: int = MAX_BYTES, max_members: int = MAX_MEMBERS) -> list[str]:
    """Extract a gzip tar made by :func:`pack` into ``dest``; returns the member names.

    Raises :class:`UnsafeInputError` for any member that is not a plain file or
    directory, that would land outside ``dest``, or when limits are exceeded.
    """
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    names: list[str] = []
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for n, member in enumerate(tar):
                if n >= max_members:
                    raise UnsafeInputError(f"archive has more than {max_members} members")
                rel = PurePosixPath(member.name)
                if rel.is_absolute() or ".." in rel.parts or not member.name or member.name.startswith("/"):
                    raise UnsafeInputError(f"archive member escapes the destination: {member.name!r}")
                if not (member.isfile() or member.isdir()):
                    raise UnsafeInputError(f"archive member is not a plain file or directory: {member.name!r}")
                target = (root / rel).resolve()
                if target != root and root not in target.parents:
                    raise UnsafeInputError(f"archive member escapes the destination: {member.name!r}")
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    total += member.size
                    if total > max_bytes:
                        raise UnsafeInputError(f"archive unpacks to more than {max_bytes} bytes")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    src = tar.extractfile(member)
                    assert src is not None
                    with open(target, "wb") as out:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
                    os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
                names.append(member.name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UnsafeInputError(f"not a valid gzip tar archive: {exc}") from None
    return names


def encode_for_log(archive: bytes) -> Iterator[str]:
    """Lines the outbox prints: a header with the sha256 and size, base64 lines, an end marker."""
    yield f"{BEGIN} sha256={hashlib.sha256(archive).hexdigest()} bytes={len(archive)}"
    text = base64.b64encode(archive).decode()
    for i in range(0, len(text), _LINE):
        yield text[i : i + _LINE]
    yield END


def decode_from_log(log: str) -> bytes:
    """The archive carried in an outbox log; raises :class:`UnsafeInputError` if absent, cut or altered."""
    lines = log.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(BEGIN + " "))
        end = next(i for i in range(start + 1, len(lines)) if lines[i] == END)
    except StopIteration:
        raise UnsafeInputError("the step's outputs are missing or cut short in the outbox log") from None
    fields = dict(f.split("=", 1) for f in lines[start].split()[1:] if "=" in f)
    try:
        data = base64.b64decode("".join(lines[start + 1 : end]), validate=True)
    except ValueError:
        raise UnsafeInputError("the outbox log does not carry valid base64") from None
    if hashlib.sha256(data).hexdigest() != fields.get("sha256") or str(len(data)) != fields.get("bytes"):
        raise UnsafeInputError("the outputs' digest does not match the outbox header (log cut or altered)")
    return data


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "unpack":
        unpack(Path(argv[1]).read_bytes(), Path(argv[2]))
        return 0
    if len(argv) == 2 and argv[0] == "pack":
        src = Path(argv[1])
        archive = pack(sorted(src.iterdir()) if src.is_dir() else [])
        for line in encode_for_log(archive):
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return 0
    sys.stderr.write("usage: staging unpack ARCHIVE DEST | staging pack DIR\n")
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
