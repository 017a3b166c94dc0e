"""Run git on a repository that is not trusted, with settings that cannot be changed from inside it.

Everything the source-integrity gate learns about a repository comes from
git itself (``git log --format=%G?``, ``status``, ``cat-file``). The
repository, though, is the thing under test: its ``.git/config``, replace refs,
grafts and commit-graph file were all written by whoever produced the checkout.
So every invocation here:

* starts from an environment without any inherited ``GIT_*`` variable (a caller
  running inside a git hook would otherwise point us at another ``GIT_DIR``);
* ignores the system and global config (``GIT_CONFIG_NOSYSTEM``,
  ``GIT_CONFIG_GLOBAL=/dev/null``), so the user's own config is neither read
  nor ever written, and the verdict does not depend on who runs the gate;
* pins, with ``-c`` (which beats the repository's config), the programs git runs
  to verify signatures, the allowed-signers file, and turns off fsmonitor, the
  commit-graph file, replace objects and grafts, all of which could make git
  show a history or a work tree other than the real one;
* forbids every transport (``GIT_ALLOW_PROTOCOL``), so a partial clone cannot
  fetch missing objects: the gate makes no network call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kfp_gates.components.common.errors import (
    ConfigError,
    GateTimeoutError,
    InfrastructureError,
    UnsafeInputError,
)

# A protocol name that does not exist: with GIT_ALLOW_PROTOCOL set, every other one is refused.
_NO_PROTOCOL = "kfp-gates-no-network"
_MISSING_PROGRAM = "/nonexistent/kfp-gates-disabled"
MIN_GIT = (2, 34)


@dataclass(frozen=True)
class GitTools:
    """Absolute paths of the programs git needs; ``None`` when a program is not installed."""

    git: str
    ssh_keygen: str | None
    gpg: str | None
    git_version: str = ""

    @classmethod
    def find(cls) -> GitTools:
        """Locate git, ssh-keygen and gpg on PATH.

        Raises ConfigError when git is missing or older than 2.34 (the first with SSH signatures).
        """
        git = shutil.which("git")
        if git is None:
            raise ConfigError(
                "git is not installed", hint="install git (Debian: apt-get install git) and run the gate again"
            )
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
        version = out.strip().removeprefix("git version ")
        nums = [int(n) for n in re.findall(r"\d+", version)[:2]] or [0, 0]
        if tuple(nums) < MIN_GIT:
            raise ConfigError(
                f"git {version or '(unknown version)'} is too old to verify SSH signatures",
                hint=f"install git {'.'.join(map(str, MIN_GIT))} or newer",
            )
        return cls(git=git, ssh_keygen=shutil.which("ssh-keygen"), gpg=shutil.which("gpg"), git_version=version)


class Git:
    """A hardened git runner bound to one repository directory.

    ``allowed_signers`` is the SSH allowed-signers file, ``gnupg_home`` the GnuPG
    home whose public keys are the allowed OpenPGP signers; both are passed to git
    per invocation and never written to any config file.
    """

    def __init__(
        self,
        repo: Path,
        *,
        allowed_signers: Path,
        gnupg_home: Path,
        tools: GitTools | None = None,
        timeout: float = 300.0,
        ignore_file_mode: bool = False,
    ) -> None:
        self.repo = repo
        self.tools = tools or GitTools.find()
        self.timeout = timeout
        self._env = self._environment(gnupg_home)
        self._config = self._overrides(allowed_signers)
        if ignore_file_mode:
            # Artifact stores drop the executable bit; content is still compared.
            self._config += ["-c", "core.fileMode=false"]

    def _environment(self, gnupg_home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            {
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                # Never fall back to a repository above the given directory: a copy that lost its .git
                # inside some other checkout would otherwise be "verified" as that checkout.
                "GIT_CEILING_DIRECTORIES": str(self.repo.parent),
                "GIT_NO_REPLACE_OBJECTS": "1",
                "GIT_GRAFT_FILE": os.devnull,
                "GIT_ALLOW_PROTOCOL": _NO_PROTOCOL,
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_OPTIONAL_LOCKS": "0",  # status must not rewrite the index of the repo under test
                "GIT_PAGER": "cat",
                "GNUPGHOME": str(gnupg_home),
                "LC_ALL": "C",
                "LANGUAGE": "C",
            }
        )
        return env

    def _overrides(self, allowed_signers: Path) -> list[str]:
        settings = {
            "gpg.ssh.allowedSignersFile": str(allowed_signers),
            "gpg.ssh.program": self.tools.ssh_keygen or _MISSING_PROGRAM,
            "gpg.program": self.tools.gpg or _MISSING_PROGRAM,
            "gpg.openpgp.program": self.tools.gpg or _MISSING_PROGRAM,
            "gpg.x509.program": _MISSING_PROGRAM,  # X.509 (gpgsm) signatures are not accepted
            "gpg.minTrustLevel": "undefined",
            "log.showSignature": "false",
            "core.fsmonitor": "false",
            "core.untrackedCache": "false",
            "core.commitGraph": "false",
            "core.excludesFile": os.devnull,
            "core.quotePath": "false",
            "protocol.allow": "never",
            "color.ui": "false",
            "advice.graftFileDeprecated": "false",
            "i18n.logOutputEncoding": "UTF-8",
        }
        out: list[str] = []
        for key, value in settings.items():
            out += ["-c", f"{key}={value}"]
        return out

    def _exec(self, args: Sequence[str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
        cmd = [self.tools.git, "-C", str(self.repo), *self._config, *args]
        try:
            return subprocess.run(
                cmd, input=stdin, capture_output=True, env=self._env, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise GateTimeoutError(
                f"git {args[0]} did not finish within {self.timeout:.0f}s", where=str(self.repo)
            ) from None

    def run(self, *args: str, stdin: bytes | None = None, ok_codes: Sequence[int] = (0,)) -> bytes:
        """Run ``git <args>`` in the repository and return stdout.

        Raises :class:`ConfigError` when git says the directory is not a usable
        repository (or a revision does not exist), :class:`GateTimeoutError` on
        timeout and :class:`InfrastructureError` for any other failure.
        """
        proc = self._exec(args, stdin)
        if proc.returncode not in ok_codes:
            raise _classify(args, proc.stderr.decode("utf-8", "replace"), str(self.repo))
        return proc.stdout

    def text(self, *args: str, stdin: bytes | None = None) -> str:
        return self.run(*args, stdin=stdin).decode("utf-8", "replace")

    def succeeds(self, *args: str) -> bool:
        """True when ``git <args>`` exits 0, False when it exits 1 (``merge-base --is-ancestor``).

        Any other exit code raises like :meth:`run`.
        """
        proc = self._exec(args, None)
        if proc.returncode in (0, 1):  # git's fatal errors exit 128
            return proc.returncode == 0
        raise _classify(args, proc.stderr.decode("utf-8", "replace"), str(self.repo))


def _classify(args: Sequence[str], stderr: str, repo: str) -> Exception:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    first = next((ln for ln in lines if ln.startswith("fatal:")), lines[0] if lines else "")
    low = stderr.lower()
    if any(s in low for s in ("is corrupt", "unable to unpack", "inflate:", "object file", "bad tree object",
                              "broken link", "missing blob", "missing tree")):
        # An object store git cannot read cannot be proven to hold signed code: block, do not "error out".
        return UnsafeInputError(f"the repository is damaged and cannot be verified: {first}", where=repo,
                                hint="re-clone the repository; `git fsck` shows what is broken")
    if "not a git repository" in low:
        return ConfigError("not a git repository", where=repo,
                           hint="pass the top-level directory of a git checkout (the one holding .git)")
    if "transport" in low and "not allowed" in low:
        return InfrastructureError(
            "the repository lacks objects git would have to fetch (a partial or incomplete clone)", where=repo,
            hint="the gate makes no network call: clone without --filter (and deep enough for --since)",
        )
    if "must be run in a work tree" in low:
        return ConfigError("the path is a .git directory, not a work tree", where=repo,
                           hint="pass the checkout's top-level directory, or --allow-dirty to check only signatures")
    if "dubious ownership" in low:
        return ConfigError(
            "git refuses the repository: it is owned by another user",
            where=repo,
            hint="run the gate as the user who owns the checkout (kfp-gates never edits safe.directory)",
        )
    if any(s in low for s in ("unknown revision", "bad revision", "invalid object name", "bad object",
                              "needed a single revision", "not a valid object name")):
        return ConfigError(f"git cannot resolve a revision: {first}", where=repo,
                           hint="check --rev / --since; a shallow clone may lack the base commit")
    return InfrastructureError(f"git {' '.join(args[:2])} failed: {first or 'no message'}", where=repo)
