"""Record and refuse outbound connections that are not to loopback.

Used to prove that a gate makes no network call (telemetry, downloads). It
patches ``socket.socket.connect`` / ``connect_ex`` and ``socket.getaddrinfo``
for the duration of a ``with`` block in this process.
"""

from __future__ import annotations

import ipaddress
import socket
from contextlib import contextmanager


class NetworkAttempt(AssertionError):
    pass


def _is_loopback(host: object) -> bool:
    if isinstance(host, str) and host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@contextmanager
def no_network():
    """Yield a list that collects every non-loopback connect/resolve attempt; each attempt also raises."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def _check(addr: object) -> None:
        if isinstance(addr, tuple) and addr and not _is_loopback(addr[0]):
            attempts.append(f"connect {addr!r}")
            raise NetworkAttempt(f"network connection attempted to {addr!r}")

    def connect(self, addr):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(addr)
        return real_connect(self, addr)

    def connect_ex(self, addr):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(addr)
        return real_connect_ex(self, addr)

    def getaddrinfo(host, *args, **kw):  # type: ignore[no-untyped-def]
        if not _is_loopback(host):
            attempts.append(f"resolve {host!r}")
            raise NetworkAttempt(f"name resolution attempted for {host!r}")
        return real_getaddrinfo(host, *args, **kw)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
