"""The isolation backend interface and the values it exchanges.

A backend runs one :class:`StepSpec` (a command, its inputs, where its outputs
go, limits and a deadline) somewhere it cannot reach the network or the
caller's credentials, and returns a :class:`StepOutcome`. Backends raise typed
errors (:mod:`kfp_gates.components.common.errors`) when they cannot isolate:
they never fall back to running the command unconfined.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTPE]i?|[kmgtpe]|)\s*[bB]?\s*$")
_FACTORS = {
    "": 1,
    "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5, "E": 1000**6,
    "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5, "e": 1000**6,
    "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
}  # fmt: skip
_MAX_SIZE = 1 << 63  # rlimits and Kubernetes quantities are signed 64-bit

# Variables a command may see without being asked for: none carries a credential.
BASE_ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM")
SANDBOX_TMP = "/tmp"  # noqa: S108 - inside a sandbox /tmp is a private, per-run tmpfs/emptyDir
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Names that usually hold a credential: passing one in explicitly is reported.
_SECRET_NAME = re.compile(r"(?i)(TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE|AUTH|SESSION)")


def parse_size(value: str | int, *, what: str = "size") -> int:
    """Bytes from ``"512Mi"``, ``"2G"``, ``"1.5Gi"``, ``"4096"`` (Kubernetes quantity suffixes).

    Raises :class:`ConfigError` naming ``what`` when the value is not a size.
    """
    if isinstance(value, bool):
        raise ConfigError(f"invalid {what} {value!r}", hint="use e.g. 512Mi, 2Gi or a number of bytes")
    if isinstance(value, int):
        if value <= 0:
            raise ConfigError(f"{what} must be positive, got {value}")
        if value >= _MAX_SIZE:
            raise ConfigError(f"{what} {value} is too large (at most 8Ei)")
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ConfigError(f"invalid {what} {value!r}", hint="use e.g. 512Mi, 2Gi or a number of bytes")
    number = float(m.group(1)) * _FACTORS[m.group(2)]
    if not number < _MAX_SIZE:  # also catches inf from a very long digit string
        raise ConfigError(f"{what} {value!r} is too large (at most 8Ei)")
    n = int(number)
    if n <= 0:
        raise ConfigError(f"{what} must be positive, got {value!r}")
    return n


def looks_secret(name: str) -> bool:
    """True when an environment variable's name suggests it holds a credential."""
    return bool(_SECRET_NAME.search(name))


@dataclass(frozen=True)
class Limits:
    """Resource limits for a step. ``None`` leaves a limit unset.

    ``memory`` is bytes of address space locally (RLIMIT_AS) and the container
    memory limit on Kubernetes; ``cpu_seconds`` is CPU time (RLIMIT_CPU);
    ``file_size`` is the largest file the step may write (RLIMIT_FSIZE);
    ``processes`` caps processes/threads (RLIMIT_NPROC).
    """

    memory: int | None = None
    cpu_seconds: int | None = None
    file_size: int | None = 16 << 30
    processes: int | None = 4096
    open_files: int | None = 4096

    def describe(self) -> dict[str, int | None]:
        return {
            "memory": self.memory,
            "cpu_seconds": self.cpu_seconds,
            "file_size": self.file_size,
            "processes": self.processes,
            "open_files": self.open_files,
        }


@dataclass(frozen=True)
class StepSpec:
    """One command to run isolated.

    ``env`` holds exactly the variables the caller chose to pass in (values
    included); everything else in the caller's environment is dropped.
    ``inputs`` are files or directories the step may read; ``output`` is the
    directory its results land in. ``timeout`` is wall-clock seconds.
    """

    argv: tuple[str, ...]
    inputs: tuple[Path, ...] = ()
    output: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 6 * 3600.0
    limits: Limits = Limits()
    workdir: str | None = None

    def __post_init__(self) -> None:
        if not self.argv or not self.argv[0]:
            raise ConfigError("no command given", hint="put the command after `--`, e.g. `-- python train.py`")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {self.timeout}")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description without environment values (they may be secrets)."""
        return {
            "argv": list(self.argv),
            "inputs": [str(p) for p in self.inputs],
            "output": str(self.output) if self.output else None,
            "env_names": sorted(self.env),
            "timeout_seconds": self.timeout,
            "limits": self.limits.describe(),
            "workdir": self.workdir,
        }


@dataclass(frozen=True)
class StepOutcome:
    """How a step ended. ``exit_code`` is None when it was killed by a signal or the deadline.

    ``ran`` is False when the gate refused the step before it started (nothing
    ran, no outputs). ``refused_outputs`` lists output entries the backend
    removed instead of handing back (symlinks, FIFOs, sockets, devices), each
    ``"<relative path>: <kind>"``.
    """

    backend: str
    exit_code: int | None
    signal: int | None = None
    timed_out: bool = False
    duration: float = 0.0
    isolated: bool = True
    details: Mapping[str, Any] = field(default_factory=dict)
    ran: bool = True
    refused_outputs: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        """A shell-style status: the exit code, ``128 + signal`` when killed, 124 on timeout, 125 not run."""
        if not self.ran:
            return 125
        if self.timed_out:
            return 124
        if self.exit_code is not None:
            return self.exit_code
        return 128 + (self.signal or 9)

    @property
    def succeeded(self) -> bool:
        return self.ran and self.exit_code == 0 and not self.timed_out


class IsolationBackend(abc.ABC):
    """Runs a :class:`StepSpec` isolated. Implementations: ``local`` (namespaces), ``kubernetes``."""

    name: str = "abstract"

    @abc.abstractmethod
    def run(self, step: StepSpec) -> StepOutcome:
        """Run ``step`` to completion or its deadline and return how it ended.

        Guarantees: the step never runs with less isolation than the backend
        promises (if that isolation cannot be set up, it does not run at all and
        :class:`~kfp_gates.components.common.errors.InfrastructureError` or
        :class:`~kfp_gates.components.common.errors.ConfigError` is raised);
        everything the backend created is removed before it returns or raises.
        """
