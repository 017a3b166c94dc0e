"""Hash a model into the OpenSSF model-signing manifest, fast and in bounded memory.

The manifest is exactly the one upstream ``model_signing`` 1.x builds (same
resource names, digests and serialization parameters), so signatures
interoperate both ways, but it is computed differently:

* the tree is walked once with ``os.scandir`` (no ``pathlib`` per file);
* tiny files are hashed on the calling thread (their cost is Python and system
  calls under the GIL, which a second thread cannot share), everything else by
  a thread pool in batches (no future per file);
* large files are cut into shards hashed in parallel (``shards`` method), so one
  4 GiB file keeps every core busy; ``auto`` picks shards only when a file is
  large enough for that to matter, and files otherwise (the upstream CLI
  verifies only the ``files`` method);
* nothing is ever read or mapped whole: files under 4 MiB are read into one
  reusable buffer per worker, larger ranges are hashed through a 16 MiB
  sliding read-only map (no copy), so memory is a few MiB per worker plus the
  manifest itself, whatever the model size.

Symlinks are never followed when signing (a link can be redirected after
signing); when verifying, a symlink where the signature has a file is reported.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple

from kfp_gates.components.common.digest import MODEL_DIGEST_EXCLUDES, ManifestEntry, manifest_digest
from kfp_gates.components.common.errors import ConfigError, InputNotFoundError, UnsafeInputError
from kfp_gates.components.model_signing import _direct_io

Method = Literal["auto", "files", "shards"]
HashType = Literal["sha256"]

GIT_PATHS: tuple[str, ...] = MODEL_DIGEST_EXCLUDES
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DEFAULT_SHARD_SIZE = 256 << 20
# auto: a file this large would leave cores idle in files mode, so shard.
AUTO_SHARD_THRESHOLD = 512 << 20
_BUF = 4 << 20  # per-worker read buffer (small files)
_WINDOW = 16 << 20  # per-worker mapped window (large ranges)
_MMAP_MIN = 4 << 20  # ranges from this size are mapped, not copied
# Ranges from this size are read with O_DIRECT (_direct_io), where the filesystem allows it. Off: on the
# storage measured (benchmarks/RESULTS.md, model signing, "O_DIRECT reads") the page cache through mmap
# windows is faster warm and cold; O_DIRECT pays only where storage outruns the page cache.
_DIRECT_MIN = 1 << 62
_MAP_POPULATE = getattr(mmap, "MAP_POPULATE", 0)
_USE_MMAP = hasattr(os, "posix_fadvise")  # Linux and the BSDs; elsewhere plain reads
_BATCH_BYTES = 32 << 20  # files are grouped into pool tasks of about this many bytes
_SMALL = 64 << 10  # below this, per-file overhead (GIL-bound) outweighs hashing: hashed on the calling thread

Progress = Callable[[int], None]


def _new_hasher(hash_type: str) -> Any:  # hashlib has no public type for its objects
    if hash_type == "sha256":
        return hashlib.sha256()
    if hash_type in ("blake2", "blake2b"):
        return hashlib.blake2b()
    raise UnsafeInputError(
        f"unsupported hash type {hash_type!r}",
        hint="kfp-gates verifies sha256 and blake2 manifests (upstream's default is sha256)",
    )


def normalize_ignore_path(value: str) -> str:
    """A model-relative POSIX path with no ``..`` and no leading ``/``. Raises ConfigError otherwise."""
    text = str(value).replace("\\", "/").strip()
    p = PurePosixPath(text)
    if not text or p.is_absolute() or ".." in p.parts:
        raise ConfigError(
            f"ignore path {value!r} must be relative to the model and stay inside it",
            where="--ignore-path",
            hint="give paths like '.git' or 'docs/README.md'",
        )
    out = p.as_posix()
    return "" if out == "." else out


@dataclass(frozen=True)
class HashingConfig:
    """How to hash a model. ``ignore_paths`` are model-relative and recorded in what is signed."""

    method: Method = "auto"
    hash_type: HashType = "sha256"
    shard_size: int = DEFAULT_SHARD_SIZE
    ignore_paths: tuple[str, ...] = GIT_PATHS
    allow_symlinks: bool = False
    workers: int = 0  # 0: one per usable CPU

    def __post_init__(self) -> None:
        if self.method not in ("auto", "files", "shards"):
            raise ConfigError(f"unknown hashing method {self.method!r}", hint="use auto, files or shards")
        if self.shard_size < 1:
            raise ConfigError("shard size must be positive", where="shard_size")
        cleaned = tuple(sorted({p for p in (normalize_ignore_path(x) for x in self.ignore_paths) if p}))
        object.__setattr__(self, "ignore_paths", cleaned)

    def worker_count(self) -> int:
        if self.workers > 0:
            return self.workers
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)


class Resource(NamedTuple):
    """One manifest entry: a file (``files``) or a byte range ``[start, end)`` of a file (``shards``).

    A named tuple rather than a dataclass: a manifest holds one per file and
    building 20,000 of them must cost microseconds, not a tenth of a second.
    """

    path: str
    start: int
    end: int
    digest: str  # hex


def sort_key(path: str, start: int = 0, end: int = 0) -> tuple[tuple[str, ...], int, int]:
    """Upstream's order (``PurePosixPath`` compares path parts, not the string)."""
    return (tuple(path.split("/")), start, end)


@dataclass(frozen=True)
class Manifest:
    """A hashed model: serialization parameters plus resources in upstream's canonical order."""

    model_name: str
    method: Literal["files", "shards"]
    hash_type: str
    allow_symlinks: bool
    ignore_paths: tuple[str, ...]
    resources: tuple[Resource, ...]
    shard_size: int | None = None
    # Files of zero bytes: the shards method has no resource for them, so they are listed here.
    empty_files: tuple[str, ...] = ()
    total_bytes: int = 0
    # The kfp-gates model digest (common.digest): the subject every gate names this model by. Not part of
    # the upstream serialization; None when the manifest was read back from a signature.
    model_digest: str | None = None

    def serialization(self) -> dict[str, object]:
        """The ``predicate.serialization`` object of the upstream payload."""
        out: dict[str, object] = {"method": self.method, "hash_type": self.hash_type}
        if self.method == "shards":
            out["shard_size"] = self.shard_size
        out["allow_symlinks"] = self.allow_symlinks
        if self.ignore_paths:
            out["ignore_paths"] = list(self.ignore_paths)
        return out

    @property
    def algorithm(self) -> str:
        """The per-resource algorithm name upstream writes (``sha256``, ``sha256-sharded-N``)."""
        base = "blake2b" if self.hash_type in ("blake2", "blake2b") else self.hash_type
        return f"{base}-sharded-{self.shard_size}" if self.method == "shards" else base

    def resource_name(self, r: Resource) -> str:
        """The resource name upstream writes: ``path`` or ``path:start:end``."""
        return f"{r.path}:{r.start}:{r.end}" if self.method == "shards" else r.path

    def root_digest(self) -> str:
        """sha256 over every resource digest in order: the in-toto subject digest."""
        h = hashlib.sha256()
        for r in self.resources:
            h.update(bytes.fromhex(r.digest))
        return h.hexdigest()

    def files(self) -> dict[str, tuple[tuple[int, int, str], ...]]:
        """Per file path: its (start, end, digest) ranges in order."""
        if self.method == "files":
            return {r.path: ((0, 0, r.digest),) for r in self.resources}
        out: dict[str, list[tuple[int, int, str]]] = {}
        for r in self.resources:
            out.setdefault(r.path, []).append((r.start, r.end, r.digest))
        for p in self.empty_files:
            out.setdefault(p, [])
        return {k: tuple(v) for k, v in out.items()}


class _Entry(NamedTuple):
    rel: str
    abspath: str
    size: int


@dataclass
class Tree:
    """What a walk found: regular files, symlinks and special files (model-relative paths)."""

    files: list[_Entry] = field(default_factory=list)
    symlinks: list[tuple[str, str]] = field(default_factory=list)  # (rel, link target text)
    specials: list[str] = field(default_factory=list)


def walk(root: Path, ignore: Sequence[str], *, follow_symlinks_inside: bool = False) -> Tree:
    """List the model. Raises InputNotFoundError when ``root`` does not exist.

    With ``follow_symlinks_inside`` a link to a regular file inside the root is
    hashed as that file (upstream ``allow_symlinks``); any other link is
    returned in ``symlinks`` and never read.
    """
    tree = Tree()
    try:
        st = root.lstat()
    except FileNotFoundError:
        raise InputNotFoundError("model not found", where=str(root)) from None
    if stat.S_ISREG(st.st_mode):
        tree.files.append(_Entry(".", str(root), st.st_size))
        return tree
    if stat.S_ISLNK(st.st_mode):
        # The path the user named (e.g. models/current -> models/v3): what it points to is the model.
        root = Path(os.path.realpath(root))
        st = root.stat()
        if stat.S_ISREG(st.st_mode):
            tree.files.append(_Entry(".", str(root), st.st_size))
            return tree
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeInputError("the model is neither a file nor a directory", where=str(root))
    real_root = os.path.realpath(root)
    # An ignored directory is never entered, so an entry is ignored exactly when its own path is listed.
    ignored = frozenset(ignore)
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            it = os.scandir(directory)
        except PermissionError:
            raise InputNotFoundError("permission denied", where=directory) from None
        with it:
            for e in it:
                rel = prefix + e.name
                if rel in ignored:
                    continue
                if e.is_symlink():
                    target = os.readlink(e.path)
                    if follow_symlinks_inside:
                        real = os.path.realpath(e.path)
                        if (real == real_root or real.startswith(real_root + os.sep)) and os.path.isfile(real):
                            tree.files.append(_Entry(rel, real, os.stat(real).st_size))
                            continue
                    tree.symlinks.append((rel, target))
                elif e.is_dir(follow_symlinks=False):
                    stack.append((e.path, rel + "/"))
                elif e.is_file(follow_symlinks=False):
                    tree.files.append(_Entry(rel, e.path, e.stat(follow_symlinks=False).st_size))
                else:
                    tree.specials.append(rel)
    return tree


class _Reader(threading.local):
    buf: bytearray | None = None

    def buffer(self) -> bytearray:
        if self.buf is None:
            self.buf = bytearray(_BUF)
        return self.buf


def _shrank(path: str) -> UnsafeInputError:
    return UnsafeInputError(
        "file shrank while it was hashed", where=path, hint="do not modify a model while it is signed"
    )


def _hash_range(path: str, start: int, length: int, hash_type: str, local: _Reader, progress: Progress | None) -> str:
    h = _new_hasher(hash_type)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnsafeInputError(
            f"cannot read a model file: {exc.strerror}",
            where=path,
            hint="a file that cannot be read cannot be verified",
        ) from None
    try:
        if length >= _DIRECT_MIN and _direct_io.hash_direct(fd, start, length, h, progress, lambda: _shrank(path)):
            return h.hexdigest()
        if length >= _MMAP_MIN and _USE_MMAP:
            _hash_mapped(fd, start, length, h, progress, path)
            return h.hexdigest()
        buf = local.buffer()
        view = memoryview(buf)
        if start:
            os.lseek(fd, start, os.SEEK_SET)
        remaining = length
        while remaining > 0:
            n = os.readv(fd, [view[: min(remaining, _BUF)]])
            if n <= 0:
                raise _shrank(path)
            h.update(view[:n])
            remaining -= n
            if progress is not None:
                progress(n)
    finally:
        os.close(fd)
    return h.hexdigest()


def _hash_mapped(fd: int, start: int, length: int, h: Any, progress: Progress | None, path: str) -> None:
    """Hash ``[start, start+length)`` through a sliding read-only map of ``_WINDOW`` bytes.

    Large ranges are hashed straight from the page cache: no copy into a
    buffer, which costs a sixth of the hashing time. Only one window per
    thread is ever mapped (pre-faulted with MAP_POPULATE, unmapped right
    after), so memory stays bounded whatever the file size. The size is
    re-checked before each window; a file truncated by someone else in
    between the check and the read still cannot pass (the process dies with
    SIGBUS, a non-zero exit: fail closed).
    """
    os.posix_fadvise(fd, start, length, os.POSIX_FADV_SEQUENTIAL)
    off, end = start, start + length
    while off < end:
        if os.fstat(fd).st_size < end:
            raise _shrank(path)
        n = min(_WINDOW, end - off)
        base = off - off % mmap.ALLOCATIONGRANULARITY
        m = mmap.mmap(fd, n + off - base, flags=mmap.MAP_SHARED | _MAP_POPULATE, prot=mmap.PROT_READ, offset=base)
        try:
            with memoryview(m) as whole:
                part = whole[off - base :]
                h.update(part)
                part.release()
        finally:
            m.close()
        off += n
        if progress is not None:
            progress(n)


class _Unit(NamedTuple):
    slot: int  # position in the result list
    path: str
    start: int
    length: int
    hash_type: str = ""  # "" = the manifest's hash type; "sha256" for a whole-file model-digest unit
    counts: bool = True  # reported to the progress callback (model-digest units are extra work)


def _run_units(units: list[_Unit], hash_type: str, workers: int, progress: Progress | None) -> list[str]:
    """Hash every unit and return the digests in unit order.

    Files under ``_SMALL`` cost more in Python and system calls than in
    hashing, and that work holds the GIL: a second thread only adds lock
    hand-offs. They are hashed one after the other on the calling thread,
    while a pool hashes everything larger (whose reads and sha256 release the
    GIL), batched into tasks of about ``_BATCH_BYTES``, largest first.
    """
    digests: list[str] = [""] * len(units)
    local = _Reader()
    small: list[_Unit] = []
    tasks: list[list[_Unit]] = []
    batch: list[_Unit] = []
    batch_bytes = 0
    for u in units:
        if u.length < _SMALL:
            small.append(u)
        elif u.length >= _BATCH_BYTES:
            tasks.append([u])
        else:
            batch.append(u)
            batch_bytes += u.length
            if batch_bytes >= _BATCH_BYTES:
                tasks.append(batch)
                batch, batch_bytes = [], 0
    if batch:
        tasks.append(batch)
    # Largest first keeps every core busy until the end (longest-processing-time scheduling).
    tasks.sort(key=lambda t: -sum(u.length for u in t))

    def run(task: list[_Unit]) -> None:
        for u in task:
            digests[u.slot] = _hash_range(
                u.path, u.start, u.length, u.hash_type or hash_type, local, progress if u.counts else None
            )

    if workers <= 1 or not tasks:
        run(small)
        for t in tasks:
            run(t)
        return digests
    with ThreadPoolExecutor(max_workers=min(workers, len(tasks)), thread_name_prefix="kfpg-hash") as pool:
        futures = [pool.submit(run, t) for t in tasks]
        try:
            run(small)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        for fut in futures:
            fut.result()  # re-raises the first error
    return digests


def choose_method(config: HashingConfig, sizes: Iterable[int]) -> Literal["files", "shards"]:
    if config.method != "auto":
        return config.method
    return "shards" if max(sizes, default=0) >= AUTO_SHARD_THRESHOLD else "files"


def model_name_of(root: Path) -> str:
    name = root.name
    if not name or name == "..":
        name = os.path.basename(os.path.realpath(root))
    return name


def hash_tree(
    root: Path,
    tree: Tree,
    *,
    method: Literal["files", "shards"],
    hash_type: str,
    shard_size: int,
    allow_symlinks: bool,
    ignore_paths: tuple[str, ...],
    workers: int,
    progress: Progress | None = None,
    canonical_order: bool = True,
    model_digest: bool = True,
) -> Manifest:
    """Hash the files of ``tree`` into a :class:`Manifest` (symlinks and specials are not hashed).

    ``canonical_order`` sorts resources as upstream does, which the signed
    payload needs; a manifest that is only compared can skip it.

    With ``model_digest`` (and always with files + sha256) the manifest also carries the kfp-gates model digest
    (:mod:`~kfp_gates.components.common.digest`) of the same files, taken in the
    same pass: with the ``files`` method and sha256 the resource digests *are*
    the file digests (no extra work); otherwise each non-empty file's sha256 is
    one more unit in the same worker pool, hashed from the same page-cache
    pages while the shards are (the file is read from storage once).
    """
    units: list[_Unit] = []
    keys: list[tuple[str, int, int]] = []
    empty: list[str] = []
    total = 0
    whole_from_resources = method == "files" and hash_type == "sha256"
    whole_units: list[tuple[str, int]] = []  # (rel, slot) of extra whole-file sha256 units
    for e in tree.files:
        total += e.size
        if method == "files":
            keys.append((e.rel, 0, 0))  # files are whole: no range, as when read back from a signature
            units.append(_Unit(len(units), e.abspath, 0, e.size))
        elif e.size == 0:
            empty.append(e.rel)
        else:
            for start in range(0, e.size, shard_size):
                end = min(start + shard_size, e.size)
                keys.append((e.rel, start, end))
                units.append(_Unit(len(units), e.abspath, start, end - start))
    if model_digest and not whole_from_resources:
        for e in tree.files:
            if e.size:
                whole_units.append((e.rel, len(units)))
                units.append(_Unit(len(units), e.abspath, 0, e.size, "sha256", counts=False))
    digests = _run_units(units, hash_type, workers, progress)
    order = sorted(range(len(keys)), key=lambda i: sort_key(*keys[i])) if canonical_order else range(len(keys))
    resources = tuple(Resource(keys[i][0], keys[i][1], keys[i][2], digests[i]) for i in order)
    subject: str | None = None
    if model_digest or whole_from_resources:  # with files + sha256 it costs nothing, so it is always there
        if whole_from_resources:
            per_file = {keys[i][0]: digests[i] for i in range(len(keys))}
        else:
            per_file = {e.rel: _EMPTY_SHA256 for e in tree.files if not e.size}
            per_file.update({rel: digests[slot] for rel, slot in whole_units})
        subject = model_digest_of(per_file, tree.symlinks)
    return Manifest(
        model_name=model_name_of(root),
        method=method,
        hash_type=hash_type,
        allow_symlinks=allow_symlinks,
        ignore_paths=ignore_paths,
        resources=resources,
        shard_size=shard_size if method == "shards" else None,
        empty_files=tuple(sorted(empty, key=lambda p: sort_key(p))) if method == "shards" else (),
        total_bytes=total,
        model_digest=subject,
    )


def model_digest_of(per_file: dict[str, str], symlinks: Sequence[tuple[str, str]] = ()) -> str:
    """The kfp-gates model digest from per-file sha256 digests (``"."`` = a one-file model).

    Symlinks not hashed as files are listed by the digest of their target text,
    exactly as :func:`kfp_gates.components.common.digest.directory_manifest` does.
    """
    if set(per_file) == {"."} and not symlinks:
        return per_file["."]
    entries = [ManifestEntry(rel, "file", sha) for rel, sha in per_file.items()]
    entries += [ManifestEntry(rel, "symlink", hashlib.sha256(target.encode()).hexdigest()) for rel, target in symlinks]
    return manifest_digest(entries, MODEL_DIGEST_EXCLUDES)


def hash_model(root: str | os.PathLike[str], config: HashingConfig, progress: Progress | None = None) -> Manifest:
    """Hash ``root`` (a directory or one file) for signing.

    Raises InputNotFoundError (missing model), UnsafeInputError (a symlink or
    special file that cannot be signed safely, a file that changes while read).
    """
    path = Path(root)
    # allow_symlinks follows links to files inside the model (as upstream does, and as verification does);
    # without this, such links were left out of what was signed and then reported as added at verification.
    tree = walk(path, config.ignore_paths, follow_symlinks_inside=config.allow_symlinks)
    if tree.symlinks and not config.allow_symlinks:
        names = ", ".join(f"{rel} -> {target}" for rel, target in tree.symlinks[:10])
        raise UnsafeInputError(
            f"model contains symlinks, which are not signed (a link can be redirected after signing): {names}",
            where=str(path),
            hint="replace the links by the files they point to, or add them to --ignore-path",
        )
    if tree.specials:
        raise UnsafeInputError(
            f"model contains special files (fifo, socket or device): {', '.join(tree.specials[:10])}",
            where=str(path),
            hint="remove them or add them to --ignore-path",
        )
    method = choose_method(config, (e.size for e in tree.files))
    return hash_tree(
        path,
        tree,
        method=method,
        hash_type=config.hash_type,
        shard_size=config.shard_size,
        allow_symlinks=config.allow_symlinks,
        ignore_paths=config.ignore_paths,
        workers=config.worker_count(),
        progress=progress,
    )


def total_size(root: str | os.PathLike[str], ignore: Sequence[str]) -> int:
    """Bytes a hash of ``root`` will read (for the progress bar)."""
    return sum(e.size for e in walk(Path(root), ignore).files)
