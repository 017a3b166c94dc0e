"""The subject digest of a scanned model, taken from the bytes the scan reads.

The model scan names its subject by the kfp-gates model digest
(:mod:`kfp_gates.components.common.digest`). Hashing the file in a second
read after the scan would prove nothing about the bytes that were scanned
(the file can change in between) and would read a multi-GB model twice. So:

* a file read whole is hashed from the very buffer the scanner walks, on a
  thread (hashlib releases the GIL), while the walk runs;
* a file scanned as a stream is read through :class:`HashingFile`, a tee that
  hands every chunk the scanner reads, in file order, to a hashing thread; a
  forward seek (a skipped array payload) is hashed by that thread from the
  same descriptor while the scanner goes on, and the end of the file after the
  scan stopped is hashed too. A backward seek (zip directories) re-reads bytes
  already hashed; :func:`identity` before and after the scan (inode, size,
  mtime and ctime, which no user can set) catches a file changed in between.

The scanner never opens the file a second time.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import threading
from typing import Any

_CHUNK = 1 << 20
_QUEUE = 32  # chunks in flight: bounds the memory the tee holds when hashing is slower than the walk
_THREADED_MIN = 1 << 20  # below this, a thread costs more than the hash


def identity(fd: int) -> tuple[int, int, int, int, int]:
    """What changes when a file's bytes change: device, inode, size, mtime_ns, ctime_ns."""
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class BufferHash:
    """sha256 of bytes already in memory, on a thread while the caller scans them."""

    def __init__(self, data: bytes) -> None:
        self._h = hashlib.sha256()
        self._thread: threading.Thread | None = None
        if len(data) < _THREADED_MIN:
            self._h.update(data)
        else:
            self._thread = threading.Thread(target=self._h.update, args=(data,), name="kfpg-scan-hash", daemon=True)
            self._thread.start()

    def hexdigest(self) -> str:
        if self._thread is not None:
            self._thread.join()
        return self._h.hexdigest()


class HashingFile(io.RawIOBase):
    """A read-only file object over ``fh`` that hashes, in order, every byte of the file exactly once.

    ``hexdigest()`` hashes whatever the scanner did not read (skipped ranges and
    the tail) and returns the sha256 of the whole file. Raises OSError if the
    file shrinks under it.
    """

    def __init__(self, fh: Any) -> None:
        super().__init__()
        self._fh = fh
        self._fd = fh.fileno()
        self._pos = fh.tell()
        self._frontier = 0  # bytes [0, frontier) are queued for hashing
        # A seek past the end (a crafted offset in a zip header) skips no byte of the file: nothing to hash there.
        self._size = os.fstat(self._fd).st_size
        self._h = hashlib.sha256()
        self._q: queue.Queue[bytes | memoryview | tuple[int, int] | None] = queue.Queue(_QUEUE)
        self._error: BaseException | None = None
        self._buf: memoryview | None = None  # the hashing thread's read buffer for skipped ranges
        self._thread = threading.Thread(target=self._work, name="kfpg-scan-hash", daemon=True)
        self._thread.start()

    # -- the hashing thread -------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            if self._error is not None:
                continue
            try:
                if isinstance(item, tuple):
                    self._hash_range(*item)
                else:
                    self._h.update(item)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread by hexdigest()
                self._error = exc

    def _hash_range(self, start: int, end: int) -> None:
        # preadv: the scanner's file position is untouched, and the bytes come from the same open file.
        # One buffer per tee, reused: a skipped multi-GB payload costs no allocation per chunk.
        if self._buf is None:
            self._buf = memoryview(bytearray(_CHUNK))
        view = self._buf
        off = start
        while off < end:
            n = os.preadv(self._fd, [view[: min(_CHUNK, end - off)]], off)
            if n <= 0:
                raise OSError(f"file shrank while it was scanned (at byte {off})")
            self._h.update(view[:n])
            off += n

    def _advance(self, upto: int) -> None:
        if upto > self._frontier:
            self._q.put((self._frontier, upto))
            self._frontier = upto

    # -- file object --------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = self._fh.seek(offset, whence)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        start = self._pos
        self._advance(min(start, self._size))  # a forward seek skipped [frontier, start): hash it from the file
        data = self._fh.read(n) if n is not None and n >= 0 else self._fh.read()
        end = start + len(data)
        if data and end > self._frontier:
            # (start > frontier only when the file grew past its size at open: identity() reports that change)
            self._q.put(memoryview(data)[max(0, self._frontier - start) :])
            self._frontier = end
        self._pos = end
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def hexdigest(self) -> str:
        """Hash the rest of the file, wait for the hashing thread, return the sha256 of every byte."""
        self._advance(os.fstat(self._fd).st_size)
        self._q.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._h.hexdigest()

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()
        super().close()
