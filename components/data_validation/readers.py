"""Reading the dataset: CSV, Parquet and JSON Lines into an Arrow table.

Only regular files are read (a FIFO or a device is refused up front, exit 2),
each is opened once (:class:`InputFile`), and gzip, bz2 or xz compression is
recognised by content and decompressed on the fly; zstd is refused.

The fast path is pyarrow's streaming CSV reader (multi-threaded, and it keeps
only one block of parse buffers alive, so peak memory stays near the size of
the table itself). When pyarrow refuses the file, the file is scanned again
with Python's ``csv`` module, only to find and name the first bad line:
speed on good data, a precise diagnostic on bad data. No error text from a
parser is passed on, because those messages quote whole rows.

Every problem with the data itself raises :class:`DataUnreadable`, which the
gate turns into a blocking finding. Problems with the options (an unknown
encoding) are :class:`ConfigError` (exit 2).
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import json
import lzma
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

if TYPE_CHECKING:
    import pyarrow as pa

DataFormat = Literal["csv", "parquet", "jsonl"]
DATA_FORMATS: tuple[str, ...] = ("csv", "parquet", "jsonl")
_SUFFIXES: dict[str, DataFormat] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}
_BLOCK = 16 << 20  # 16 MiB parse blocks: large enough for throughput, small enough for memory


@dataclass(frozen=True)
class CsvOptions:
    """How to read a CSV file. ``column_names`` names the columns of a file without a header."""

    delimiter: str = ","
    header: bool = True
    encoding: str = "utf-8"
    quotechar: str = '"'
    column_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.delimiter) != 1:
            raise ConfigError(f"CSV delimiter must be one character, got {self.delimiter!r}",
                              hint="use '\\t' for tab-separated files")
        if len(self.quotechar) != 1 or self.quotechar == self.delimiter:
            raise ConfigError(f"CSV quote character must be one character other than the delimiter, "
                              f"got {self.quotechar!r}")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(f"unknown encoding {self.encoding!r}", hint="e.g. utf-8, latin-1, cp1252") from None

    def names_for(self, n: int) -> list[str]:
        """Column names of a header-less file with ``n`` fields (``_c0``, ``_c1``, ... as Spark names them)."""
        if self.column_names:
            return list(self.column_names)
        return [f"_c{i}" for i in range(n)]


@dataclass(frozen=True)
class DataProblem:
    """Why the data cannot be read, and where: 1-based ``line`` when known, never row content."""

    reason: str
    line: int | None = None
    kind: str = "unreadable"


class DataUnreadable(Exception):
    """The dataset cannot be read; the gate reports a blocking finding (not a crash, not exit 2)."""

    def __init__(self, problem: DataProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def detect_format(path: str | Path, explicit: str | None = None) -> DataFormat:
    """The data format from ``explicit`` or the file suffix. Raises ConfigError when neither says."""
    if explicit:
        if explicit not in DATA_FORMATS:
            raise ConfigError(f"unknown data format {explicit!r}", hint=f"choose one of: {', '.join(DATA_FORMATS)}")
        return explicit  # type: ignore[return-value]
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() not in {".gz", ".bz2", ".zst"}]
    for s in reversed(suffixes):
        if s in _SUFFIXES:
            return _SUFFIXES[s]
    raise ConfigError(f"cannot tell the data format of {Path(path).name!r} from its name",
                      where=str(path), hint=f"pass --data-format ({', '.join(DATA_FORMATS)})")


def default_csv_options(path: str | Path) -> CsvOptions:
    return CsvOptions(delimiter="\t") if Path(path).suffix.lower() == ".tsv" else CsvOptions()


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def _open_regular(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file. Raises InputNotFoundError (exit 2).

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` on the descriptor
    itself: a FIFO (or a device) is refused without waiting for a writer, also
    when the path is swapped for one after an earlier check.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputNotFoundError("data file not found", where=str(path)) from None
    except IsADirectoryError:
        raise InputNotFoundError("expected a data file, found a directory", where=str(path),
                                 hint="pass one CSV, Parquet or JSON Lines file") from None
    except PermissionError:
        raise InputNotFoundError("data file is not readable (permission denied)", where=str(path)) from None
    except OSError as exc:
        raise InputNotFoundError(f"data file cannot be opened ({exc.strerror})", where=str(path)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = _file_kind(mode)
        if kind == "a directory":
            raise InputNotFoundError("expected a data file, found a directory", where=str(path),
                                     hint="pass one CSV, Parquet or JSON Lines file")
        raise InputNotFoundError(f"expected a regular data file, found {kind}", where=str(path),
                                 hint="copy the data to a file first; a pipe or device cannot be read twice "
                                      "or bound to a digest")
    os.set_blocking(fd, True)
    return fd


def check_readable(path: str | Path) -> Path:
    """The path, if it is a readable regular file (not a FIFO, socket or device). Raises InputNotFoundError (exit 2)."""
    p = Path(path)
    os.close(_open_regular(p))
    return p


# Compressed data is recognised by its first bytes, never by its name.
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


def _compression(fd: int, path: Path) -> str | None:
    head = os.pread(fd, 6, 0)
    codec = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    if codec == "zstd":
        raise InputNotFoundError("zstd-compressed data is not supported", where=str(path),
                                 hint="decompress it first, or use gzip, bz2 or xz")
    return codec


class _ClosesSource:
    """Mixin for the stdlib decompressors: closing the decompressed stream closes the file under it."""

    _source: BinaryIO

    def close(self) -> None:
        try:
            super().close()  # type: ignore[misc]
        finally:
            self._source.close()


class _Gzip(_ClosesSource, gzip.GzipFile):
    pass


class _Bz2(_ClosesSource, bz2.BZ2File):
    pass


class _Xz(_ClosesSource, lzma.LZMAFile):
    pass


def _decompressed(raw: BinaryIO, codec: str | None) -> BinaryIO:
    if codec is None:
        return raw
    stream: _ClosesSource
    if codec == "gzip":
        stream = _Gzip(fileobj=raw, mode="rb")
    elif codec == "bz2":
        stream = _Bz2(raw, "rb")
    else:
        stream = _Xz(raw, "rb")
    stream._source = raw
    return stream  # type: ignore[return-value]


# What a corrupt or truncated compressed stream raises while it is read.
DECOMPRESSION_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)


class InputFile:
    """One open descriptor of a regular data file, shared by every pass over it (precheck, parse, diagnosis).

    The file is opened once: every :meth:`stream` reads the same file, even
    if the path is replaced meanwhile. Streams share one file offset, so use
    them one after the other, not interleaved.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd = _open_regular(self.path)
        try:
            self.compression = _compression(self._fd, self.path)
        except BaseException:
            self.close()
            raise

    def stream(self) -> BinaryIO:
        """A binary reader from the start of the content, decompressed (gzip, bz2, xz) when the file is.

        Closing it leaves the shared descriptor open.
        """
        os.lseek(self._fd, 0, os.SEEK_SET)
        return _decompressed(os.fdopen(os.dup(self._fd), "rb"), self.compression)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Source = Path | InputFile


def _stream(src: Source) -> BinaryIO:
    if isinstance(src, InputFile):
        return src.stream()
    fd = _open_regular(src)
    try:
        codec = _compression(fd, src)
    except BaseException:
        os.close(fd)
        raise
    return _decompressed(os.fdopen(fd, "rb"), codec)


# ----- CSV --------------------------------------------------------------------


def csv_precheck(path: Source, options: CsvOptions) -> None:
    """Cheap structural checks any engine runs first: empty file, header without data rows."""
    with _stream(path) as fh:
        head = fh.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise DataUnreadable(DataProblem("the file is empty", line=1, kind="empty"))
    if not options.header:
        return
    # A header-only file: one record and nothing but blank lines after it. Only
    # decided here when the whole file fits in the first read; larger files are
    # header-only only if the reader finds no row.
    if len(head) < (1 << 16):
        rows = [r for r in _csv_records(path, options, limit=2)]
        if len(rows) <= 1:
            raise DataUnreadable(DataProblem("the file has a header but no data rows", line=2, kind="no_rows"))


def _csv_records(path: Source, options: CsvOptions, limit: int) -> list[list[str]]:
    out: list[list[str]] = []
    try:
        for _, row in _iter_csv(path, options, strict=False):
            out.append(row)
            if len(out) >= limit:
                break
    except (csv.Error, UnicodeDecodeError):
        pass  # the full read reports it with its line
    return out


def _decoded_lines(path: Source, encoding: str) -> Iterator[str]:
    """Lines of text; a decoding error is raised as DataUnreadable naming the line and byte."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line_no = 0
    with _stream(path) as fh:
        for raw in fh:
            line_no += 1
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise DataUnreadable(DataProblem(
                    f"line {line_no}: bytes that are not valid {encoding} (byte {exc.start + 1} of the line)",
                    line=line_no, kind="encoding")) from None
            if line_no == 1:
                text = text.removeprefix("\ufeff")
            yield text
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataUnreadable(DataProblem(f"line {line_no}: the file ends inside a {encoding} character",
                                             line=line_no, kind="encoding")) from None
        if tail:
            yield tail


def _iter_csv(path: Source, options: CsvOptions, *, strict: bool) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, fields) for every non-blank record."""
    reader = csv.reader(_decoded_lines(path, options.encoding), delimiter=options.delimiter,
                        quotechar=options.quotechar, doublequote=True, strict=strict)
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        start, last = last + 1, reader.line_num
        if row:
            yield start, row


def locate_csv_problem(path: Source, options: CsvOptions) -> DataProblem | None:
    """The first line the CSV cannot be parsed at, found with Python's csv module (slow; failure path only)."""
    expected: int | None = len(options.column_names) if options.column_names and not options.header else None
    reader = csv.reader(_decoded_lines(path, options.encoding), delimiter=options.delimiter,
                        quotechar=options.quotechar, doublequote=True, strict=True)
    last = 0  # last line of the previous record; the next record starts after it
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row:
                continue
            if expected is None:
                expected = len(row)
                if options.header and len(set(row)) != len(row):
                    dup = sorted({c for c in row if row.count(c) > 1})
                    return DataProblem(f"line {start}: the header names column(s) {', '.join(map(repr, dup))} "
                                       "twice", line=start, kind="header")
                continue
            if len(row) != expected:
                return DataProblem(f"line {start}: the row has {len(row)} fields, the header has {expected} "
                                   "(ragged row)", line=start, kind="ragged")
    except DataUnreadable as exc:
        return exc.problem
    except csv.Error as exc:
        # Python's messages describe the quoting problem without quoting the data.
        msg = str(exc).split(" (line")[0]
        return DataProblem(f"line {last + 1}: malformed CSV quoting ({msg})", line=last + 1, kind="quoting")
    return None


class _QuoteCounter:
    """A read-only file wrapper that counts quote bytes on their way to pyarrow (no extra pass).

    pyarrow reads a quoted field left open at the end of the file as if it were
    closed there, silently swallowing every following row into one value. In a
    well-formed file quote characters come in pairs, so an odd count is the
    cue to look closer.
    """

    def __init__(self, path: Source, quote: bytes) -> None:
        self._fh = _stream(path)
        self._quote = quote
        self.count = 0
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.count += data.count(self._quote)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._fh.close()
        self.closed = True

    def __enter__(self) -> _QuoteCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ascii_compatible(encoding: str) -> bool:
    try:
        return 'a,"\n'.encode(encoding) == b'a,"\n' and "".encode(encoding) == b""
    except (UnicodeError, LookupError):
        return False


def read_csv(path: Source, options: CsvOptions) -> pa.Table:
    """Read a CSV file into an Arrow table. Raises DataUnreadable naming the bad line."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    csv_precheck(path, options)
    read_opts = pcsv.ReadOptions(
        block_size=_BLOCK, encoding=options.encoding,
        autogenerate_column_names=not options.header and not options.column_names,
        column_names=list(options.column_names) if (options.column_names and not options.header) else None,
    )
    parse_opts = pcsv.ParseOptions(delimiter=options.delimiter, quote_char=options.quotechar,
                                   double_quote=True, newlines_in_values=True)
    # Empty fields are missing values in every column, strings included, as in pandas and Spark.
    convert_opts = pcsv.ConvertOptions(strings_can_be_null=True)
    quote = options.quotechar.encode(options.encoding) if _ascii_compatible(options.encoding) else None
    counted: _QuoteCounter | None = None
    try:
        try:
            with _QuoteCounter(path, quote or b"\x00") as counted:
                reader = pcsv.open_csv(counted, read_options=read_opts, parse_options=parse_opts,
                                       convert_options=convert_opts)
                table = pa.Table.from_batches(list(reader), schema=reader.schema)
        except pa.ArrowInvalid as exc:
            if "conversion error" not in str(exc).lower() and "In CSV column" not in str(exc):
                raise
            # The streaming reader fixes column types from the first block; a later
            # value of another type (an int column that turns float) needs the
            # whole-file reader, which widens types as it goes.
            with _QuoteCounter(path, quote or b"\x00") as counted:
                table = pcsv.read_csv(counted, read_options=read_opts, parse_options=parse_opts,
                                      convert_options=convert_opts)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError, ValueError) as exc:
        problem = locate_csv_problem(path, options)
        if problem is None:
            problem = DataProblem(f"the CSV cannot be parsed ({_arrow_reason(exc)})", kind="unreadable")
        raise DataUnreadable(problem) from None
    if quote is not None and counted is not None and counted.count % 2:
        problem = locate_csv_problem(path, options)
        if problem is not None:
            raise DataUnreadable(problem)
    if any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in table.schema):
        # pyarrow keeps text that is not valid in the encoding as raw bytes instead of failing.
        problem = locate_csv_problem(path, options)
        raise DataUnreadable(problem or DataProblem(f"bytes that are not valid {options.encoding}",
                                                    kind="encoding"))
    if not options.header and not options.column_names:
        table = table.rename_columns(options.names_for(table.num_columns))
    _check_table(table, path)
    return table


def _arrow_reason(exc: BaseException) -> str:
    """The kind of a pyarrow error, without the row text or value pyarrow appends after the last colon."""
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return ": ".join(first.split(": ")[:2])[:120]


def _check_table(table: pa.Table, path: Source) -> None:
    if table.num_columns == 0:
        raise DataUnreadable(DataProblem("the data has no columns", line=1, kind="empty"))
    if table.num_rows == 0:
        raise DataUnreadable(DataProblem("the data has no rows", line=2, kind="no_rows"))
    names = table.column_names
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise DataUnreadable(DataProblem(f"column name(s) {', '.join(map(repr, dup))} appear more than once",
                                         line=1, kind="header"))


# ----- Parquet and JSON Lines ---------------------------------------------------


def read_parquet(path: Source) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with _stream(path) as fh:
            table = pq.read_table(fh)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataUnreadable(DataProblem(f"not a readable Parquet file ({type(exc).__name__})",
                                         kind="unreadable")) from None
    _check_table(table, path)
    return table


def locate_jsonl_problem(path: Source) -> DataProblem | None:
    """The first line of a JSON Lines file that is not one JSON object."""
    line_no = 0
    try:
        for line_no, text in enumerate(_decoded_lines(path, "utf-8"), start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                return DataProblem(f"line {line_no}: not valid JSON ({exc.msg}, column {exc.colno})",
                                   line=line_no, kind="json")
            if not isinstance(value, dict):
                return DataProblem(f"line {line_no}: expected a JSON object, found {type(value).__name__}",
                                   line=line_no, kind="json")
    except DataUnreadable as exc:
        return exc.problem
    if line_no == 0:
        return DataProblem("the file is empty", line=1, kind="empty")
    return None


def read_jsonl(path: Source) -> pa.Table:
    import pyarrow as pa
    import pyarrow.json as pjson

    with _stream(path) as fh:
        if not fh.read(1 << 16).strip():
            raise DataUnreadable(DataProblem("the file is empty", line=1, kind="empty"))
    try:
        with _stream(path) as fh:
            table = pjson.read_json(fh, read_options=pjson.ReadOptions(block_size=_BLOCK))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        problem = locate_jsonl_problem(path)
        if problem is None:
            # Valid JSON on every line, yet pyarrow refused: a field changes type between lines.
            problem = DataProblem(f"the JSON Lines cannot be read as one table ({_arrow_reason(exc)})",
                                  kind="json")
        raise DataUnreadable(problem) from None
    _check_table(table, path)
    return table


def read_table(path: str | Path, fmt: DataFormat, csv_options: CsvOptions | None = None) -> pa.Table:
    """Read any supported format into an Arrow table. Raises DataUnreadable, InputNotFoundError.

    The file is opened once (:class:`InputFile`) for every pass the reader makes.
    """
    with InputFile(path) as src:
        try:
            if fmt == "csv":
                return read_csv(src, csv_options or default_csv_options(src.path))
            if fmt == "parquet":
                return read_parquet(src)
            return read_jsonl(src)
        except DECOMPRESSION_ERRORS as exc:
            if src.compression is None:
                raise
            raise DataUnreadable(DataProblem(f"the {src.compression} stream is corrupt or truncated "
                                             f"({type(exc).__name__})", kind="compression")) from None
