"""SIGTERM handling shared by the backends: a cancelled KFP run must not leave a step running.

KFP cancels a run by deleting its pods: the launcher gets SIGTERM, then SIGKILL
after the grace period. :func:`cancel_on_signals` turns SIGTERM into
:class:`StepCancelled` so that the backend's cleanup (kill the sandbox, delete
the Job) runs; :func:`signals_deferred` holds further signals while it does.
Signal handlers can only be installed in the main thread; elsewhere both are
no-ops (the caller owns signal handling).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kfp_gates.components.common.errors import InfrastructureError


class StepCancelled(InfrastructureError):
    """The launcher received SIGTERM (or SIGINT during cleanup); what it created was removed (exit 3)."""


@contextmanager
def cancel_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`StepCancelled` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handler(signum: int, frame: object) -> None:
        raise StepCancelled(f"received {signal.Signals(signum).name}; cancelling the step and cleaning up")

    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Hold SIGTERM/SIGINT while cleaning up, so a second signal cannot leave things behind.

    Yields the list of signals that arrived meanwhile.
    """
    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    prev_term = signal.signal(signal.SIGTERM, lambda s, f: pending.append(s))
    prev_int = signal.signal(signal.SIGINT, lambda s, f: pending.append(s))
    try:
        yield pending
    finally:
        signal.signal(signal.SIGTERM, prev_term)
        signal.signal(signal.SIGINT, prev_int)
