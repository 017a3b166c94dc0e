"""Delivering an unwrapped secret: into 0600 files (one per field) or a command's environment.

:func:`unwrap_and_deliver` is what ``kfp-gates secret unwrap`` and the
consumer helper run: unwrap once, deliver, and return a :class:`GateResult`
that records what was delivered (field names, never values), or the security
finding when the wrapping token was rejected.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kfp_gates.components.common.digest import sha256_bytes
from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import GateSettings, finalize
from kfp_gates.components.common.result import GateResult, Subject, Tool, utcnow
from kfp_gates.components.common.severity import Severity

from ._files import check_field_name, prepare_dir, write_private
from .config import VaultConfig
from .reading import SecretData
from .wrapping import WrappingTokenRejected, unwrap

GATE = "secrets"
TOOL = Tool(name="kfp-gates-secrets", version="1")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Variables a delivered secret must not override: they change how the command itself runs.
_PROTECTED_ENV = frozenset(
    {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "HOME", "SHELL", "IFS", "BASH_ENV", "ENV"}
)
# Vault credentials of this step are not handed to the command it runs.
_DROPPED_ENV = ("VAULT_TOKEN", "BAO_TOKEN")


def write_fields(secret: SecretData, directory: str | os.PathLike[str]) -> list[Path]:
    """Write each field to ``directory/<field>`` with mode 0600; return the paths.

    The directory is created 0700 when missing and refused when it is a
    symlink or writable by others; existing files are never overwritten.
    Raises :class:`ConfigError`.
    """
    names = [check_field_name(n) for n in sorted(secret.fields)]
    d = prepare_dir(directory)
    written: list[Path] = []
    try:
        for name in names:
            path = d / name
            write_private(path, secret.fields[name])
            written.append(path)
    except BaseException:
        for p in written:  # all or nothing: a half-delivered secret is worse than none
            p.unlink(missing_ok=True)
        raise
    return written


def secret_env(secret: SecretData, prefix: str = "") -> dict[str, str]:
    """The fields as environment variables ``<prefix><FIELD>`` (field names upper-cased, '-'/'.' -> '_')."""
    env: dict[str, str] = {}
    for name, value in secret.fields.items():
        var = prefix + re.sub(r"[-.]", "_", name).upper()
        if not _ENV_NAME.match(var) or var in _PROTECTED_ENV:
            raise ConfigError(
                f"secret field {name!r} cannot be delivered as environment variable {var!r}",
                where=name,
                hint="use --env-prefix, or deliver into files with --to-dir",
            )
        env[var] = value
    return env


def command_env(secret: SecretData, prefix: str = "", base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without Vault tokens, plus the secret's variables."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROPPED_ENV}
    env.update(secret_env(secret, prefix))
    return env


def run_with_env(
    secret: SecretData,
    argv: Sequence[str],
    *,
    prefix: str = "",
    replace_process: bool = False,
    timeout: float | None = None,
) -> int:
    """Run ``argv`` with the secret in its environment and return its exit code.

    With ``replace_process`` this process is replaced (``execvpe``), so the
    secret lives on only in the command. Raises :class:`ConfigError` when
    ``argv`` is empty or the command cannot be started.
    """
    if not argv:
        raise ConfigError("no command to run", where="--", hint="put the command after --, e.g. -- python train.py")
    env = command_env(secret, prefix)
    try:
        if replace_process:
            os.execvpe(argv[0], list(argv), env)  # noqa: S606 - the user's own command, no shell
        return subprocess.run(list(argv), env=env, check=False, timeout=timeout).returncode
    except FileNotFoundError:
        raise ConfigError("command not found", where=argv[0]) from None
    except PermissionError:
        raise ConfigError("command is not executable", where=argv[0]) from None


@dataclass(frozen=True)
class Delivery:
    """What :func:`unwrap_and_deliver` did. ``secret`` is ``None`` when the token was rejected."""

    result: GateResult
    secret: SecretData | None
    files: tuple[Path, ...] = ()


def unwrap_and_deliver(
    config: VaultConfig,
    token: str,
    *,
    to_dir: str | os.PathLike[str] | None = None,
    expected_path: str | None = None,
    expires_at: datetime | None = None,
    accessor: str | None = None,
) -> Delivery:
    """Unwrap ``token`` once; write the fields to ``to_dir`` if given; report as a gate result.

    A rejected token (already used, expired, swapped) gives a ``fail`` result
    with the finding; this is never waivable or downgraded by the policy,
    because no secret was delivered. Other errors raise (ConfigError,
    InfrastructureError).
    """
    clock_start = utcnow()
    subject = Subject(name=expected_path or "wrapped-secret", digest={"sha256": sha256_bytes(token.strip().encode())})
    settings = GateSettings(fail_on=Severity.HIGH, on_fail="block")
    try:
        secret = unwrap(config, token, expected_path=expected_path, expires_at=expires_at, accessor=accessor)
    except WrappingTokenRejected as exc:
        result = finalize(
            gate=GATE,
            subject=subject,
            tool=TOOL,
            findings=[exc.finding],
            settings=settings,
            started_at=clock_start,
            metadata={"action": "unwrap", "vault_addr": config.addr},
        )
        return Delivery(result=result, secret=None)
    files = tuple(write_fields(secret, to_dir)) if to_dir is not None else ()
    meta: dict[str, object] = {
        "action": "unwrap",
        "vault_addr": config.addr,
        "fields": sorted(secret.fields),
        "version": secret.version,
    }
    if secret.lease:
        meta["lease"] = secret.lease.to_dict()
    if to_dir is not None:
        meta["to_dir"] = str(to_dir)
    result = finalize(
        gate=GATE, subject=subject, tool=TOOL, findings=[], settings=settings, started_at=clock_start, metadata=meta
    )
    return Delivery(result=result, secret=secret, files=files)
