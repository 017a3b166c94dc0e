"""Digests of files, directories and models: the one subject identity every gate uses.

A file's digest is the sha256 of its bytes (what ``sha256sum`` prints),
whatever path it was named by.

A directory digest is the sha256 of a manifest: one line per entry,
``<kind> <sha256> <relative path>\n``, sorted by the entry's POSIX relative
path (bytewise UTF-8), so the same tree gives the same digest on every
machine. Symlinks are never followed out of the root: a link whose target
resolves to a regular file inside the root is hashed as that file (kind
``file``), any other link is recorded by the sha256 of its target text
(kind ``symlink``) and not read. Empty directories, fifos, sockets and
devices carry no bytes and are not listed.

A *model* digest is the file digest of a one-file model and, for a directory,
the directory digest without the top-level version-control metadata
(:data:`MODEL_DIGEST_EXCLUDES`, which model signing ignores by default too). Model scan,
model signing, verification and the evidence all compute this same value,
each from the bytes it reads for its own work (:func:`manifest_digest`), so a
result about one model can be checked against another model's digest.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import InputNotFoundError

_BUF = 1 << 20  # 1 MiB reads: large enough to stay near hashlib's throughput


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, streamed (never read whole). Raises InputNotFoundError."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        raise InputNotFoundError("file not found", where=str(path)) from None
    except IsADirectoryError:
        raise InputNotFoundError("expected a file, found a directory", where=str(path)) from None
    except PermissionError:
        raise InputNotFoundError("permission denied", where=str(path)) from None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # POSIX, relative to the root
    kind: str  # "file" | "symlink"
    sha256: str  # of the content (file) or of the link target text (symlink)

    def line(self) -> str:
        return f"{self.kind} {self.sha256} {self.path}\n"


def _inside(root: Path, target: Path) -> bool:
    try:
        target.relative_to(root)
    except ValueError:
        return False
    return True


def directory_manifest(root: str | os.PathLike[str]) -> list[ManifestEntry]:
    """Every regular file under ``root`` (recursively) with its digest, in stable order."""
    base = Path(root)
    if not base.is_dir():
        raise InputNotFoundError("directory not found", where=str(root))
    real_root = base.resolve()
    entries: list[ManifestEntry] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        d = Path(dirpath)
        names = list(filenames)
        # os.walk lists directory symlinks in dirnames and never descends into them.
        names += [n for n in dirnames if (d / n).is_symlink()]
        dirnames[:] = [n for n in dirnames if not (d / n).is_symlink()]
        for name in names:
            full = d / name
            rel = full.relative_to(base).as_posix()
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                target = full.resolve()
                if _inside(real_root, target) and target.is_file():
                    entries.append(ManifestEntry(rel, "file", sha256_file(target)))
                else:
                    entries.append(ManifestEntry(rel, "symlink", sha256_bytes(os.readlink(full).encode())))
            elif stat.S_ISREG(st.st_mode):
                entries.append(ManifestEntry(rel, "file", sha256_file(full)))
            # sockets, fifos and devices carry no model bytes and are skipped.
    entries.sort(key=lambda e: e.path.encode("utf-8"))
    return entries


def sha256_directory(root: str | os.PathLike[str]) -> str:
    """Hex sha256 of the directory manifest (see module docstring)."""
    return manifest_digest(directory_manifest(root))


# Top-level entries of a model directory that are not part of the model: version-control metadata that no
# model loader reads (the same list model signing ignores by default, so both gates name one digest).
MODEL_DIGEST_EXCLUDES: tuple[str, ...] = (".git", ".gitattributes", ".github", ".gitignore")


def manifest_digest(entries: Iterable[ManifestEntry], exclude: Iterable[str] = ()) -> str:
    """sha256 of the manifest of ``entries`` (any order), leaving out ``exclude`` and everything below it.

    The one definition of a directory digest: :func:`sha256_directory` and
    every gate that hashes a tree while reading it for its own work build
    their :class:`ManifestEntry` list and call this.
    """
    dropped = tuple(e.strip("/") for e in exclude if e.strip("/"))

    def kept(path: str) -> bool:
        return not any(path == d or path.startswith(d + "/") for d in dropped)

    h = hashlib.sha256()
    for e in sorted((e for e in entries if kept(e.path)), key=lambda e: e.path.encode("utf-8")):
        h.update(e.line().encode("utf-8"))
    return h.hexdigest()


def model_digest(path: str | os.PathLike[str]) -> str:
    """The model digest of a file or directory (see module docstring). Reads every byte once."""
    p = Path(path)
    if p.is_dir():
        return manifest_digest(directory_manifest(p), MODEL_DIGEST_EXCLUDES)
    return sha256_file(p)


def sha256_path(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, or the manifest digest of a directory."""
    p = Path(path)
    if p.is_dir():
        return sha256_directory(p)
    return sha256_file(p)
