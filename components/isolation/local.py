"""Local backend: run a step in fresh Linux namespaces (unshare(2) / util-linux ``unshare``).

What the step gets (see :mod:`._nsinit` for how):

* a new network namespace with only loopback: no route out, no DNS;
* a new mount namespace: the host filesystem read-only; ``/run``, ``/home``,
  ``/root`` (and every ``hide`` path) replaced by empty read-only directories; a
  private ``/tmp``; a minimal ``/dev``; inputs bound read-only and the output
  directory read-write at their own paths;
* new PID, IPC, UTS and cgroup namespaces: a ``/proc`` that shows only its own
  processes; when its first process dies the kernel kills the rest;
* an environment cleared to an allowlist; rlimits; no capabilities (empty
  bounding, inheritable and ambient sets) and ``no_new_privs``;
* a seccomp filter refusing ``socket(AF_UNIX)`` (and io_uring): Unix-domain
  sockets reach past the network namespace, read-only mounts do not stop
  ``connect()``;
* outputs written to a staging directory and handed back after the step ended,
  regular files and directories only (symlinks, FIFOs, sockets, devices are
  removed and reported);
* a wall-clock deadline after which its whole process group is killed.

Two ways in, chosen automatically:

* as an unprivileged user, a user namespace maps the caller to root inside, which
  owns the new namespaces; the step then runs with every capability dropped;
* as real root, no user namespace is needed, and the step runs as an
  unprivileged uid (``nobody`` by default) so that root-owned files that stay
  visible read-only are still closed to it; its staging directory is owned by
  that uid and the outputs are handed back owned by the caller.

The set-up runs in the forked child before exec (no interpreter start-up) when
the launcher is single-threaded, else in a stdlib-only script started by the
``unshare`` binary; both share :mod:`._nsinit`. If the namespaces cannot be
created the step does not run: :class:`IsolationUnavailable` (exit 3).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError, InfrastructureError, InputNotFoundError

from . import _nsinit
from ._signals import cancel_on_signals
from .interface import IsolationBackend, StepOutcome, StepSpec

log = logging.getLogger(__name__)
NSINIT = Path(__file__).with_name("_nsinit.py")
UNSHARE = "/usr/bin/unshare"
SETPRIV = "/usr/bin/setpriv"
NOBODY = (65534, 65534)
# Where credentials and host sockets usually live; replaced by empty directories.
DEFAULT_HIDE = ("/run", "/home", "/root", "/media", "/mnt", "/srv", "/etc/kubernetes", "/var/lib/kubelet")
_PRIVATE_TMP = ("/tmp", "/var/tmp")  # noqa: S108 - replaced by private tmpfs inside the sandbox
_NO_NAMESPACES_HINT = (
    "allow user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces>0, "
    "or a container runtime that permits unshare), or in the fast-track tier set gates.isolation.isolation: none"
)


class IsolationUnavailable(InfrastructureError):
    """The sandbox could not be created, so the step was not run (fail closed)."""


def _tool(path: str, name: str) -> str:
    found = path if os.access(path, os.X_OK) else shutil.which(name)
    if not found:
        raise IsolationUnavailable(
            f"cannot isolate: `{name}` (util-linux) is not installed",
            hint="install util-linux, or (fast-track tier only) set gates.isolation.isolation: none",
        )
    return os.path.realpath(found)


def _read_status(fd: int, proc: subprocess.Popen[bytes], deadline: float) -> bytes:
    """Everything the in-namespace init writes on the status pipe, until EOF or the deadline."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            if proc.poll() is not None:
                return data
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


_MOUNTPOINTS: dict[int, str] = {}


def _mountpoint() -> str:
    """An empty private directory the sandbox's root is assembled on, one per process and uid.

    Mounts on it happen only inside each sandbox's own mount namespace, so
    concurrent sandboxes can share it; on the host it stays empty.
    """
    uid = os.geteuid()
    path = _MOUNTPOINTS.get(uid)
    if path is None or not os.path.isdir(path):
        path = tempfile.mkdtemp(prefix="kfp-gates-sandbox-root-")
        _MOUNTPOINTS[uid] = path
        atexit.register(_remove_mountpoint, path)
    return path


def _remove_mountpoint(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def _drain(fd: int) -> bytes:
    """What is already in the status pipe (the writer is gone)."""
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    return data


def _refusal(status: bytes, returncode: int | None = None) -> IsolationUnavailable:
    """The error for a sandbox that could not be set up; the step did not run."""
    if status[:1] == b"E":
        message = status[1:].decode("utf-8", "replace")
        if "cannot create namespaces" in message:
            return IsolationUnavailable(f"{message}; the step was not run", hint=_NO_NAMESPACES_HINT)
        return IsolationUnavailable(
            f"sandbox set-up failed, the step was not run: {message}",
            hint="fix the reported path or option; the step never runs unconfined",
        )
    return IsolationUnavailable(
        f"cannot create Linux namespaces (unshare exited {returncode}); the step was not run",
        hint=_NO_NAMESPACES_HINT,
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the step's whole process group (unshare, the PID-namespace init, their children)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
    ):  # fmt: skip
        if test(mode):
            return kind
    return "special file"


def _hand_back(staged: Path, output: Path) -> tuple[str, ...]:
    """Move the step's outputs from the staging directory into ``output``, owned by the caller.

    Only regular files and directories come back. Symlinks (a link to
    ``/etc/passwd`` or ``../..`` would be followed by whoever reads the outputs
    next), FIFOs (a reader hangs), sockets and device nodes are removed, never
    followed, and returned as ``"<path>: <kind>"`` so the gate blocks on them.
    Existing entries of ``output`` with the same names are replaced.
    """
    uid, gid = os.getuid(), os.getgid()
    refused: list[str] = []
    output.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(staged, followlinks=False):
        for name in sorted([*dirnames, *filenames]):
            full = os.path.join(dirpath, name)
            mode = os.lstat(full).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                os.lchown(full, uid, gid)
                continue
            rel = os.path.relpath(full, staged)
            what = _kind(mode)
            if stat.S_ISLNK(mode):
                what += f" to {os.readlink(full)!r}"
            refused.append(f"{rel}: {what}")
            os.unlink(full)
            if name in dirnames:
                dirnames.remove(name)
    for entry in sorted(staged.iterdir()):
        dest = output / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        shutil.move(str(entry), str(dest))
    return tuple(refused)


def _staging_dir(output: Path) -> Path:
    """A fresh directory on the output's filesystem (handing back is a rename): next to it, else inside it."""
    try:
        return Path(tempfile.mkdtemp(prefix=".kfp-gates-staging-", dir=output.parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix=".kfp-gates-staging-", dir=output))


class LocalNamespaceBackend(IsolationBackend):
    """Run steps in Linux namespaces created with ``unshare``. See the module docstring.

    ``hide`` adds paths to replace with empty directories (or ``/dev/null`` for a
    file); ``run_as`` is the (uid, gid) used when the launcher is real root;
    ``tmp_size`` bounds the private ``/tmp``. ``allow_unix_sockets`` switches
    off the seccomp filter that refuses ``socket(AF_UNIX)`` (tests use it to
    show what the filter stops; nothing in the gate sets it).
    """

    name = "namespaces"

    def __init__(
        self,
        *,
        hide: Sequence[str] = (),
        run_as: tuple[int, int] = NOBODY,
        tmp_size: str = "512m",
        hostname: str = "sandbox",
        stdout: int | None = None,
        stderr: int | None = None,
        fast: bool = True,
        allow_unix_sockets: bool = False,
    ) -> None:
        self.hide = tuple(dict.fromkeys((*DEFAULT_HIDE, *(_absolute(h, "hide") for h in hide))))
        self.run_as = run_as
        self.tmp_size = tmp_size
        self.hostname = hostname
        self.stdout = stdout
        self.stderr = stderr
        self.fast = fast
        self.allow_unix_sockets = allow_unix_sockets

    def command(self, config: Mapping[str, object]) -> list[str]:
        """The script path's command line: ``unshare`` starting the set-up script with ``config``."""
        ns = ["--net", "--mount", "--ipc", "--uts", "--cgroup"]
        if config.get("userns"):
            ns = ["--user", "--map-root-user", *ns]
        return [str(config["unshare"]), *ns, "--", sys.executable, "-I", "-S", str(NSINIT), json.dumps(config)]

    def run(self, step: StepSpec) -> StepOutcome:
        inputs = [_existing(p) for p in step.inputs]
        root_mode = os.geteuid() == 0
        if root_mode:
            for path in inputs:
                problem = _closed_to_others(path, (*self.hide, *_PRIVATE_TMP))
                if problem:
                    log.warning(
                        "input %s: %s; the step runs as uid %d (the launcher is root) and cannot read it",
                        path, problem, self.run_as[0],
                    )  # fmt: skip
        staging: Path | None = None
        outputs: list[list[str]] = []
        try:
            if step.output is not None:
                output = step.output.absolute()
                output.mkdir(parents=True, exist_ok=True)  # the mount point must exist
                # The step writes into a staging directory bound at the output's path; only
                # regular files and directories are handed back once it has ended (never
                # while it runs). A root launcher's step runs as an unprivileged uid, which
                # owns the staging directory.
                staging = _staging_dir(output)
                (staging / "out").mkdir()
                if root_mode:
                    os.chown(staging / "out", *self.run_as)
                outputs.append([str(staging / "out"), str(output)])
            read, write = os.pipe()
            config = {
                "root": _mountpoint(),
                "status_fd": write,
                "hide": list(self.hide),
                "inputs": [[str(p), str(p)] for p in inputs],
                "outputs": outputs,
                "env": dict(step.env),
                "argv": list(step.argv),
                "workdir": step.workdir,
                "hostname": self.hostname,
                "tmp_size": self.tmp_size,
                "limits": step.limits.describe(),
                "run_as": list(self.run_as) if root_mode else None,
                "userns": not root_mode,
                "uid": os.getuid(),
                "gid": os.getgid(),
                "unshare": _tool(UNSHARE, "unshare"),
                "setpriv": _tool(SETPRIV, "setpriv"),
                "launcher_pid": os.getpid(),
                "block_unix_sockets": not self.allow_unix_sockets,
            }
            try:
                with cancel_on_signals():
                    outcome = self._execute(step, config, read, write)
            finally:
                os.close(read)
            if staging is not None and step.output is not None:
                refused = _hand_back(staging / "out", step.output.absolute())
                if refused:
                    outcome = replace(outcome, refused_outputs=refused)
            return outcome
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    def _execute(self, step: StepSpec, config: dict[str, object], read: int, write: int) -> StepOutcome:
        start = time.monotonic()
        deadline = start + step.timeout
        # The fast path runs the set-up in the forked child: no interpreter start-up.
        # preexec_fn is unsafe with other threads running, so they get the script path.
        fast = self.fast and threading.active_count() == 1
        popen_kw: dict[str, Any] = {
            "env": dict(step.env),
            "stdin": subprocess.DEVNULL,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "pass_fds": (write,),
            "start_new_session": True,  # its own process group, killed as one on timeout
        }
        try:
            if fast:
                proc = subprocess.Popen(
                    [str(config["unshare"])], preexec_fn=lambda: _nsinit.run_in_child(config), **popen_kw
                )
            else:
                proc = subprocess.Popen(self.command(config), **popen_kw)
        except subprocess.SubprocessError:
            os.close(write)
            raise _refusal(_drain(read)) from None
        except OSError as exc:
            os.close(write)
            raise IsolationUnavailable(f"cannot start the sandbox: {exc.strerror}") from None
        os.close(write)
        try:
            if not fast:
                status = _read_status(read, proc, deadline)
                if status[:1] != b"K":
                    timed_out = time.monotonic() >= deadline
                    _kill_group(proc)
                    if timed_out and not status:
                        raise IsolationUnavailable("sandbox set-up did not finish before the deadline")
                    raise _refusal(status, proc.returncode)
            try:
                code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return StepOutcome(
                    backend=self.name,
                    exit_code=None,
                    signal=signal.SIGKILL,
                    timed_out=True,
                    duration=time.monotonic() - start,
                    details=self._details(),
                )
            # Children that outlived the first process are already gone (PID namespace);
            # the group kill covers anything that escaped it before the namespace existed.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        except BaseException:
            if proc.poll() is None:
                _kill_group(proc)
            raise
        return StepOutcome(
            backend=self.name,
            exit_code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            duration=time.monotonic() - start,
            details=self._details(),
        )

    def _details(self) -> dict[str, object]:
        root_mode = os.geteuid() == 0
        return {
            "namespaces": ["user", "net", "mount", "pid", "ipc", "uts", "cgroup"][(1 if root_mode else 0) :],
            "proc": "own PID namespace",
            "network": "loopback only",
            "filesystem": "read-only; writable: output directory, private /tmp",
            "hidden": list(self.hide),
            "runs_as": f"uid {self.run_as[0]}" if root_mode else "caller's uid (user namespace root, no capabilities)",
            "capabilities": "none (bounding set empty, no_new_privs)",
            "unix_sockets": "allowed" if self.allow_unix_sockets else "refused (seccomp: socket(AF_UNIX) fails)",
            "outputs": "regular files and directories only; links and special files refused",
        }


class UnisolatedBackend(IsolationBackend):
    """Runs the step with NO isolation: only the cleared environment, rlimits and the deadline.

    Exists for ``isolation: none`` in the fast-track tier. Every result it
    produces carries a high-severity finding saying so.
    """

    name = "none"

    def __init__(self, *, stdout: int | None = None, stderr: int | None = None) -> None:
        self.stdout = stdout
        self.stderr = stderr

    def run(self, step: StepSpec) -> StepOutcome:
        import resource

        inputs = [_existing(p) for p in step.inputs]
        del inputs
        if step.output is not None:
            step.output.mkdir(parents=True, exist_ok=True)
        limits = step.limits

        def _limit() -> None:  # runs in the child between fork and exec
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            for rl, value in (
                (resource.RLIMIT_AS, limits.memory),
                (resource.RLIMIT_CPU, limits.cpu_seconds),
                (resource.RLIMIT_FSIZE, limits.file_size),
                (resource.RLIMIT_NOFILE, limits.open_files),
            ):
                if value is not None:
                    resource.setrlimit(rl, (value, value))

        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                list(step.argv),
                env=dict(step.env),
                cwd=step.workdir,
                stdin=subprocess.DEVNULL,
                stdout=self.stdout,
                stderr=self.stderr,
                start_new_session=True,
                preexec_fn=_limit,  # only setrlimit between fork and exec
            )
        except FileNotFoundError:
            raise ConfigError(f"command not found: {step.argv[0]}") from None
        try:
            code = proc.wait(timeout=step.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return StepOutcome(
                backend=self.name, exit_code=None, signal=signal.SIGKILL, timed_out=True,
                duration=time.monotonic() - start, isolated=False,
            )  # fmt: skip
        except BaseException:
            _kill_group(proc)
            raise
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return StepOutcome(
            backend=self.name,
            exit_code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            duration=time.monotonic() - start,
            isolated=False,
            details={"network": "host", "filesystem": "host", "warning": "NOT ISOLATED"},
        )


def _closed_to_others(path: Path, masked: Sequence[str]) -> str | None:
    """Why a user with no relation to the file could not read ``path`` (None when it could).

    Bound at its own path, an input is reached through its parents: those under
    a mask (private /tmp, hidden paths) are recreated open inside the sandbox,
    the others are the host's own and must be searchable by others.
    """
    for parent in reversed(path.parents):
        if any(parent == Path(m) or Path(m) in parent.parents for m in masked):
            continue
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return f"directory {parent} is not searchable by others"
    mode = os.stat(path).st_mode
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    if mode & need != need:
        return "not readable by others"
    return None


def _absolute(path: str, what: str) -> str:
    if not path.startswith("/"):
        raise ConfigError(f"{what} path must be absolute: {path!r}")
    return os.path.normpath(path)


def _existing(path: Path) -> Path:
    """The absolute, symlink-resolved input path; raises InputNotFoundError when it does not exist."""
    if not path.exists():
        raise InputNotFoundError("input not found", where=str(path), hint="check the --input path")
    return path.resolve()
