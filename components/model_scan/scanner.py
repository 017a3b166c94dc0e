"""Scan a model file or directory: detect each format by content and analyse it without loading.

:class:`ModelScanner` turns every file (and every archive member, nested
archive and nested pickle) into :class:`~kfp_gates.components.common.result.Finding`
objects, each naming the file, the member, the byte offset, the global and
the reason. It never imports or calls anything a file names. Anything it
cannot analyse to the end is a finding that blocks ("cannot prove safe").
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kfp_gates.components.common.digest import MODEL_DIGEST_EXCLUDES, ManifestEntry, manifest_digest, sha256_file
from kfp_gates.components.common.errors import InputNotFoundError
from kfp_gates.components.common.result import Finding, Location
from kfp_gates.components.common.severity import Severity

from . import formats
from ._digest import BufferHash, HashingFile, identity
from ._reader import Readable, Reader
from ._walker import NESTED_LOADERS, Blob, Global, ListVal, Obj, StreamResult, Walker, as_text
from .errors import Corrupt, LimitExceeded, StreamError, Truncated
from .formats import Format
from .globals_policy import GlobalsPolicy, Verdict

IN_MEMORY_MAX = 100 * 1000 * 1000  # files above this are streamed, never read whole

# Rule ids (stable: waivers and SARIF rules use them)
DANGEROUS = "KFPG-MS-DANGEROUS-GLOBAL"
UNKNOWN = "KFPG-MS-UNKNOWN-GLOBAL"
UNPARSABLE = "KFPG-MS-UNPARSABLE"
LIMIT = "KFPG-MS-LIMIT"
ARCHIVE_PATH = "KFPG-MS-ARCHIVE-PATH"
ARCHIVE_AMBIGUOUS = "KFPG-MS-ARCHIVE-AMBIGUOUS"
UNKNOWN_FORMAT = "KFPG-MS-UNKNOWN-FORMAT"
NESTED_UNSCANNED = "KFPG-MS-NESTED-UNSCANNED"
SYMLINK = "KFPG-MS-SYMLINK"
NOT_ANALYSED = "KFPG-MS-NOT-ANALYSED"
KERAS_LAMBDA = "KFPG-MS-KERAS-LAMBDA"
CHANGED = "KFPG-MS-CHANGED"  # the file changed while it was scanned: the verdict cannot be bound to its bytes
# A Keras model config (HDF5 attribute or .keras config.json) that declares a Lambda layer:
# loading it deserialises Python bytecode (marshal) unless safe_mode is on.
_IMPORTABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z").match
_KERAS_CODE_CLASSES = frozenset({"Lambda", "__lambda__", "TFOpLambda"})
_JSON_OBJECT_START = re.compile(rb'\{\s*"')
KERAS_JSON_MAX = 64 << 20
_CODECS_ENCODE = frozenset({"_codecs.encode", "codecs.encode"})

TORCH_MAGIC = 0x1950A86A20F9469CFC6C
# Element sizes of legacy torch storage classes (for skipping storages in legacy files).
TORCH_ELEMENT_SIZE = {
    "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
    "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16, "QInt8Storage": 1, "QUInt8Storage": 1,
    "QInt32Storage": 4, "UntypedStorage": 1,
}


@dataclass(frozen=True)
class ScanLimits:
    """Bounds from the policy section; reaching one blocks."""

    max_decompressed_bytes: int = 64 << 30
    max_archive_members: int = 100_000
    max_nesting_depth: int = 4


@dataclass
class FileReport:
    """What was found in one file or member: its format and how much was analysed."""

    path: str
    member: str | None
    format: str
    size: int | None
    streams: int = 0
    imports: int = 0
    walked: int | None = None  # bytes of the stream the walker went through (to the end, when whole)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "format": self.format, "size": self.size}
        if self.member:
            out["member"] = self.member
        if self.streams:
            out["pickle_streams"] = self.streams
            out["imports"] = self.imports
        if self.walked is not None:
            out["walked_bytes"] = self.walked
        return out


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    globals_seen: dict[str, str] = field(default_factory=dict)  # module.name -> verdict
    bytes_analysed: int = 0
    # Inputs not analysed that the policy accepts: path, format, reason (recorded in the evidence).
    accepted_unanalysed: list[dict[str, str]] = field(default_factory=list)
    # The subject's bytes, as read by the scan: sha256 per relative path ("." for a one-file scan), symlinks
    # that are not followed (path, target text) and links to files inside the root (path, target's path
    # relative to the root, target's absolute path).
    digests: dict[str, str] = field(default_factory=dict)
    symlinks: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str, Path]] = field(default_factory=list)
    scanned_directory: bool = False

    def model_digest(self) -> str | None:
        """The kfp-gates model digest (common.digest) of what was scanned; None when no file or directory was."""
        if "." in self.digests:
            return self.digests["."]
        if not self.scanned_directory:
            return None
        entries = [ManifestEntry(rel, "file", sha) for rel, sha in self.digests.items()]
        entries += [ManifestEntry(rel, "symlink", hashlib.sha256(t.encode()).hexdigest()) for rel, t in self.symlinks]
        # A link to a file inside the root is that file's bytes (scanned under the file's own name).
        for rel, target_rel, target in self.links:
            # The target was scanned (and hashed) under its own name, unless the root path itself has links.
            sha = self.digests.get(target_rel) or sha256_file(target)
            entries.append(ManifestEntry(rel, "file", sha))
        return manifest_digest(entries, MODEL_DIGEST_EXCLUDES)


@dataclass(frozen=True)
class _Where:
    path: str
    member: str | None = None
    depth: int = 0

    def inner(self, member: str) -> _Where:
        return _Where(self.path, f"{self.member}/{member}" if self.member else member, self.depth + 1)

    def loc(self, offset: int | None = None) -> Location:
        return Location(path=self.path, member=self.member, offset=offset)


class ModelScanner:
    """Scans files and directories; see :meth:`scan`. One instance per scan (it accumulates a report)."""

    def __init__(
        self,
        globals_policy: GlobalsPolicy | None = None,
        limits: ScanLimits = ScanLimits(),
        unknown_severity: Severity = Severity.HIGH,
        accept_unanalysed: tuple[Any, ...] = (),
    ) -> None:
        self.policy = globals_policy or GlobalsPolicy()
        self.limits = limits
        self.unknown_severity = unknown_severity
        self.report = ScanReport()
        self._budget = limits.max_decompressed_bytes
        # Policy entries (format, path glob, reason) naming inputs that may pass without analysis.
        self.accept_unanalysed = tuple(accept_unanalysed)
        self._root_dir: Path | None = None

    # ------------------------------------------------------------------ entry points
    def scan(self, path: str | os.PathLike[str]) -> ScanReport:
        """Scan a file, or every file under a directory (symlinks are not followed out of it).

        Raises :class:`InputNotFoundError` when ``path`` does not exist.
        """
        p = Path(path)
        if not p.exists() and not p.is_symlink():
            raise InputNotFoundError("model file or directory not found", where=str(path),
                                     hint="pass the path of a model file or of a model directory")
        try:
            st = p.stat()
        except OSError as exc:
            raise InputNotFoundError(f"cannot read the model path: {exc.strerror}", where=str(path)) from None
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            # A FIFO, socket or device would block or never end: refused before anything opens it.
            raise InputNotFoundError("not a regular file or directory (a FIFO, socket or device)", where=str(path),
                                     hint="pass a model file or a directory of model files")
        if p.is_dir():
            self._root_dir = p
            self._scan_dir(p)
            self.report.scanned_directory = True
            if not self.report.files:
                self._not_analysed(_Where(str(p)), "empty-directory",
                                   "the directory holds no file to scan: nothing was analysed")
        else:
            self._scan_file(p, str(p), ".")
        return self.report

    def scan_bytes(self, data: bytes, name: str = "<bytes>") -> ScanReport:
        self._scan_blob(_Where(name), data)
        return self.report

    # ------------------------------------------------------------------ findings
    def _add(self, rule: str, severity: Severity, message: str, where: _Where, offset: int | None = None,
             **data: Any) -> None:
        self.report.findings.append(
            Finding(id=rule, severity=severity, message=message, location=where.loc(offset), data=data)
        )

    def _not_analysed(self, where: _Where, fmt: str, message: str, offset: int | None = None, *,
                      rule: str = NOT_ANALYSED) -> None:
        """Something was not analysed: it blocks (high) unless a policy accept_unanalysed entry names it."""
        rel = self._rel(where)
        for entry in self.accept_unanalysed:
            if entry.format not in (None, fmt) or (entry.path is not None and not fnmatch.fnmatchcase(rel,
                                                                                                      entry.path)):
                continue
            accepted = {"path": rel, "format": fmt, "reason": entry.reason}
            self.report.accepted_unanalysed.append(accepted)
            self._add(rule, Severity.INFO, f"{message}; accepted unanalysed by the policy: {entry.reason}",
                      where, offset, format=fmt, accepted_unanalysed=accepted)
            return
        self._add(rule, Severity.HIGH,
                  f"{message}; not analysed means not proven safe (a policy may accept it: "
                  f"gates.model_scan.accept_unanalysed with format {fmt!r} or path {rel!r})", where, offset, format=fmt)

    def _rel(self, where: _Where) -> str:
        """The path policy globs match: relative to the scanned directory (or the file name), with the member."""
        base = Path(where.path)
        if self._root_dir is not None:
            try:
                rel = base.relative_to(self._root_dir).as_posix()
            except ValueError:
                rel = base.name
        else:
            rel = base.name
        return f"{rel}!{where.member}" if where.member else rel

    def _stream_error(self, where: _Where, exc: StreamError, what: str) -> None:
        if isinstance(exc, LimitExceeded):
            self._add(LIMIT, Severity.HIGH, f"{what}: {exc.message}; scan stopped, cannot prove safe", where,
                      exc.offset)
        else:
            self._add(UNPARSABLE, Severity.HIGH, f"{what}: {exc.message}; cannot prove safe", where, exc.offset)

    # ------------------------------------------------------------------ directories and files
    def _scan_dir(self, root: Path) -> None:
        real_root = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            d = Path(dirpath)
            dirnames.sort()
            for name in sorted(filenames) + sorted(n for n in dirnames if (d / n).is_symlink()):
                full = d / name
                rel = full.relative_to(root).as_posix()
                display = str(full)
                st = full.lstat()
                if stat.S_ISLNK(st.st_mode):
                    target = full.resolve()
                    try:
                        target.relative_to(real_root)
                        inside = True
                    except ValueError:
                        inside = False
                    if inside and target.is_file():
                        self.report.links.append((rel, target.relative_to(real_root).as_posix(), target))
                    else:
                        self.report.symlinks.append((rel, os.readlink(full)))
                    if not inside:
                        self._not_analysed(_Where(display), "symlink",
                                           f"symlink {rel} points outside the scanned directory "
                                           f"({os.readlink(full)}); not followed, so its target is not scanned",
                                           rule=SYMLINK)
                    # A link inside the root points at a file the walk scans under its own name.
                    continue
                if stat.S_ISREG(st.st_mode):
                    self._scan_file(full, display, rel)
                elif not stat.S_ISDIR(st.st_mode):
                    # Never opened: a FIFO blocks the reader, a device never ends.
                    self._not_analysed(_Where(display), "special-file",
                                       f"{rel} is not a regular file (FIFO, socket or device); not opened")
            dirnames[:] = [n for n in dirnames if not (d / n).is_symlink()]

    def _scan_file(self, path: Path, display: str, rel: str) -> None:
        """Scan one file, and record the sha256 of the bytes the scan read (never a second read)."""
        where = _Where(display)
        try:
            # O_NONBLOCK: a FIFO swapped in after the caller's stat() must not hang the open; the open
            # descriptor is then checked, so what is scanned is the regular file that was opened.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise InputNotFoundError("file not found", where=display) from None
        except IsADirectoryError:
            raise InputNotFoundError("expected a file", where=display) from None
        except PermissionError:
            raise InputNotFoundError("permission denied", where=display,
                                     hint="the scanner must be able to read every file it is asked to scan") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputNotFoundError("not a regular file (a FIFO, socket or device cannot be scanned)", where=display)
        os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
        with fh:
            before = identity(fh.fileno())
            size = before[2]
            if size <= IN_MEMORY_MAX:
                data = fh.read()
                hashed = BufferHash(data)
                self._scan_blob(where, data)
                digest = hashed.hexdigest()
            else:
                with HashingFile(fh) as tee:
                    self._scan_stream(where, tee, size, seekable=True)
                    digest = tee.hexdigest()
            if identity(fh.fileno()) != before or (size <= IN_MEMORY_MAX and len(data) != size):
                self._add(CHANGED, Severity.CRITICAL,
                          "the file changed while it was scanned; the verdict cannot be bound to its bytes "
                          "(scan a copy no one is writing to)", where)
        self.report.digests[rel] = digest

    # ------------------------------------------------------------------ dispatch by content
    def _scan_blob(self, where: _Where, data: bytes) -> None:
        """Scan bytes held in memory."""
        self._dispatch(where, formats.detect(data[: formats.HEAD], len(data)), len(data),
                       lambda: Reader.from_bytes(data), lambda: io.BytesIO(data), data=data)

    def _scan_stream(self, where: _Where, fh: Any, size: int | None, *, seekable: bool) -> None:
        """Scan a file object without reading it whole (large files, archive members, decompressed data)."""
        head = fh.read(formats.HEAD)
        if seekable:
            fh.seek(0)
            stream: Readable = fh
        else:
            stream = _Prepend(head, fh)
        fmt = formats.detect(head, size)

        def reader() -> Reader:
            return Reader(fh=stream, size=size if seekable else None)

        self._dispatch(where, fmt, size, reader, lambda: stream)

    def _dispatch(self, where: _Where, fmt: Format, size: int | None, reader: Any, fileobj: Any,
                  data: bytes | None = None) -> None:
        if where.depth > self.limits.max_nesting_depth:
            self._add(LIMIT, Severity.HIGH,
                      f"nesting deeper than max_nesting_depth={self.limits.max_nesting_depth}; not scanned, "
                      "cannot prove safe", where)
            return
        rep = FileReport(where.path, where.member, fmt.value, size)
        self.report.files.append(rep)
        if fmt is Format.PICKLE:
            self._scan_pickle_file(where, reader(), rep)
        elif fmt is Format.ZIP:
            fh = fileobj()
            if data is None and not _seekable(fh):
                # zipfile needs to seek (its directory is at the end): spool a compressed stream's zip to disk.
                with tempfile.TemporaryFile() as spool:
                    while chunk := fh.read(1 << 20):
                        spool.write(chunk)
                    spool.seek(0)
                    self._scan_zip(where, spool, None, spool.tell())
            else:
                self._scan_zip(where, fh, data, size)
        elif fmt.compressed:
            self._scan_compressed(where, fmt, fileobj(), data)
        elif fmt is Format.TAR:
            self._scan_tar(where, fileobj())
        elif fmt is Format.NPY:
            self._scan_npy(where, reader(), rep)
        elif fmt is Format.SAFETENSORS:
            self._scan_safetensors(where, fileobj(), size)
        elif fmt is Format.LZ4:
            self._add(UNPARSABLE, Severity.HIGH,
                      "lz4-compressed (joblib compress='lz4'): this scanner cannot decompress lz4, so the content "
                      "cannot be proven safe", where, 0)
        elif fmt is Format.HDF5:
            if data is None:
                self._not_analysed(where, "hdf5", "HDF5 file over the in-memory bound: Keras Lambda layers not "
                                   "checked", 0)
            else:
                self._keras_hdf5(where, data)
        elif fmt is Format.GGUF:
            self._not_analysed(where, "gguf", "GGUF file: its content is not analysed by this scanner", 0)
        elif fmt is Format.EMPTY:
            if where.member is None and where.depth == 0:
                # An empty member of an archive holds nothing; an empty model file is no model at all.
                self._not_analysed(where, "empty", "empty file: nothing to analyse")
        else:  # text or unknown binary: a protocol 0/1 pickle has no header, so try walking it
            if fmt is Format.TEXT and data is not None:
                self._keras_text(where, data)
            self._scan_headerless(where, fmt, reader(), rep)
        if fmt is not Format.ZIP and data is not None and _has_zip_directory(data):
            # A zip directory at the end of a non-zip file: zipfile-based loaders would open it.
            self._add(ARCHIVE_AMBIGUOUS, Severity.HIGH,
                      f"file starts as {fmt.value} but ends with a zip directory (a polyglot); scanning both",
                      where)
            self._scan_zip(where, io.BytesIO(data), data, size)

    # ------------------------------------------------------------------ pickles
    def _new_walker(self, where: _Where, reader: Reader) -> Walker:
        def on_reduce(w: Walker, func: Global, args: Any, offset: int) -> None:
            # Called for every call opcode (REDUCE, OBJ, INST, NEWOBJ, NEWOBJ_EX) with an imported callable.
            if func.dotted in NESTED_LOADERS:
                self._nested(where, func, args, offset)

        return Walker(reader, on_reduce=on_reduce)

    def _record(self, where: _Where, streams: list[StreamResult], rep: FileReport | None) -> None:
        """Judge every import of the walked streams and add findings (one per global and stream)."""
        for s in streams:
            seen: dict[tuple[str, str], int] = {}
            for offset, how, why in s.hazards:
                self._add(DANGEROUS, Severity.CRITICAL, f"{how}: {why}", where, offset,
                          **{"global": "functools.partial", "opcode": how, "verdict": "dangerous",
                             "aliases": [f"{DANGEROUS}:functools.partial"]})
            for imp in s.imports:
                g = imp.ref
                if imp.deferred and g is not None and g.uses and g.refs == g.uses:
                    # This getattr import is judged at its call sites: every reference to it the stream
                    # pushed was consumed as the callable of getattr(<global>, "<plain name>"), recorded as
                    # the dotted global it names. Any other use of it (passed as a value, wrapped in a
                    # partial, called on a computed object) leaves a reference over: judged as itself.
                    continue
                key = (imp.module, imp.name)
                if key in seen:
                    seen[key] += 1
                    continue
                seen[key] = 1
                j = self.policy.judge(imp.module, imp.name)
                self.report.globals_seen[j.dotted] = j.verdict.value
                if j.verdict is Verdict.SAFE:
                    continue
                if j.verdict is Verdict.DANGEROUS:
                    self._add(DANGEROUS, Severity.CRITICAL,
                              f"{imp.opcode} imports {j.dotted}: {j.reason}", where, imp.offset,
                              **{"global": j.dotted, "opcode": imp.opcode, "verdict": "dangerous",
                                 "aliases": [f"{DANGEROUS}:{j.dotted}"]})
                else:
                    # An operand the walker cannot resolve is "cannot prove safe", never merely unknown.
                    sev = Severity.HIGH if imp.module.startswith("<") else self.unknown_severity
                    self._add(UNKNOWN, sev,
                              f"{imp.opcode} imports {j.dotted}: {j.reason}; loading may run its code "
                              f"(allow it with --allow {j.dotted} if you trust it)", where, imp.offset,
                              **{"global": j.dotted, "opcode": imp.opcode, "verdict": "unknown",
                                 "aliases": [f"{UNKNOWN}:{j.dotted}"]})
            if rep is not None:
                rep.streams += 1
                rep.imports += len(s.imports)

    def _walk_all(self, where: _Where, walker: Walker, rep: FileReport | None, what: str) -> StreamResult | None:
        """Walk one stream; record its imports whether or not it ends cleanly. None when it failed."""
        done = len(walker.streams)
        try:
            res = walker.walk()
        except StreamError as exc:
            self._record(where, walker.streams[done:], rep)
            self._stream_error(where, exc, what)
            return None
        self._record(where, walker.streams[done:], rep)
        return res

    def _scan_pickle_file(self, where: _Where, reader: Reader, rep: FileReport) -> None:
        """A file that starts with a pickle: one or more streams, a joblib file, or a legacy torch file."""
        walker = self._new_walker(where, reader)
        first = self._walk_all(where, walker, rep, "pickle stream")
        if first is None:
            return
        if first.value == TORCH_MAGIC and type(first.value) is int:
            rep.format = "pytorch-legacy"
            self._torch_legacy(where, walker, rep)
            return
        self._rest_of_streams(where, walker, rep)

    def _rest_of_streams(self, where: _Where, walker: Walker, rep: FileReport) -> None:
        """Concatenated streams: a loader that calls load() again reads them, so they are walked too."""
        while not walker.at_end():
            rep.walked = walker.offset()
            offset = walker.offset()
            head = walker.peek(1)
            if head[0] not in formats.OPCODES:
                self._add(UNPARSABLE, Severity.HIGH,
                          "data after the last pickle STOP that is not a pickle; "
                          "cannot prove what reads it", where, offset)
                return
            res = self._walk_all(where, walker, rep, "pickle stream after an earlier STOP")
            if res is None:
                return
        rep.walked = walker.offset()

    def _torch_legacy(self, where: _Where, walker: Walker, rep: FileReport) -> None:
        """torch.save before 1.6: magic, protocol, sys_info, the object, storage keys, then raw storages."""
        storage_types: dict[str, int] = {}
        results: list[StreamResult] = []
        for what in ("protocol version", "sys_info", "object", "storage keys"):
            res = self._walk_all(where, walker, rep, f"legacy torch {what} pickle")
            if res is None:
                return
            results.append(res)
        for pid in results[2].persistent_ids:
            if type(pid) is tuple and len(pid) >= 3 and as_text(pid[0]) == "storage":
                key = as_text(pid[2])
                cls = pid[1]
                size = TORCH_ELEMENT_SIZE.get(cls.name) if type(cls) is Global else None
                if key is None or size is None:
                    self._add(UNPARSABLE, Severity.HIGH, "legacy torch storage with an unknown type; cannot size "
                              "its data, cannot prove safe", where, walker.offset())
                    return
                storage_types[key] = size
        keys = results[3].value
        if type(keys) is not ListVal or keys.count != len(keys.items):
            self._add(UNPARSABLE, Severity.HIGH, "legacy torch storage key list missing or too long", where,
                      walker.offset())
            return
        try:
            for k in keys.items:
                key = as_text(k)
                if key not in storage_types:
                    raise Corrupt(f"storage key {key!r} was not declared by the object pickle", walker.offset())
                n = int.from_bytes(walker.take(8), "little", signed=True)
                walker.skip(n * storage_types[key])
        except StreamError as exc:
            self._stream_error(where, exc, "legacy torch storage data")
            return
        self._rest_of_streams(where, walker, rep)

    def _scan_headerless(self, where: _Where, fmt: Format, reader: Reader, rep: FileReport, *,
                         quiet: bool = False) -> None:
        """Text or unknown bytes. Protocol 0/1 pickles have no header: walk, and judge what happened.

        ``quiet``: bytes known to be data (torch storages) are not reported as an unknown format.
        """
        head = reader.buf[:1] if reader.buf else b""
        if not head:
            try:
                reader.fill(0, 1)
                head = reader.buf[:1]
            except Truncated:
                return
        if head[0] not in formats.OPCODES:
            if not quiet:
                self._unknown_format(where, fmt)
            return
        walker = self._new_walker(where, reader)
        try:
            walker.walk()
        except StreamError as exc:
            streams = walker.streams
            if isinstance(exc, LimitExceeded):
                # The walker stopped at one of its own bounds, not at a byte CPython refuses: a real
                # unpickler may go on and run what follows. Cannot analyse, so it blocks - in storages too:
                # raw numbers do not reach these bounds (100,000 MARKs, 10 M stack values, 1 M sparse memo
                # entries, a GET/PUT or GLOBAL operand over 1 MiB).
                rep.format = "pickle"
                self._record(where, streams, rep)
                self._stream_error(where, exc, "pickle stream (protocol 0/1, no header)")
                return
            if fmt is Format.TEXT:
                # Text that merely starts like a protocol-0 pickle ("cat\ndog\n" reads as GLOBAL at.dog)
                # is a pickle only if the walk reached a call or a known-dangerous import.
                looks_like_pickle = any(s.calls for s in streams) or any(
                    self.policy.judge(i.module, i.name).verdict is Verdict.DANGEROUS for s in streams for i in s.imports
                )
            else:
                # Binary data: a call, or an import of a name a loader could actually import.
                looks_like_pickle = any(s.calls for s in streams) or any(
                    _IMPORTABLE(i.module) and _IMPORTABLE(i.name) for s in streams for i in s.imports
                )
            if looks_like_pickle:
                rep.format = "pickle"
                self._record(where, streams, rep)
                self._stream_error(where, exc, "pickle stream")
            elif not quiet:
                self._unknown_format(where, fmt)
            return
        rep.format = "pickle"
        self._record(where, walker.streams, rep)
        if quiet:
            return  # raw storage bytes that happen to form a short pickle: what follows is data
        self._rest_of_streams(where, walker, rep)

    def _keras_text(self, where: _Where, data: bytes) -> None:
        """A text file: when it is JSON (a Keras config.json), judge the decoded config."""
        if len(data) > KERAS_JSON_MAX or data.lstrip()[:1] not in (b"{", b"["):
            return
        try:
            config = json.loads(data)
        except (ValueError, RecursionError):
            return  # not JSON: no Keras loader reads it as a config
        self._keras_judge(where, config, 0)

    def _keras_hdf5(self, where: _Where, data: bytes) -> None:
        """Keras HDF5: the model config is a JSON string attribute; every JSON object in the file is decoded."""
        found = False
        decoder = json.JSONDecoder()
        done = 0
        for m in _JSON_OBJECT_START.finditer(data):
            start = m.start()
            if start < done:
                continue  # inside an object already decoded
            end = data.find(b"\x00", start, start + KERAS_JSON_MAX)
            chunk = data[start : end if end >= 0 else start + (1 << 20)]
            try:
                config, used = decoder.raw_decode(chunk.decode("utf-8"))
            except (ValueError, RecursionError):
                continue
            found = True
            done = start + used  # a character index: at most the byte offset, so nothing is skipped
            self._keras_judge(where, config, start)
        if not found and (b"model_config" in data or b"keras_version" in data):
            self._not_analysed(where, "hdf5", "Keras HDF5 file whose model config could not be decoded (stored "
                               "outside a plain string attribute); Lambda layers not checked", 0)

    def _keras_judge(self, where: _Where, config: Any, offset: int) -> None:
        """Flag Lambda layers and serialised lambdas anywhere in a decoded Keras config (values, never bytes)."""
        todo = [config]
        while todo:
            v = todo.pop()
            if isinstance(v, dict):
                cls = v.get("class_name")
                if isinstance(cls, str) and (cls.rsplit(".", 1)[-1] in _KERAS_CODE_CLASSES):
                    self._add(KERAS_LAMBDA, Severity.HIGH,
                              f"Keras model config declares {cls!r}: loading it (without safe_mode) runs the "
                              "Python bytecode stored in the layer", where, offset,
                              **{"global": "keras.layers.Lambda"})
                    return
                todo.extend(v.values())
            elif isinstance(v, list):
                todo.extend(v)
            elif isinstance(v, str) and len(v) < KERAS_JSON_MAX and v.lstrip()[:1] == "{":
                try:  # configs nested as JSON strings (h5 model_config inside another attribute)
                    todo.append(json.loads(v))
                except (ValueError, RecursionError):
                    pass

    def _unknown_format(self, where: _Where, fmt: Format) -> None:
        if fmt is Format.TEXT:
            return  # text that is not a pickle carries no code a model loader runs
        self._not_analysed(where, "unknown",
                           "unknown binary format: not a pickle, archive, numpy or safetensors file; not analysed", 0,
                           rule=UNKNOWN_FORMAT)

    def _nested(self, where: _Where, func: Global, args: Any, offset: int) -> None:
        """A known loader is called on a byte string inside the pickle: scan those bytes as a file."""
        payload = args[0] if type(args) is tuple and args else None
        if type(payload) is Obj and type(payload.func) is Global and payload.func.dotted in _CODECS_ENCODE:
            # Protocols 0-2 write bytes as _codecs.encode(<text>, "latin1"): the bytes are that text's code points.
            cargs = payload.args
            if (type(cargs) is tuple and len(cargs) == 2 and type(cargs[0]) is bytes
                    and as_text(cargs[1]) in ("latin1", "latin-1")):
                try:
                    payload = cargs[0].decode("utf-8").encode("latin1")
                except (UnicodeDecodeError, UnicodeEncodeError):
                    pass
        inner = where.inner(f"<{func.dotted} argument @{offset}>")
        if type(payload) is Blob and payload.data is not None:
            self._scan_blob(inner, payload.data)
        elif type(payload) is bytes:
            self._scan_blob(inner, payload)
        else:
            self._add(NESTED_UNSCANNED, Severity.HIGH,
                      f"{func.dotted} loads a nested pickle from a value that is not a literal byte string "
                      "(or is too large to hold); it cannot be scanned, cannot prove safe", where, offset,
                      **{"global": func.dotted})

    # ------------------------------------------------------------------ numpy
    def _scan_npy(self, where: _Where, reader: Reader, rep: FileReport) -> None:
        pos = [0]

        def read(n: int) -> bytes:
            try:
                data, pos[0] = reader.take(pos[0], n)
            except Truncated:
                return reader.buf[pos[0] :]
            return data

        try:
            header, _hlen = formats.npy_header(read)
        except StreamError as exc:
            self._stream_error(where, exc, "numpy .npy header")
            return
        if not formats.descr_has_object(header["descr"]):
            return  # raw array data: no code
        rep.format = "numpy-npy (object array, pickled)"
        walker = self._new_walker(where, reader)
        walker.pos = pos[0]
        if self._walk_all(where, walker, rep, "pickled object array in .npy") is not None:
            self._rest_of_streams(where, walker, rep)

    # ------------------------------------------------------------------ safetensors
    def _scan_safetensors(self, where: _Where, fh: Readable, size: int | None) -> None:
        try:
            formats.safetensors_header(fh.read, size or 0)
        except StreamError as exc:
            self._stream_error(where, exc, "safetensors header")

    # ------------------------------------------------------------------ compressed single streams
    def _scan_compressed(self, where: _Where, fmt: Format, fh: Readable, data: bytes | None) -> None:
        raw: Any = io.BytesIO(data) if data is not None else fh
        if fmt is Format.JOBLIB_ZF:
            head = raw.read(64)
            raw = _Prepend(head[formats.zfile_offset(head) :], raw)
        stream = _Counting(formats.DecompressingStream(raw, fmt), self)
        inner = _Where(where.path, where.member, where.depth + 1)
        try:
            self._scan_stream(inner, stream, None, seekable=False)
        except StreamError as exc:
            self._stream_error(where, exc, f"{fmt.value}-compressed data")

    # ------------------------------------------------------------------ zip
    def _scan_zip(self, where: _Where, fh: Any, data: bytes | None, size: int | None) -> None:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            self._add(UNPARSABLE, Severity.HIGH, f"zip archive cannot be read: {exc}; cannot prove safe", where, 0)
            return
        with zf:
            infos = zf.infolist()
            if len(infos) > self.limits.max_archive_members:
                self._add(LIMIT, Severity.HIGH,
                          f"zip has {len(infos)} members, more than max_archive_members="
                          f"{self.limits.max_archive_members}; not scanned, cannot prove safe", where)
                return
            names = [i.filename for i in infos]
            dups = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) != len(names) else []
            for n in dups:
                self._add(ARCHIVE_AMBIGUOUS, Severity.HIGH,
                          f"zip lists member {n!r} more than once; loaders disagree on which copy they read "
                          "(every copy is scanned)", where)
            torch_prefixes = {i.filename[: -len("data.pkl")] for i in infos if i.filename.endswith("data.pkl")}
            for info in infos:
                self._zip_member(where, zf, info, torch_prefixes)

    def _zip_member(self, where: _Where, zf: zipfile.ZipFile, info: zipfile.ZipInfo, torch_prefixes: set[str]) -> None:
        name = info.filename
        inner = where.inner(name)
        bad = _unsafe_member_name(name)
        if bad:
            self._add(ARCHIVE_PATH, Severity.HIGH, f"archive member name {name!r} {bad}", inner)
        if info.is_dir():
            return
        if info.flag_bits & 0x1:
            self._add(ARCHIVE_AMBIGUOUS, Severity.HIGH, "encrypted zip member: cannot be read, cannot prove safe",
                      inner)
            return
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            self._add(UNPARSABLE, Severity.HIGH,
                      f"zip member uses compression method {info.compress_type}, which the scanner cannot read; "
                      "cannot prove safe", inner)
            return
        if info.file_size > self._budget:
            self._add(LIMIT, Severity.HIGH,
                      f"member declares {info.file_size} bytes, more than the remaining decompression budget "
                      f"(max_decompressed_bytes={self.limits.max_decompressed_bytes}); cannot prove safe", inner)
            return
        is_storage = any(name.startswith(p + "data/") for p in torch_prefixes)
        try:
            with zf.open(info) as member:
                head = member.read(formats.HEAD)
                fmt = formats.detect(head, info.file_size)
                if is_storage and _raw_storage(fmt, head):
                    # A name under <prefix>data/ proves nothing: what is decided here is the content. Bytes
                    # no format claims are what torch storages look like (raw numbers); they are still
                    # walked as a protocol 0/1 pickle and reported if they really read as one (a valid
                    # stream, or a call / importable name before failing). Any format the content does
                    # claim (a pickle header, a compressed stream, a zip) is scanned as that format below.
                    rep = FileReport(where.path, inner.member, "pytorch-storage", info.file_size)
                    self.report.files.append(rep)
                    if _reads_as_pickle(head):
                        reader = Reader(fh=_Counting(_Prepend(head, member), self), size=None)
                        self._scan_headerless(inner, Format.UNKNOWN, reader, rep, quiet=True)
                    else:
                        self._budget -= info.file_size  # refused by pickle within its first bytes: data
                    return
                counted = _Counting(_Prepend(head, member), self)
                if info.file_size <= IN_MEMORY_MAX:
                    blob = counted.read(IN_MEMORY_MAX + 1)
                    if len(blob) > IN_MEMORY_MAX:
                        raise LimitExceeded("member holds more data than its declared size")
                    self._scan_blob(inner, blob)
                    counted.drain()
                elif fmt is Format.ZIP:
                    with tempfile.TemporaryFile() as spool:
                        while chunk := counted.read(1 << 20):
                            spool.write(chunk)
                        spool.seek(0)
                        self._scan_stream(inner, spool, info.file_size, seekable=True)
                else:
                    self._scan_stream(inner, counted, info.file_size, seekable=False)
                    counted.drain()
        except StreamError as exc:
            self._stream_error(inner, exc, "zip member")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            self._add(UNPARSABLE, Severity.HIGH, f"zip member cannot be read: {exc}; cannot prove safe", inner)

    # ------------------------------------------------------------------ tar
    def _scan_tar(self, where: _Where, fh: Any) -> None:
        count = 0
        try:
            with tarfile.open(fileobj=fh, mode="r|") as tf:
                for m in tf:
                    count += 1
                    if count > self.limits.max_archive_members:
                        self._add(LIMIT, Severity.HIGH,
                                  f"tar has more than max_archive_members={self.limits.max_archive_members} members; "
                                  "scan stopped, cannot prove safe", where)
                        return
                    self._tar_member(where, tf, m)
        except StreamError as exc:
            self._stream_error(where, exc, "tar archive")
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            self._add(UNPARSABLE, Severity.HIGH, f"tar archive cannot be read: {exc}; cannot prove safe", where)

    def _tar_member(self, where: _Where, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        inner = where.inner(m.name)
        bad = _unsafe_member_name(m.name)
        if bad:
            self._add(ARCHIVE_PATH, Severity.HIGH, f"archive member name {m.name!r} {bad}", inner)
        if m.issym() or m.islnk():
            target_bad = _unsafe_member_name(m.linkname) or (
                "escapes the archive" if m.issym() and _escapes(m.name, m.linkname) else None
            )
            if target_bad:
                self._add(ARCHIVE_PATH, Severity.HIGH,
                          f"archive link {m.name!r} -> {m.linkname!r}: target {target_bad}", inner)
            return
        if not m.isfile():
            return
        if m.size > self._budget:
            self._add(LIMIT, Severity.HIGH, "tar member larger than the remaining decompression budget; "
                      "cannot prove safe", inner)
            return
        f = tf.extractfile(m)
        if f is None:
            return
        if PurePosixPath(m.name).name in ("storages", "tensors"):
            self._torch_tar_member(inner, f, PurePosixPath(m.name).name, m.size)
            return
        head = f.read(formats.HEAD)
        if m.size <= IN_MEMORY_MAX:
            self._budget -= m.size
            self._scan_blob(inner, head + f.read())
        else:
            self._scan_stream(inner, _Counting(_Prepend(head, f), self), m.size, seekable=False)

    def _torch_tar_member(self, where: _Where, f: Readable, kind: str, size: int) -> None:
        """Legacy torch tar: 'storages' and 'tensors' interleave small pickles with raw data."""
        rep = FileReport(where.path, where.member, f"pytorch-legacy-tar {kind}", size)
        self.report.files.append(rep)
        walker = self._new_walker(where, Reader(fh=_Counting(f, self), size=None, max_bytes=None))
        first = self._walk_all(where, walker, rep, f"legacy torch {kind} count")
        if first is None:
            return
        if type(first.value) is not int or first.value < 0:
            self._add(UNPARSABLE, Severity.HIGH, f"legacy torch {kind}: count is not an integer", where)
            return
        try:
            for _ in range(first.value):
                res = self._walk_all(where, walker, rep, f"legacy torch {kind} record")
                if res is None:
                    return
                rec = res.value
                if kind == "storages":
                    cls = rec[2] if type(rec) is tuple and len(rec) == 3 else None
                    elem = TORCH_ELEMENT_SIZE.get(cls.name) if type(cls) is Global else None
                    if elem is None:
                        raise Corrupt("storage record without a known storage type", walker.offset())
                    n = int.from_bytes(walker.take(8), "little", signed=True)
                    walker.skip(n * elem)
                else:
                    ndim = int.from_bytes(walker.take(4), "little", signed=True)
                    if ndim < 0 or ndim > 64:
                        raise Corrupt("tensor record with an invalid number of dimensions", walker.offset())
                    walker.skip(4 + 16 * ndim + 8)
        except StreamError as exc:
            self._stream_error(where, exc, f"legacy torch {kind}")
            return
        self._rest_of_streams(where, walker, rep)


# ---------------------------------------------------------------------- helpers


class _Prepend:
    """A file object that returns ``head`` and then the rest of ``fh``."""

    def __init__(self, head: bytes, fh: Any) -> None:
        self._head = head
        self._fh = fh

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            out = self._head + self._fh.read()
            self._head = b""
            return out
        if self._head:
            out = self._head[:n]
            self._head = self._head[n:]
            if len(out) < n:
                out += self._fh.read(n - len(out))
            return out
        return self._fh.read(n)


class _Counting:
    """Charges every byte read from an archive member to the scan's decompression budget."""

    def __init__(self, fh: Any, scanner: ModelScanner) -> None:
        self._fh = fh
        self._s = scanner

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self._s._budget -= len(data)
        if self._s._budget < 0:
            raise LimitExceeded(
                f"decompressed data exceeds max_decompressed_bytes={self._s.limits.max_decompressed_bytes}"
            )
        return data

    def drain(self) -> None:
        """Read to the end so zipfile checks the member's CRC (a mismatch raises BadZipFile)."""
        while self.read(1 << 20):
            pass


def _unsafe_member_name(name: str) -> str | None:
    if not name:
        return "is empty"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path (extraction would write outside the target directory)"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "contains '..' (path traversal: extraction would write outside the target directory)"
    if "\x00" in name:
        return "contains a NUL byte"
    return None


def _escapes(name: str, link: str) -> bool:
    base = PurePosixPath(name).parent
    depth = len([p for p in base.parts if p not in ("", ".")])
    for part in PurePosixPath(link).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _reads_as_pickle(head: bytes) -> bool:
    """False when ``pickle.load`` refuses ``head`` before any import or call (raw numbers almost always are)."""
    if not head or head[0] not in formats.OPCODES:
        return False
    probe = Walker(Reader.from_bytes(head), joblib=False)
    try:
        probe.walk()
    except Truncated:
        return True  # still valid where the head ends: the whole member is walked
    except StreamError:
        return any(s.calls or s.imports for s in probe.streams)
    return True


def _raw_storage(fmt: Format, head: bytes) -> bool:
    """True when a torch storage member's first bytes are best read as raw numbers.

    Random numbers match a magic number now and then (a zlib header is one 2-byte pair in 8,000, an
    int64 tensor can start like a safetensors length): such members are walked as pickles, quietly.
    Containers that a chance match cannot produce - a zip, a tar, a compressed stream that really
    decompresses - are scanned as what they are.
    """
    if fmt in (Format.ZIP, Format.TAR, Format.NPY, Format.HDF5, Format.LZ4):
        return False  # magic numbers of 4+ bytes: a chance match is negligible, and each of these can hold code
    if fmt.compressed:
        try:
            formats.probe_decompress(fmt, head)
        except Corrupt:
            return True
        return False
    return True


def _has_zip_directory(data: bytes) -> bool:
    tail = data[-(65536 + 22) :]
    return b"PK\x05\x06" in tail and zipfile.is_zipfile(io.BytesIO(data))


def _seekable(fh: Any) -> bool:
    try:
        return bool(fh.seekable())
    except (AttributeError, OSError, ValueError):
        return False
