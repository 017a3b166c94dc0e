"""A progress bar for hashing large models, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

_GIB = 1 << 30


class TerminalProgress:
    """Thread-safe byte counter that redraws one line at most ten times a second."""

    def __init__(self, total: int, label: str, stream: IO[str]) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream
        self.done = 0
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._last = 0.0

    def __call__(self, nbytes: int) -> None:
        with self._lock:
            self.done += nbytes
            now = time.monotonic()
            if now - self._last >= 0.1:
                self._last = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        frac = min(self.done / self.total, 1.0)
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        rate = self.done / max(now - self._t0, 1e-6) / _GIB
        self.stream.write(
            f"\r{self.label} [{bar}] {frac * 100:5.1f}%  {self.done / _GIB:.2f}/{self.total / _GIB:.2f} GiB  "
            f"{rate:.2f} GiB/s"
        )
        self.stream.flush()

    def close(self) -> None:
        with self._lock:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def terminal_progress(total: int, label: str, stream: IO[str] | None = None) -> TerminalProgress | None:
    """A bar on ``stream`` (default stderr) when it is a terminal, else None (logs stay clean)."""
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    return TerminalProgress(total, label, stream)
