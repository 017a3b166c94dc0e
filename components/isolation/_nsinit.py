r"""Set-up inside the sandbox's namespaces: filesystem view, network, limits; then exec the tail.

Two ways in, same code (:mod:`kfp_gates.components.isolation.local` picks):

* fast path, :func:`run_in_child`: called by the launcher between fork and exec
  (``preexec_fn``); unshare(2) creates the namespaces, no interpreter starts;
* script path, :func:`main`: ``unshare [...] -- python -I -S _nsinit.py CONFIG``,
  for launchers with threads running (``preexec_fn`` is not safe with threads).
  Stdlib only, imports nothing from kfp-gates; ``-I -S`` ignores PYTHON*
  variables and site-packages. It reports on a status descriptor: ``K`` then
  EOF when the tail started, ``E<message>`` (and exit 125) when set-up failed.

:func:`prepare`, as root of the new mount namespace:

1. binds the host filesystem under a staging root and remounts every mount
   read-only (repeating the flags the kernel locks: nosuid, nodev, noexec, atime);
2. hides where credentials and host sockets live (``/run``, ``/home``, ``/root``,
   extra paths) behind empty read-only tmpfs; gives a private ``/tmp`` and
   ``/var/tmp`` and a minimal ``/dev``;
3. binds inputs read-only and the output directory read-write at their own paths;
4. ``pivot_root``\ s into the staging root and detaches the host root;
5. brings up loopback (the only interface of the new network namespace), sets
   the hostname and rlimits, and returns the tail (:func:`tail`): ``unshare
   --pid --fork --kill-child --mount-proc`` then ``setpriv`` dropping every
   capability (and, for a root launcher, to an unprivileged uid), then the step.

Last, just before exec, a seccomp filter (:func:`block_unix_sockets`) that
refuses Unix-domain sockets: they reach past the network namespace.
"""

from __future__ import annotations  # annotations are never evaluated: no typing import at run time

import ctypes
import errno
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    Config = dict[str, Any]

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG = 1
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
# Flags the kernel locks on mounts inherited from a more privileged namespace: a
# read-only remount must repeat them or it fails with EPERM.
_KEEP = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME

SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}
SIOCSIFFLAGS = 0x8914
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SetupError(Exception):
    pass


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        e = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(e)} (errno {errno.errorcode.get(e, e)})")


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(_b(src), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def remount_ro(path: str, extra: int = 0) -> None:
    """Make the mount at ``path`` read-only, repeating its locked flags."""
    keep = os.statvfs(path).f_flag & _KEEP  # ST_* values equal MS_* for these bits
    mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep | extra)


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts_under(root: str) -> list[str]:
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            mp = _unescape(line.split()[4])
            if mp == root or mp.startswith(root + "/"):
                out.append(mp)
    # Parents before children, so a child's remount is not undone by its parent's.
    return sorted(set(out), key=lambda p: (p.count("/"), p))


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def make_mountpoint(root: str, path: str, is_dir: bool) -> str:
    """Create ``root+path`` (and parents) as an empty dir or file if it does not exist."""
    full = root + path
    if os.path.lexists(full):
        return full
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if is_dir:
        os.mkdir(full)
    else:
        with open(full, "x"):
            pass
    return full


def build_root(cfg: Config) -> None:
    root = cfg["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("/", root, None, MS_BIND | MS_REC)
    # /dev is replaced below; /proc is covered by a fresh one for the new PID
    # namespace (``unshare --mount-proc`` in the tail), so neither is remounted.
    skip = (root + "/proc", root + "/dev")
    for mp in mounts_under(root):
        if any(_inside(mp, s) for s in skip):
            continue
        try:
            remount_ro(mp)
        except SetupError as exc:
            if not os.path.exists(mp):
                continue  # a mount hidden under another one; not reachable
            raise SetupError(f"cannot make {mp[len(root) :] or '/'} read-only: {exc}") from None

    # Writable private scratch, and empty read-only masks over credential/socket locations.
    scratch = cfg.get("tmp_size") or "512m"
    writable_masks = []
    for path in ("/tmp", "/var/tmp"):  # noqa: S108 - private tmpfs inside the sandbox
        if os.path.isdir(root + path) and not os.path.islink(root + path):
            mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={scratch}")
            writable_masks.append(path)
    ro_masks = []
    for path in cfg.get("hide", []):
        full = root + path
        if os.path.islink(full) or not os.path.exists(full):
            continue
        if os.path.isdir(full):
            mount("tmpfs", full, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m")
            ro_masks.append(path)
        else:
            mount("/dev/null", full, None, MS_BIND)
            remount_ro(full)

    # Minimal /dev: device nodes cannot be created in a user namespace, so bind the host's.
    dev = root + "/dev"
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m")
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        if os.path.exists("/dev/" + name):
            make_mountpoint(root, "/dev/" + name, is_dir=False)
            mount("/dev/" + name, dev + "/" + name, None, MS_BIND)
    os.mkdir(dev + "/shm")
    mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={scratch}")
    for link, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, dev + "/" + link)

    masked = writable_masks + ro_masks
    for src, dst in cfg.get("inputs", []):
        is_dir = os.path.isdir(src)
        if any(_inside(dst, m) for m in masked):
            make_mountpoint(root, dst, is_dir)
        elif not os.path.exists(root + dst):
            raise SetupError(f"input mount point {dst} does not exist in the read-only filesystem")
        mount(src, root + dst, None, MS_BIND)
        remount_ro(root + dst)
    for src, dst in cfg.get("outputs", []):
        if any(_inside(dst, m) for m in masked):
            make_mountpoint(root, dst, True)
        elif not os.path.isdir(root + dst):
            raise SetupError(f"output mount point {dst} is not a directory in the read-only filesystem")
        mount(src, root + dst, None, MS_BIND)
    for path in ro_masks:
        remount_ro(root + path)
    remount_ro(dev)

    os.chdir(root)
    _check(_libc.syscall(SYS_PIVOT_ROOT[os.uname().machine], b".", b"."), "pivot_root")
    # The old root is now stacked on "/": detach it, leaving only the new view.
    _check(_libc.umount2(b".", MNT_DETACH), "detach old root")
    os.chdir("/")


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING))


def set_limits(limits: dict[str, int | None]) -> None:
    names = {
        "memory": resource.RLIMIT_AS,
        "cpu_seconds": resource.RLIMIT_CPU,
        "file_size": resource.RLIMIT_FSIZE,
        "processes": resource.RLIMIT_NPROC,
        "open_files": resource.RLIMIT_NOFILE,
    }
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a core dump could carry secrets out
    for key, rl in names.items():
        value = limits.get(key)
        if value is not None:
            resource.setrlimit(rl, (int(value), int(value)))


def which(cmd: str, path: str) -> str | None:
    if "/" in cmd:
        return cmd if os.access(cmd, os.X_OK) and not os.path.isdir(cmd) else None
    for d in path.split(":"):
        full = os.path.join(d or ".", cmd)
        if os.access(full, os.X_OK) and not os.path.isdir(full):
            return full
    return None


def enter(userns: bool, uid: int, gid: int) -> None:
    """unshare(2) the mount, network, IPC, UTS and cgroup namespaces (and the user namespace).

    With ``userns`` the caller's ``uid``/``gid`` become root inside, as
    ``unshare --map-root-user`` does. The PID namespace comes later, from the
    tail, because only a process forked after it is inside it.
    """
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
    if userns:
        flags |= CLONE_NEWUSER
    _check(_libc.unshare(flags), "cannot create namespaces (unshare)")
    if userns:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)


def tail(cfg: Config, exe: str) -> list[str]:
    """The exec chain that finishes the sandbox and runs the step.

    ``unshare --pid --fork --kill-child --mount-proc``: a new PID namespace with
    its own /proc, whose first process is a shell waiting for the step (when it
    ends the kernel kills the rest, and when the launcher kills unshare it takes
    the namespace down);
    ``setpriv``: drop to the unprivileged uid (launcher is root), empty the
    inheritable, ambient and bounding capability sets, set no_new_privs.
    """
    drop = ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    if cfg.get("run_as"):
        uid, gid = cfg["run_as"]
        drop = [f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *drop]
    # A shell is PID 1, the step its child: PID 1 ignores signals it has no handler
    # for (SIGTERM, SIGXCPU, SIGSEGV from kill...), the step must not. The shell
    # returns the step's status, 128+N when a signal N killed it.
    init = ["/bin/sh", "-c", '"$@" & wait $!', "kfp-gates-init"]
    return [
        cfg["unshare"], "--pid", "--fork", "--kill-child", "--mount-proc", "--",
        cfg["setpriv"], *drop, "--", *init, exe, *cfg["argv"][1:],
    ]  # fmt: skip


def prepare(cfg: Config) -> list[str]:
    """Everything inside the new namespaces before the tail: filesystem, network, limits. Returns the tail."""
    build_root(cfg)
    if cfg.get("hostname"):
        name = cfg["hostname"].encode()
        _check(_libc.sethostname(name, len(name)), "sethostname")
    loopback_up()
    os.chdir(cfg.get("workdir") or "/tmp")  # noqa: S108 - the sandbox's private tmpfs
    exe = which(cfg["argv"][0], cfg["env"].get("PATH", "/usr/bin:/bin"))
    if exe is None:
        raise SetupError(f"command not found inside the sandbox: {cfg['argv'][0]}")
    for tool in (cfg["unshare"], cfg["setpriv"], "/bin/sh"):
        if not os.access(tool, os.X_OK):
            raise SetupError(f"{tool} is not executable inside the sandbox")
    set_limits(cfg.get("limits", {}))
    return tail(cfg, exe)


# --- seccomp: no Unix-domain sockets -------------------------------------------------
#
# A network namespace does not cover Unix-domain sockets bound to a path: any
# socket file the step can see (in an input, the working directory, a host
# directory left visible) is reachable with connect(), and a read-only mount does
# not stop it (the kernel checks write permission on the socket inode only). So
# the step may not create AF_UNIX sockets at all: socket(AF_UNIX, ...) fails with
# EACCES. socketpair(AF_UNIX) stays allowed: a pair is connected only to itself
# (asyncio's self-pipe and multiprocessing.Pipe need it) and reaches nothing.
# io_uring is refused too (IORING_OP_SOCKET creates sockets without socket(2));
# on x86_64 the x32 ABI is refused and a foreign architecture (a 32-bit binary,
# whose socketcall(2) multiplexer would need its own rules) is killed.
#
# Hand-assembled rather than built with libseccomp: this module is stdlib-only (it
# runs as ``python -I -S`` and between fork and exec), the program is a dozen
# instructions, and it adds no run-time dependency to the component image. The
# behaviour is tested instrument by instrument in tests/unit/isolation/test_seccomp.py.

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
_BPF_LD_W_ABS, _BPF_JEQ_K, _BPF_JGE_K, _BPF_RET_K = 0x20, 0x15, 0x35, 0x06
_X32_SYSCALL_BIT = 0x40000000
AF_UNIX = 1
# machine -> (AUDIT_ARCH_*, socket(2) number); io_uring_* are 425-427 on every architecture.
SECCOMP_ARCH = {
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
    "riscv64": (0xC00000F3, 198),
}
_IO_URING = (425, 426, 427)


def unix_socket_filter(machine: str) -> bytes:
    """The classic-BPF seccomp program (``struct sock_filter[]``, native byte order) described above.

    Raises :class:`SetupError` on an architecture it has no numbers for: the
    sandbox then refuses to start rather than run without the filter.
    """
    if machine not in SECCOMP_ARCH:
        raise SetupError(f"no seccomp filter for architecture {machine}; cannot block Unix-domain sockets")
    arch, nr_socket = SECCOMP_ARCH[machine]
    eacces, enosys = SECCOMP_RET_ERRNO | errno.EACCES, SECCOMP_RET_ERRNO | errno.ENOSYS
    # (opcode, jump-if-true label, jump-if-false label, k); labels resolve to relative jumps.
    prog: list[tuple[int, str | None, str | None, int] | str] = [
        (_BPF_LD_W_ABS, None, None, 4),  # seccomp_data.arch
        (_BPF_JEQ_K, "native", "kill", arch),
        "native",
        (_BPF_LD_W_ABS, None, None, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":
        prog.append((_BPF_JGE_K, "enosys", "not_x32", _X32_SYSCALL_BIT))
        prog.append("not_x32")
    for nr in _IO_URING:
        prog.append((_BPF_JEQ_K, "enosys", None, nr))
    prog += [
        (_BPF_JEQ_K, "socket", "allow", nr_socket),
        "socket",
        (_BPF_LD_W_ABS, None, None, 16),  # low 32 bits of args[0] (little-endian): the domain, an int
        (_BPF_JEQ_K, "eacces", "allow", AF_UNIX),
        "allow",
        (_BPF_RET_K, None, None, SECCOMP_RET_ALLOW),
        "eacces",
        (_BPF_RET_K, None, None, eacces),
        "enosys",
        (_BPF_RET_K, None, None, enosys),
        "kill",
        (_BPF_RET_K, None, None, SECCOMP_RET_KILL_PROCESS),
    ]
    labels: dict[str, int] = {}
    code: list[tuple[int, str | None, str | None, int]] = []
    for item in prog:
        if isinstance(item, str):
            labels[item] = len(code)
        else:
            code.append(item)
    out = b""
    for pc, (op, jt, jf, k) in enumerate(code):
        rel_t = labels[jt] - pc - 1 if jt else 0
        rel_f = labels[jf] - pc - 1 if jf else 0
        out += struct.pack("=HBBI", op, rel_t, rel_f, k)
    return out


def block_unix_sockets(machine: str | None = None) -> None:
    """Install :func:`unix_socket_filter` on this thread; inherited across fork and exec, never removable."""
    program = unix_socket_filter(machine or os.uname().machine)
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("@HP", len(program) // 8, ctypes.addressof(buf))  # struct sock_fprog
    fbuf = ctypes.create_string_buffer(fprog, len(fprog))
    # seccomp needs no_new_privs (or CAP_SYS_ADMIN); the tail sets it again with setpriv.
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")
    _check(
        _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fbuf), 0, 0),
        "install the seccomp filter that blocks Unix-domain sockets",
    )


def die_with_launcher(launcher_pid: int) -> None:
    """SIGKILL this process (and so, through ``--kill-child``, the sandbox) if the launcher dies.

    Survives the exec of the tail; checked against the launcher's pid to close
    the race where the launcher died before the request was made.
    """
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "set parent-death signal")
    if os.getppid() != launcher_pid:
        raise SetupError("the launcher exited during set-up")


def run_in_child(cfg: Config) -> None:
    """Called between fork and exec in the launcher (subprocess ``preexec_fn``): set up, then exec the tail.

    Never returns. On failure writes ``E<message>`` to the status descriptor and
    raises, so the launcher's Popen fails and nothing runs.
    """
    status = cfg["status_fd"]
    os.set_inheritable(status, False)
    try:
        die_with_launcher(cfg["launcher_pid"])
        enter(cfg["userns"], cfg["uid"], cfg["gid"])
        argv = prepare(cfg)
        if cfg.get("block_unix_sockets", True):
            block_unix_sockets()
        os.execve(argv[0], argv, cfg["env"])  # noqa: S606 - the tail, no shell
    except BaseException as exc:
        os.write(status, b"E" + str(exc).encode("utf-8", "replace"))
        raise


def main() -> None:
    """Script entry (``python -I -S _nsinit.py CONFIG``) inside namespaces made by the ``unshare`` binary."""
    cfg = json.loads(sys.argv[1])
    status = cfg["status_fd"]
    os.set_inheritable(status, False)  # closes at exec: "K" then EOF means the tail started
    try:
        die_with_launcher(cfg["launcher_pid"])  # the unshare binary exec'd us: still the launcher's child
        argv = prepare(cfg)
        if cfg.get("block_unix_sockets", True):
            block_unix_sockets()
    except Exception as exc:  # noqa: BLE001 - any failure must refuse, never run unconfined
        os.write(status, b"E" + str(exc).encode("utf-8", "replace"))
        os._exit(125)
    os.write(status, b"K")
    try:
        os.execve(argv[0], argv, cfg["env"])  # noqa: S606 - the tail, no shell
    except OSError as exc:
        sys.stderr.write(f"kfp-gates sandbox: cannot execute {argv[0]}: {exc.strerror}\n")
        os._exit(126)


if __name__ == "__main__":
    main()
