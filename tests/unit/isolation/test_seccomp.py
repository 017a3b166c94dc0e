"""The seccomp program that keeps Unix-domain sockets out of the sandbox, instruction by behaviour.

Each check forks, installs the filter in the child only, and reports what the
kernel answered, so the test process itself stays unfiltered.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import socket
import struct

import pytest

from kfp_gates.components.isolation import _nsinit

MACHINE = os.uname().machine
pytestmark = pytest.mark.skipif(MACHINE not in _nsinit.SECCOMP_ARCH, reason=f"no filter for {MACHINE}")


def _in_filtered_child(probe: str) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read)
            _nsinit.block_unix_sockets()
            out = PROBES[probe]()
            os.write(write, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), status
    return json.loads(data)


def _errno_of(fn) -> int:
    try:
        fn()
    except OSError as exc:
        return exc.errno or -1
    return 0


def _sockets() -> dict:
    def inet() -> None:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()

    def pair() -> None:
        for s in socket.socketpair():
            s.close()

    return {
        "unix_stream": _errno_of(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)),
        "unix_dgram": _errno_of(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)),
        "inet": _errno_of(inet),
        "inet6": _errno_of(lambda: socket.socket(socket.AF_INET6).close()),
        "socketpair": _errno_of(pair),
    }


def _raw_syscalls() -> dict:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    out = {}
    _, nr_socket = _nsinit.SECCOMP_ARCH[MACHINE]
    # socket(AF_UNIX) with garbage in the upper half of the int argument: the kernel ignores it, so must we.
    for name, nr, args in (
        ("io_uring_setup", 425, (1, 0)),
        ("unix_high_bits", nr_socket, ((1 << 32) | 1, 1, 0)),
        ("x32_socket", 0x40000000 | 41, (1, 1, 0)),
    ):
        if name == "x32_socket" and MACHINE != "x86_64":
            continue
        ctypes.set_errno(0)
        rc = libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
        out[name] = ctypes.get_errno() if rc == -1 else 0
    return out


PROBES = {"sockets": _sockets, "raw": _raw_syscalls}


def test_unix_sockets_are_refused_and_other_sockets_are_not() -> None:
    assert _in_filtered_child("sockets") == {
        "unix_stream": errno.EACCES,
        "unix_dgram": errno.EACCES,
        "inet": 0,
        "inet6": 0,
        "socketpair": 0,  # a pair reaches only itself; asyncio and multiprocessing.Pipe need it
    }


def test_io_uring_and_the_x32_abi_are_refused() -> None:
    got = _in_filtered_child("raw")
    assert got["io_uring_setup"] == errno.ENOSYS
    assert got["unix_high_bits"] == errno.EACCES
    if MACHINE == "x86_64":
        assert got["x32_socket"] == errno.ENOSYS


def test_without_the_filter_the_same_probe_gets_a_unix_socket() -> None:
    """Control: the probe itself works, so the refusal above is the filter's doing."""
    assert _errno_of(lambda: socket.socket(socket.AF_UNIX).close()) == 0


def test_program_shape_and_unknown_architectures() -> None:
    prog = _nsinit.unix_socket_filter("x86_64")
    assert len(prog) % 8 == 0
    first = struct.unpack("=HBBI", prog[:8])
    assert first == (0x20, 0, 0, 4)  # loads seccomp_data.arch first
    last = struct.unpack("=HBBI", prog[-8:])
    assert last == (0x06, 0, 0, _nsinit.SECCOMP_RET_KILL_PROCESS)  # a foreign architecture is killed
    with pytest.raises(_nsinit.SetupError, match="no seccomp filter for architecture"):
        _nsinit.unix_socket_filter("mips")
