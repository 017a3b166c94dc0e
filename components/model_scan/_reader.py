"""A forward-only byte window over a file, a decompressing stream or bytes in memory.

The opcode walker works on a ``bytes`` buffer and an index into it, which is
the fastest thing CPython can index. This reader owns that buffer: it refills
it from the underlying stream when the walker needs bytes past its end, and
it skips large payloads (joblib array data, torch storages) by seeking or by
reading and discarding, so a file of any size is scanned with a bounded
window and never read whole.
"""

from __future__ import annotations

import io
from typing import Any, Protocol

from .errors import LimitExceeded, Truncated


class Readable(Protocol):
    """What the scanner reads from: files, archive members, decompressing streams."""

    def read(self, n: int = -1, /) -> bytes: ...


WINDOW = 1 << 20  # bytes read per refill: refills stay rare, and a read before a skipped payload wastes little


class Reader:
    """A window ``buf`` whose first byte is at absolute offset ``base`` of the stream.

    ``fill`` and ``skip`` take the walker's index into ``buf`` and return the
    new index (the buffer may have been replaced). Both raise
    :class:`Truncated` when the stream ends first, and :class:`LimitExceeded`
    when more than ``max_bytes`` would be consumed (decompression bombs).
    """

    __slots__ = ("_chunk", "_fh", "_seekable", "_size", "base", "buf", "consumed", "eof", "max_bytes")

    def __init__(
        self,
        *,
        data: bytes | None = None,
        fh: Readable | None = None,
        size: int | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.buf: bytes = data if data is not None else b""
        self.base = 0
        self._fh = fh
        self.eof = fh is None
        self._size = size if fh is not None else len(self.buf)
        self._seekable = bool(fh is not None and size is not None and _seekable(fh))
        self.max_bytes = max_bytes
        self.consumed = len(self.buf)  # bytes taken from the underlying stream so far
        self._chunk = WINDOW

    @classmethod
    def from_bytes(cls, data: bytes) -> Reader:
        """A reader over bytes in memory, read in windows like a file.

        Windows (not one buffer) give the walker regular refill points, where it checks
        its bounds (stack size) without a test on every opcode.
        """
        return cls(fh=io.BytesIO(data), size=len(data))

    # ------------------------------------------------------------------
    def offset(self, pos: int) -> int:
        """Absolute stream offset of index ``pos`` of the current window."""
        return self.base + pos

    def _read(self, n: int) -> bytes:
        assert self._fh is not None
        chunk = self._fh.read(n)
        self.consumed += len(chunk)
        if self.max_bytes is not None and self.consumed > self.max_bytes:
            raise LimitExceeded(f"stream exceeds the bound of {self.max_bytes} bytes", self.consumed)
        if len(chunk) < n:
            self.eof = True
        return chunk

    def fill(self, pos: int, need: int, *, partial: bool = False) -> int:
        """Make ``buf[pos:pos+need]`` available; return the (possibly new) index of ``pos``.

        With ``partial`` the stream may end first (fewer bytes are then available);
        otherwise that raises :class:`Truncated`.
        """
        if pos + need <= len(self.buf):
            return pos
        if self.eof:
            if partial:
                return pos
            raise Truncated(self.base + len(self.buf))
        rest = self.buf[pos:]
        parts = [rest]
        have = len(rest)
        while have < need and not self.eof:
            chunk = self._read(max(self._chunk, need - have))
            # Read-ahead grows back to the full window after a seek (see skip).
            self._chunk = min(self._chunk * 2, WINDOW)
            parts.append(chunk)
            have += len(chunk)
        self.base += pos
        self.buf = parts[1] if len(parts) == 2 and not rest else b"".join(parts)
        if have < need and not partial:
            raise Truncated(self.base + have)
        return 0

    def skip(self, pos: int, n: int) -> int:
        """Advance ``n`` bytes past index ``pos`` without keeping them; return the new index."""
        if n < 0:
            raise Truncated(self.base + pos)
        if pos + n <= len(self.buf):
            return pos + n
        if self.eof:
            raise Truncated(self.base + len(self.buf))
        remaining = n - (len(self.buf) - pos)
        self.base += len(self.buf)
        self.buf = b""
        if self._seekable:
            assert self._fh is not None and self._size is not None
            if self.base + remaining > self._size:
                raise Truncated(self._size)
            # Skipping by seek: raw array payloads are never read, only their bounds checked.
            fh: Any = self._fh
            fh.seek(remaining, io.SEEK_CUR)
            # After a payload the next opcodes are usually few: read ahead a little, not a window.
            self._chunk = 1 << 16
            self.base += remaining
            self.consumed += remaining
            if self.base == self._size:
                self.eof = True
            return 0
        while remaining > 0:
            chunk = self._read(min(WINDOW, remaining))
            if not chunk:
                raise Truncated(self.base)
            remaining -= len(chunk)
            self.base += len(chunk)
        return 0

    def take(self, pos: int, n: int) -> tuple[bytes, int]:
        """Return ``n`` bytes from ``pos`` (copied) and the index after them."""
        pos = self.fill(pos, n)
        return self.buf[pos : pos + n], pos + n


def _seekable(fh: Readable) -> bool:
    try:
        return bool(fh.seekable())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
