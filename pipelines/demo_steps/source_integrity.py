"""Demo of the source-integrity gate: a component lock, and signed commits.

Everything is generated in the demo's temp dir: SSH keys with ``ssh-keygen``,
a git repository with signed commits, a copy of the bundled compiled pipeline
whose training component is edited after locking. :class:`SignedRepo` is also
what the tests and the benchmark use to build real signed repositories.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.kfp_ir import load_pipeline, parse_pipeline
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.source_integrity import SourceOptions, create_lock, lock_gate, verify_source

from ..demo import SAMPLES, DemoStep

PIPELINE = SAMPLES / "source_integrity" / "train_pipeline.yaml"
GATE = "source_integrity"


def git_env() -> dict[str, str]:
    """An environment where git reads no system or user config (the user's own config stays untouched)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"})
    return env


def ssh_key(directory: Path, name: str) -> Path:
    """A new passphrase-less ed25519 key ``directory/name`` (public key next to it as ``.pub``)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def allowed_signers(path: Path, signers: dict[str, Path]) -> Path:
    """Write an allowed-signers file: principal (email) -> private key path (its ``.pub`` is listed)."""
    lines = [f'{who} namespaces="git" {Path(str(key) + ".pub").read_text().strip()}' for who, key in signers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class SignedRepo:
    """A git repository whose commits are signed (or not) with SSH keys, for demos and tests."""

    def __init__(self, path: Path, *, name: str = "Alice", email: str = "alice@example.com") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", name)
        self.git("config", "user.email", email)
        self.git("config", "gpg.format", "ssh")
        self.git("config", "commit.gpgSign", "false")

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, text=True, check=True,
            env={**git_env(), **(env or {})},
        )
        return proc.stdout.strip()

    def commit(
        self,
        message: str,
        files: dict[str, str],
        *,
        key: Path | None,
        author: tuple[str, str] | None = None,
    ) -> str:
        """Write ``files``, commit them (signed with ``key`` unless None) and return the commit id."""
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "--", *files)
        args = ["commit", "-q", "-m", message]
        if author:
            args.append(f"--author={author[0]} <{author[1]}>")
        if key is not None:
            args = ["-c", f"user.signingkey={key}", *args, "-S"]
        self.git(*args)
        return self.git("rev-parse", "HEAD")


def _settings(policy: GatePolicy) -> GateSettings:
    return GateSettings.from_effective(policy.gate(GATE))


def _lock_untouched(policy: GatePolicy, tmp: Path) -> GateResult:
    pipeline = load_pipeline(PIPELINE)
    lock = create_lock(pipeline)
    return lock_gate(pipeline, lock, _settings(policy), lock_path="components.lock")


def _lock_edited(policy: GatePolicy, tmp: Path) -> GateResult:
    lock = create_lock(load_pipeline(PIPELINE))
    # The change a reviewer never saw: the trained model is shifted by one.
    text = PIPELINE.read_text().replace("b = my - a * mx", "b = my - a * mx + 1")
    edited = tmp / "source_integrity" / "train_pipeline.edited.yaml"
    edited.parent.mkdir(parents=True, exist_ok=True)
    edited.write_text(text)
    return lock_gate(parse_pipeline(text, str(edited)), lock, _settings(policy), lock_path="components.lock")


def _repo(tmp: Path, name: str) -> tuple[SignedRepo, Path, Path]:
    base = tmp / "source_integrity" / name
    alice = ssh_key(base / "keys", "alice")
    signers = allowed_signers(base / "allowed_signers", {"alice@example.com": alice})
    repo = SignedRepo(base / "repo")
    repo.commit("train: first model", {"train.py": "print('train')\n"}, key=alice)
    repo.commit("train: more epochs", {"train.py": "print('train 10 epochs')\n"}, key=alice)
    return repo, alice, signers


def _signed_history(policy: GatePolicy, tmp: Path) -> GateResult:
    repo, _, signers = _repo(tmp, "signed")
    options = SourceOptions(since=repo.git("rev-list", "--max-parents=0", "HEAD"), allowed_signers=signers)
    return verify_source(repo.path, options, _settings(policy))


def _unsigned_commit(policy: GatePolicy, tmp: Path) -> GateResult:
    repo, _, signers = _repo(tmp, "unsigned")
    root = repo.git("rev-list", "--max-parents=0", "HEAD")
    repo.commit("train: quick fix", {"train.py": "import os; os.system('curl evil')\n"}, key=None,
                author=("Mallory", "mallory@example.com"))
    options = SourceOptions(since=root, allowed_signers=signers)
    return verify_source(repo.path, options, _settings(policy))


STEPS: list[DemoStep] = [
    DemoStep("Component lock: compiled pipeline as reviewed", GATE, _lock_untouched, "pass"),
    DemoStep("Component lock: training code edited after review", GATE, _lock_edited, "fail"),
    DemoStep("Signed commits: every commit signed by an allowed SSH key", GATE, _signed_history, "pass"),
    DemoStep("Signed commits: an unsigned commit on top", GATE, _unsigned_commit, "fail"),
]
