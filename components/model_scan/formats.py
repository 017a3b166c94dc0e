"""Recognise a model file's format from its first bytes (never from its name).

The answer decides which analysis runs; a file no analysis understands is
reported as an unknown format, and any bytes that look like a pickle are
walked as one whatever the name says.
"""

from __future__ import annotations

import ast
import bz2
import itertools
import json
import lzma
import struct
import zlib
from enum import Enum
from typing import Any

from .errors import Corrupt


class Format(str, Enum):
    PICKLE = "pickle"
    ZIP = "zip"
    TAR = "tar"
    NPY = "numpy-npy"
    SAFETENSORS = "safetensors"
    GZIP = "gzip"
    ZLIB = "zlib"
    BZ2 = "bz2"
    XZ = "xz"
    LZMA = "lzma"
    JOBLIB_ZF = "joblib-zfile"
    LZ4 = "lz4"
    HDF5 = "hdf5"
    GGUF = "gguf"
    TEXT = "text"
    EMPTY = "empty"
    UNKNOWN = "unknown"

    @property
    def compressed(self) -> bool:
        return self in _COMPRESSED


_COMPRESSED = {Format.GZIP, Format.ZLIB, Format.BZ2, Format.XZ, Format.LZMA, Format.JOBLIB_ZF}
HEAD = 512

# Every byte a pickle opcode can start with (protocols 0-5).
OPCODES = frozenset(b"(.0125FIJKLMNPQRSTUVXabcdeghijloprstu}])GBC" + bytes(range(0x80, 0x99)))


def detect(head: bytes, size: int | None) -> Format:
    """The format of a stream that starts with ``head`` (at least 512 bytes when the stream has them)."""
    if not head:
        return Format.EMPTY
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return Format.ZIP
    if head[0] == 0x80 and len(head) > 1 and head[1] <= 5:  # PROTO n (writers use 2-5; loaders accept 0-5)
        return Format.PICKLE
    if head[:6] == b"\x93NUMPY":
        return Format.NPY
    if head[:2] == b"\x1f\x8b":
        return Format.GZIP
    if head[:6] == b"\xfd7zXZ\x00":
        return Format.XZ
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return Format.BZ2
    if head[:3] == b"\x5d\x00\x00":
        return Format.LZMA
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return Format.ZLIB
    if head[:2] == b"ZF" and _is_zfile(head):
        return Format.JOBLIB_ZF
    if head[:4] == b"\x04\x22\x4d\x18":
        return Format.LZ4
    if len(head) > 262 and head[257:262] == b"ustar":
        return Format.TAR
    if _is_v7_tar(head):  # pre-POSIX tar: no magic, only a header checksum (tarfile reads it)
        return Format.TAR
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return Format.HDF5
    if head[:4] == b"GGUF":
        return Format.GGUF
    if _is_safetensors(head, size):
        return Format.SAFETENSORS
    if b"\x00" not in head and _is_text(head, cut=size is None or size > len(head)):
        return Format.TEXT
    return Format.UNKNOWN


def _is_text(head: bytes, *, cut: bool) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Only a multi-byte character cut by the end of the head (the file goes on) is tolerated.
        return cut and exc.reason == "unexpected end of data"
    return True


def _is_v7_tar(head: bytes) -> bool:
    """A tar header block without the ustar magic whose checksum is right (how tarfile accepts v7 archives)."""
    if len(head) < 512 or head[0] == 0:
        return False
    field = head[148:156].replace(b"\x00", b" ").strip()
    if not field or any(c not in b"01234567" for c in field):
        return False
    want = int(field, 8)
    block = head[:148] + b" " * 8 + head[156:512]
    unsigned = sum(block)
    signed = sum(b - 256 if b > 127 else b for b in block)
    return want in (unsigned, signed)


def probe_decompress(fmt: Format, head: bytes) -> None:
    """Raise :class:`Corrupt` unless ``head`` starts a valid stream of the compressed format ``fmt``."""
    data = head[zfile_offset(head) :] if fmt is Format.JOBLIB_ZF else head
    _Decompressor(fmt).run(data, 1 << 16)


def _is_zfile(head: bytes) -> bool:
    """joblib < 0.10 'ZF' files: 'ZF', a hex length padded with spaces, then zlib data."""
    rest = head[2:40]
    i = 0
    while i < len(rest) and rest[i : i + 1] in b"0123456789abcdefx ":
        i += 1
    return i > 0 and i < len(rest) and rest[i] == 0x78


def _is_safetensors(head: bytes, size: int | None) -> bool:
    if len(head) < 9 or head[8:9] != b"{":
        return False
    (n,) = struct.unpack_from("<Q", head)
    return size is None or 2 <= n <= size - 8


def zfile_offset(head: bytes) -> int:
    """Where the zlib data of a joblib 'ZF' file starts."""
    i = 2
    while head[i : i + 1] in b"0123456789abcdefx ":
        i += 1
    return i


class _Decompressor:
    """One compressed stream of a single-stream format, decompressed in bounded steps."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self.zlib_like = fmt in (Format.ZLIB, Format.JOBLIB_ZF, Format.GZIP)
        if fmt in (Format.ZLIB, Format.JOBLIB_ZF):
            self._d: Any = zlib.decompressobj()
        elif fmt is Format.GZIP:
            self._d = zlib.decompressobj(wbits=31)
        elif fmt is Format.BZ2:
            self._d = bz2.BZ2Decompressor()
        elif fmt is Format.XZ:
            self._d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        elif fmt is Format.LZMA:
            self._d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
        else:
            raise ValueError(fmt)

    def run(self, data: bytes, max_length: int) -> bytes:
        try:
            return self._d.decompress(data, max_length)
        except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as exc:
            raise Corrupt(f"{self.fmt.value} data is corrupt: {exc}") from None

    def held_input(self) -> bytes:
        """Input already given but not yet decompressed (zlib keeps it outside the object)."""
        return bytes(self._d.unconsumed_tail) if self.zlib_like else b""

    def wants_input(self) -> bool:
        if self.zlib_like:
            return not self._d.unconsumed_tail
        return bool(self._d.needs_input)

    @property
    def eof(self) -> bool:
        return bool(self._d.eof)

    def unused(self) -> bytes:
        return bytes(self._d.unused_data)


class DecompressingStream:
    """A read-only, forward-only file object over decompressed data.

    Like the file objects joblib, gzip, bz2 and lzma use, it continues with a
    new stream when one compressed stream ends and input remains; input that
    is not a valid stream raises :class:`Corrupt`. ``read`` never produces
    more than asked, so memory stays bounded whatever the compression ratio;
    the consuming :class:`~._reader.Reader` enforces the size bound.
    """

    CHUNK = 1 << 20

    def __init__(self, raw: Any, fmt: Format, skip: int = 0) -> None:
        self._raw = raw
        self._fmt = fmt
        self._d: _Decompressor | None = _Decompressor(fmt)
        self._pending = b""  # raw input not yet given to a decompressor
        self._buf = b""
        self.done = False
        if skip:
            raw.read(skip)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def _produce(self, want: int) -> bytes:
        d = self._d
        if d is None or d.eof:
            rest = (d.unused() if d is not None else b"") + self._pending
            self._pending = b""
            if not rest:
                rest = self._raw.read(self.CHUNK)
            if not rest:
                self.done = True
                return b""
            d = self._d = _Decompressor(self._fmt if self._fmt is not Format.JOBLIB_ZF else Format.ZLIB)
            self._pending = rest
        if d.zlib_like:
            data = d.held_input() or self._pending or self._raw.read(self.CHUNK)
            self._pending = b""
        elif d.wants_input():
            data = self._pending or self._raw.read(self.CHUNK)
            self._pending = b""
        else:
            data = b""
        if not data and d.wants_input() and not d.eof:
            raise Corrupt(f"{self._fmt.value} stream is truncated")
        return d.run(data, max(want, 1 << 16))

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 62
        out = [self._buf[:n]]
        have = len(out[0])
        self._buf = self._buf[n:]
        while have < n and not self.done:
            chunk = self._produce(n - have)
            if len(chunk) > n - have:
                self._buf = chunk[n - have :]
                chunk = chunk[: n - have]
            out.append(chunk)
            have += len(chunk)
        return b"".join(out)


def npy_header(read: Any) -> tuple[dict[str, Any], int]:
    """Parse a .npy header from ``read(n)``; return (header dict, header length in bytes).

    Raises :class:`Corrupt` for anything numpy itself would refuse.
    """
    magic = read(8)
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY":
        raise Corrupt("not a numpy .npy header")
    major = magic[6]
    if major == 1:
        raw = read(2)
        if len(raw) < 2:
            raise Corrupt("truncated .npy header")
        (hlen,) = struct.unpack("<H", raw)
        used = 10
    elif major in (2, 3):
        raw = read(4)
        if len(raw) < 4:
            raise Corrupt("truncated .npy header")
        (hlen,) = struct.unpack("<I", raw)
        used = 12
    else:
        raise Corrupt(f"unsupported .npy format version {major}")
    if hlen > 1 << 20:
        raise Corrupt(".npy header longer than 1 MiB")
    text = read(hlen)
    if len(text) < hlen:
        raise Corrupt("truncated .npy header")
    try:
        header = ast.literal_eval(text.decode("utf-8" if major == 3 else "latin1"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        raise Corrupt(".npy header is not a Python literal") from None
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise Corrupt(".npy header lacks descr/fortran_order/shape")
    return header, used + hlen


def descr_has_object(descr: Any) -> bool:
    """True when a .npy ``descr`` (a type string or a structured list) contains Python objects."""
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(descr_has_object(x) for x in descr)
    return False


def safetensors_header(read: Any, size: int) -> dict[str, Any]:
    """Validate a safetensors header: length, JSON object, dtypes, offsets inside the file, no overlap.

    Raises :class:`Corrupt` with what is wrong.
    """
    raw = read(8)
    if len(raw) < 8:
        raise Corrupt("safetensors file shorter than its length prefix")
    (n,) = struct.unpack("<Q", raw)
    if n > min(size - 8, 100 << 20):
        raise Corrupt("safetensors header length is larger than the file (or than 100 MiB)")
    text = read(n)
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Corrupt(f"safetensors header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise Corrupt("safetensors header is not a JSON object")
    data_len = size - 8 - n
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise Corrupt("safetensors __metadata__ must map strings to strings")
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise Corrupt(f"safetensors tensor {name!r} needs exactly dtype, shape, data_offsets")
        dtype, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _ST_SIZES:
            raise Corrupt(f"safetensors tensor {name!r} has unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise Corrupt(f"safetensors tensor {name!r} has an invalid shape")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) for o in offs)
            or not 0 <= offs[0] <= offs[1] <= data_len
        ):
            raise Corrupt(f"safetensors tensor {name!r} has data offsets outside the file")
        count = 1
        for d in shape:
            count *= d
        if (count * _ST_SIZES[dtype] + 7) // 8 != (offs[1] - offs[0]) and _ST_SIZES[dtype] % 8 == 0:
            raise Corrupt(f"safetensors tensor {name!r}: size of shape x dtype differs from its data span")
        spans.append((offs[0], offs[1], name))
    spans.sort()
    for (_a0, a1, an), (b0, _b1, bn) in itertools.pairwise(spans):
        if b0 < a1:
            raise Corrupt(f"safetensors tensors {an!r} and {bn!r} overlap")
    return header


# bits per element
_ST_SIZES = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16,
    "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "F64": 64, "I64": 64, "U64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6,
    "F6_E3M2": 6, "F8_E4M3FN": 8, "F8_E5M2FNUZ": 8, "F8_E4M3FNUZ": 8,
}
