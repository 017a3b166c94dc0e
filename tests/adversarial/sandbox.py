"""One long-lived loader worker inside ONE local sandbox, fed over a FIFO, restarted after a crash.

Starting a sandbox per input costs about a second (namespaces, interpreter, numpy/sklearn
imports); the fuzzer explores hundreds of inputs a second. So :class:`SandboxedLoader` starts
:mod:`tests.adversarial._worker` once, under
:class:`~kfp_gates.components.isolation.local.LocalNamespaceBackend` (no network, read-only
host filesystem, private ``/tmp``, no capabilities, an unprivileged uid when the launcher is
root), and hands it files through a spool directory bound read-only into the sandbox. Requests
go over a FIFO in that directory, answers come back on the worker's stdout. When a load kills
the worker (segfault, memory limit, ``SIGALRM`` on a hang) the answer is ``crashed`` and the
next load starts a fresh worker with a fresh FIFO, so no stale request reaches it.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kfp_gates.components.isolation.interface import Limits, StepSpec
from kfp_gates.components.isolation.local import LocalNamespaceBackend

WORKER = Path(__file__).with_name("_worker.py")
START_TIMEOUT = 90.0


def interpreter_paths() -> tuple[Path, ...]:
    """What a sandboxed ``sys.executable`` needs to be visible: the base interpreter and the venv (no duplicates)."""
    out: list[Path] = []
    for p in (Path(sys.base_prefix).resolve(), Path(sys.prefix)):
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return tuple(out)


class SandboxBroken(RuntimeError):
    """The worker could not be started in the sandbox (the fuzzer cannot run; it never runs unconfined)."""


@dataclass
class LoadResult:
    """What the real loader did with one input."""

    events: list[list[str]] = field(default_factory=list)
    globals: list[str] = field(default_factory=list)
    error: str | None = None
    crashed: bool = False

    @property
    def dangerous(self) -> bool:
        return bool(self.events)

    def signature(self) -> tuple:
        """A coarse outcome, for coverage feedback: which events, which globals, which error type."""
        kind = (self.error or "").split(":", 1)[0]
        return (tuple(sorted({e[0] for e in self.events})), tuple(sorted(set(self.globals)))[:12], kind,
                self.crashed)


class SandboxedLoader:
    """Loads files with the real loaders inside the local sandbox. Use as a context manager."""

    def __init__(self, *, load_timeout: int = 5, lifetime: float = 4 * 3600.0) -> None:
        self.load_timeout = load_timeout
        self.lifetime = lifetime
        self.spool = Path(tempfile.mkdtemp(prefix="kfpg-fuzz-spool-"))
        os.chmod(self.spool, 0o755)  # the worker runs as nobody when the launcher is root
        self.restarts = -1
        self._gen = 0
        self._seq = 0
        self._proc: _Generation | None = None
        self.stderr_path = self.spool.parent / (self.spool.name + ".stderr")

    def __enter__(self) -> SandboxedLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stop()
            self._proc = None
        shutil.rmtree(self.spool, ignore_errors=True)
        self.stderr_path.unlink(missing_ok=True)

    def load(self, data: bytes, loader: str, suffix: str) -> LoadResult:
        """Write ``data`` to the spool and load it with ``loader`` in the sandbox."""
        if self._proc is None or not self._proc.alive():
            self._start()
        assert self._proc is not None
        self._seq += 1
        path = self.spool / f"in-{self._seq}{suffix}"
        path.write_bytes(data)
        os.chmod(path, 0o644)
        try:
            answer = self._proc.ask(
                {"id": self._seq, "path": str(path), "loader": loader, "timeout": self.load_timeout},
                self.load_timeout + 10,
            )
        finally:
            path.unlink(missing_ok=True)
        if answer is None:
            self._proc.stop()
            self._proc = None
            return LoadResult(crashed=True, error="worker died")
        return LoadResult(events=answer["events"], globals=answer["globals"], error=answer["error"])

    def _start(self) -> None:
        if self._proc is not None:
            self._proc.stop()
        self._gen += 1
        self.restarts += 1
        fifo = self.spool / f"requests-{self._gen}"
        os.mkfifo(fifo, 0o666)
        os.chmod(fifo, 0o666)
        self._proc = _Generation(fifo, self.spool, self.stderr_path, self.lifetime)


class _Generation:
    """One worker process in one sandbox."""

    def __init__(self, fifo: Path, spool: Path, stderr_path: Path, lifetime: float) -> None:
        self.fifo = fifo
        # O_RDWR: never blocks waiting for the reader, and the worker's open() does not block either.
        self.requests = os.open(fifo, os.O_RDWR)
        read, write = os.pipe()
        self.answers = read
        self.buffer = b""
        err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        backend = LocalNamespaceBackend(stdout=write, stderr=err)
        step = StepSpec(
            argv=(sys.executable, "-I", str(WORKER), str(fifo)),
            # The interpreter and the venv may live under hidden paths (/root/.pyenv, a checkout under the
            # sandbox's private /tmp): bind them, and the worker, back read-only.
            inputs=(spool, *interpreter_paths(), WORKER),
            env={"PATH": "/usr/bin:/bin"},
            timeout=lifetime,
            limits=Limits(memory=3 << 30, file_size=1 << 20, processes=256),
        )
        self.outcome: object = None
        self.thread = threading.Thread(target=self._run, args=(backend, step), daemon=True)
        self.thread.start()
        try:
            ready = self._line(START_TIMEOUT)
            if ready is None or "ready" not in ready:
                raise SandboxBroken(f"loader worker did not start in the sandbox: {self.outcome}; see {stderr_path}")
        finally:
            os.close(write)  # after the worker holds it: EOF on `answers` now means the worker died
            os.close(err)

    def _run(self, backend: LocalNamespaceBackend, step: StepSpec) -> None:
        try:
            self.outcome = backend.run(step)
        except Exception as exc:  # noqa: BLE001 - reported by the start-up check
            self.outcome = exc

    def alive(self) -> bool:
        return self.thread.is_alive()

    def _line(self, timeout: float) -> dict | None:
        import time

        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.answers], [], [], min(left, 0.5))
            if not ready:
                if not self.thread.is_alive() and not self._pending():
                    return None
                continue
            chunk = os.read(self.answers, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def _pending(self) -> bool:
        ready, _, _ = select.select([self.answers], [], [], 0)
        return bool(ready)

    def ask(self, request: dict, timeout: float) -> dict | None:
        os.write(self.requests, json.dumps(request).encode() + b"\n")
        while True:
            answer = self._line(timeout)
            if answer is None or answer.get("id") == request["id"]:
                return answer

    def stop(self) -> None:
        for fd in (self.requests, self.answers):
            try:
                os.close(fd)
            except OSError:
                pass
        # Closing the FIFO's only writer ends the worker's read loop; a hung worker dies at its alarm.
        self.thread.join(timeout=15)
        try:
            self.fifo.unlink()
        except OSError:
            pass
