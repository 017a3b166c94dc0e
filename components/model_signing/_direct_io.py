"""Hash a byte range of a file read with ``O_DIRECT``: storage to an aligned buffer, no page cache.

Why: hashing from the page cache costs the kernel ~15% on top of sha256 (it
maps or copies every 4 KiB page); ``O_DIRECT`` reads DMA straight into the
caller's buffers. The catch is that the bytes then come from storage, so this
pays only where storage is at least as fast as the page cache, or where the
file is not cached anyway (``benchmarks/RESULTS.md``, model signing, has the
numbers for this machine).

How:

* the caller's descriptor is switched to ``O_DIRECT`` with ``fcntl`` (the very
  file that was opened, not a second open of a path that may have been
  replaced) and switched back afterwards;
* every read is aligned: offsets and lengths are multiples of :data:`ALIGN`
  (a multiple of every logical block size in use, 512 B and 4 KiB) into
  page-aligned anonymous ``mmap`` buffers. An unaligned head or tail is read as
  part of the aligned block around it and only the requested bytes are hashed,
  so there is no second, buffered code path to keep in step;
* a short read means end of file (``O_DIRECT`` returns a partial block at
  EOF); a file that ends before the range does raises the caller's error;
* double-buffering: a reader thread fills the next buffer while the calling
  thread hashes the current one (``preadv`` and ``hashlib`` both release the
  GIL), with :data:`BUFFERS` buffers of :data:`CHUNK` bytes per hashing
  thread, reused across ranges: memory is bounded whatever the file size.

A filesystem that refuses ``O_DIRECT`` (``EINVAL`` when the flag is set or on
the first read) makes :func:`hash_direct` return ``False`` having hashed
nothing, and the caller reads the range the ordinary way.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

O_DIRECT: int = getattr(os, "O_DIRECT", 0)
AVAILABLE = bool(O_DIRECT) and hasattr(os, "preadv")
ALIGN = 4096
CHUNK = 8 << 20
BUFFERS = 3  # one being hashed, one being read, one ready: the reader never waits on a fast hasher

Progress = Callable[[int], None]


class _Pool(threading.local):
    """:data:`BUFFERS` page-aligned buffers per hashing thread, made on first use and reused."""

    bufs: list[mmap.mmap] | None = None

    def get(self) -> list[mmap.mmap]:
        if self.bufs is None:
            bufs = [mmap.mmap(-1, CHUNK) for _ in range(BUFFERS)]
            for b in bufs:
                # Huge pages: fewer pages for the kernel to pin per read and fewer TLB misses while hashing.
                if hasattr(mmap, "MADV_HUGEPAGE"):
                    try:
                        b.madvise(mmap.MADV_HUGEPAGE)
                    except OSError:  # pragma: no cover - THP disabled
                        pass
            self.bufs = bufs
        return self.bufs


_pool = _Pool()


class _Refused(Exception):
    """The filesystem does not do O_DIRECT for this file (EINVAL on the first read)."""


def _set_direct(fd: int, on: bool) -> int:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, (flags | O_DIRECT) if on else (flags & ~O_DIRECT))
    return flags


def hash_direct(
    fd: int,
    start: int,
    length: int,
    h: Any,
    progress: Progress | None,
    shrank: Callable[[], BaseException],
    *,
    threaded: bool = True,
) -> bool:
    """Feed bytes ``[start, start + length)`` of ``fd`` to ``h.update`` in order, read with ``O_DIRECT``.

    Returns ``True`` when the range was hashed. Returns ``False``, having fed
    nothing to ``h``, when the filesystem refuses ``O_DIRECT``: the caller
    then reads the range another way. Raises ``shrank()`` when the file ends
    before the range does, and ``OSError`` for any other read error. The
    descriptor's flags are restored before returning; its file position is
    not used.
    """
    if not AVAILABLE or length <= 0:
        return False
    try:
        old_flags = _set_direct(fd, True)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise
    try:
        if threaded:
            _hash_threaded(fd, start, start + length, h, progress, shrank)
        else:
            _hash_inline(fd, start, start + length, h, progress, shrank)
        return True
    except _Refused:
        return False
    finally:
        fcntl.fcntl(fd, fcntl.F_SETFL, old_flags)


def _reads(start: int, end: int) -> tuple[int, int]:
    """The aligned span that covers ``[start, end)``."""
    lo = start - start % ALIGN
    hi = end + (-end) % ALIGN
    return lo, hi


def _read(fd: int, view: memoryview, off: int, hi: int, first: bool) -> int:
    """One aligned ``preadv`` at ``off`` of at most ``CHUNK`` bytes, not beyond ``hi``."""
    want = min(len(view), hi - off)
    try:
        return os.preadv(fd, [view[:want]], off)
    except OSError as exc:
        if first and exc.errno == errno.EINVAL:
            raise _Refused from None
        raise


def _feed(h: Any, view: memoryview, off: int, n: int, start: int, end: int, progress: Progress | None) -> None:
    """Hash the part of ``view[:n]`` (file bytes ``[off, off + n)``) that lies in ``[start, end)``."""
    a = max(start, off) - off
    b = min(end, off + n) - off
    if b > a:
        with view[a:b] as part:
            h.update(part)
        if progress is not None:
            progress(b - a)


def _hash_inline(
    fd: int, start: int, end: int, h: Any, progress: Progress | None, shrank: Callable[[], BaseException]
) -> None:
    """One buffer, read then hash, on the calling thread (the baseline the threaded reader is measured against)."""
    with memoryview(_pool.get()[0]) as view:
        off, hi = _reads(start, end)
        first = True
        while off < end:
            n = _read(fd, view, off, hi, first)
            first = False
            _feed(h, view, off, n, start, end, progress)
            off += n
            if n % ALIGN or n == 0:  # end of file: O_DIRECT returns the partial last block
                break
        if off < end:
            raise shrank()


_DONE = -1


def _hash_threaded(
    fd: int, start: int, end: int, h: Any, progress: Progress | None, shrank: Callable[[], BaseException]
) -> None:
    """A reader thread fills buffers while this thread hashes them, in file order."""
    bufs = _pool.get()
    views = [memoryview(b) for b in bufs]
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[int, int, int] | BaseException] = queue.SimpleQueue()
    for i in range(len(bufs)):
        free.put(i)
    stop = threading.Event()

    def reader() -> None:
        try:
            off, hi = _reads(start, end)
            first = True
            while off < end and not stop.is_set():
                i = free.get()
                if i == _DONE:
                    return
                n = _read(fd, views[i], off, hi, first)
                first = False
                full.put((i, off, n))
                off += n
                if n % ALIGN or n == 0:
                    break
            full.put((_DONE, off, 0))
        except BaseException as exc:  # noqa: BLE001 - handed to the hashing thread, which raises it
            full.put(exc)

    t = threading.Thread(target=reader, name="kfpg-direct-read", daemon=True)
    t.start()
    try:
        while True:
            item = full.get()
            if isinstance(item, BaseException):
                raise item
            i, off, n = item
            if i == _DONE:
                if off < end:
                    raise shrank()
                return
            _feed(h, views[i], off, n, start, end, progress)
            free.put(i)
    finally:
        stop.set()
        free.put(_DONE)  # wakes a reader waiting for a buffer
        t.join()
        for v in views:
            v.release()
