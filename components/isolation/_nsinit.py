"""The first program inside the sandbox's namespaces: build the filesystem view, drop privilege, exec.

Run by :mod:`kfp_gates.components.isolation.local` as
``unshare --user --map-root-user --net --mount --pid ... -- python -I -S _nsinit.py CONFIG``.
It is deliberately stdlib-only and imports nothing from kfp-gates: it starts
with ``-I -S`` (no site-packages, no PYTHON* variables) to keep the sandbox
start-up cost to a few milliseconds and the trusted code small.

Protocol with the launcher: the config names a status file descriptor (close-on-
exec here). After every step succeeded it writes ``K`` and execs the command, so
the launcher sees ``K`` followed by EOF. On any failure it writes ``E<message>``
and exits 125 without running the command: the launcher then refuses (fail
closed). If ``unshare`` itself cannot create the namespaces, nothing is written.

Inside the user namespace this process is root with every capability, but only
over the namespaces it owns. It uses them to:

1. bind the whole host filesystem under a staging root and remount every mount
   read-only (keeping the flags the kernel locks: nosuid, nodev, noexec, atime);
2. hide places where credentials and host sockets live (``/run``, ``/home``,
   ``/root``, extra paths) behind empty read-only tmpfs, give a private ``/tmp``
   and ``/var/tmp``, a minimal ``/dev``, a fresh ``/proc`` for the new PID
   namespace with ``/proc/sys`` read-only;
3. bind inputs read-only and output directories read-write at their own paths;
4. ``pivot_root`` into the staging root and detach the host root;
5. bring up loopback (the only interface of the new network namespace);
6. set rlimits, set no_new_privs, empty the capability bounding, ambient and
   inheritable sets and drop every capability, then exec the command.
"""

import ctypes
import errno
import fcntl
import json
import os
import resource
import socket
import struct
import sys

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
# Flags the kernel locks on mounts inherited from a more privileged namespace: a
# read-only remount must repeat them or it fails with EPERM.
_KEEP = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}
SYS_CAPSET = {"x86_64": 126, "aarch64": 91, "ppc64le": 184, "s390x": 185, "riscv64": 91}
SIOCSIFFLAGS = 0x8914
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


class SetupError(Exception):
    pass


def _b(s):
    return None if s is None else os.fsencode(s)


def _check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(e)} (errno {errno.errorcode.get(e, e)})")


def mount(src, target, fstype, flags, data=None):
    _check(_libc.mount(_b(src), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def remount_ro(path, extra=0):
    """Make the mount at ``path`` read-only, repeating its locked flags."""
    keep = os.statvfs(path).f_flag & _KEEP  # ST_* values equal MS_* for these bits
    mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep | extra)


def _unescape(field):
    # mountinfo escapes space, tab, newline and backslash as octal.
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts_under(root):
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            mp = _unescape(line.split()[4])
            if mp == root or mp.startswith(root + "/"):
                out.append(mp)
    # Parents before children, so a child's remount is not undone by its parent's.
    return sorted(set(out), key=lambda p: (p.count("/"), p))


def _inside(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def make_mountpoint(root, path, is_dir):
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


def build_root(cfg):
    root = cfg["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("/", root, None, MS_BIND | MS_REC)
    skip = (root + "/proc", root + "/dev")
    for mp in mounts_under(root):
        if any(_inside(mp, s) for s in skip):
            continue  # replaced below by a fresh /proc and a minimal /dev
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

    # A /proc that shows only this PID namespace; kernel knobs stay read-only.
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for sub in ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"):
        full = root + sub
        if os.path.exists(full):
            mount(full, full, None, MS_BIND | MS_REC)
            remount_ro(full)

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
    _check(ctypes.CDLL(None, use_errno=True).syscall(SYS_PIVOT_ROOT[os.uname().machine], b".", b"."), "pivot_root")
    # The old root is now stacked on "/": detach it, leaving only the new view.
    _check(_libc.umount2(b".", MNT_DETACH), "detach old root")
    os.chdir("/")


def loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING))


def set_limits(limits):
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


def drop_privileges(run_as):
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap} from the bounding set")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    if run_as is not None:
        # Launched by real root (no user namespace): become an unprivileged uid, so
        # DAC keeps the command out of root-owned files that are still visible.
        uid, gid = run_as
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")
    header = struct.pack("II", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)  # effective, permitted, inheritable = 0 for both 32-bit halves
    hdr = ctypes.create_string_buffer(header)
    dat = ctypes.create_string_buffer(data)
    libc = ctypes.CDLL(None, use_errno=True)
    _check(libc.syscall(SYS_CAPSET[os.uname().machine], hdr, dat), "drop capabilities")


def which(cmd, path):
    if "/" in cmd:
        return cmd if os.access(cmd, os.X_OK) and not os.path.isdir(cmd) else None
    for d in path.split(":"):
        full = os.path.join(d or ".", cmd)
        if os.access(full, os.X_OK) and not os.path.isdir(full):
            return full
    return None


def main():
    cfg = json.loads(sys.argv[1])
    status = cfg["status_fd"]
    os.set_inheritable(status, False)  # closes at exec: EOF after "K" tells the launcher the command started
    try:
        build_root(cfg)
        if cfg.get("hostname"):
            name = cfg["hostname"].encode()
            _check(_libc.sethostname(name, len(name)), "sethostname")
        loopback_up()
        os.chdir(cfg.get("workdir") or "/tmp")  # noqa: S108 - the sandbox's private tmpfs
        env = cfg["env"]
        exe = which(cfg["argv"][0], env.get("PATH", "/usr/bin:/bin"))
        if exe is None:
            raise SetupError(f"command not found inside the sandbox: {cfg['argv'][0]}")
        set_limits(cfg.get("limits", {}))
        drop_privileges(cfg.get("run_as"))
    except Exception as exc:  # noqa: BLE001 - any failure must refuse, never run unconfined
        os.write(status, b"E" + str(exc).encode("utf-8", "replace"))
        os._exit(125)
    os.write(status, b"K")
    try:
        os.execve(exe, cfg["argv"], env)  # noqa: S606 - exec the step itself, no shell
    except OSError as exc:
        sys.stderr.write(f"kfp-gates sandbox: cannot execute {cfg['argv'][0]}: {exc.strerror}\n")
        os._exit(126)


if __name__ == "__main__":
    main()
