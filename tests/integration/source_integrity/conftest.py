"""Real git repositories signed with real SSH (ssh-keygen) and OpenPGP (gpg) keys."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kfp_gates.pipelines.demo_steps.source_integrity import SignedRepo, allowed_signers, git_env, ssh_key

ALICE = ("Alice", "alice@example.com")
BOB = ("Bob", "bob@example.com")
MALLORY = ("Mallory", "mallory@example.com")


@dataclass(frozen=True)
class Keys:
    alice: Path
    bob: Path
    mallory: Path
    signers: Path  # allowed: alice and bob, not mallory


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    if shutil.which("ssh-keygen") is None or shutil.which("git") is None:
        pytest.fail("git and ssh-keygen are required (Debian: apt-get install git openssh-client)")
    d = tmp_path_factory.mktemp("ssh-keys")
    alice, bob, mallory = (ssh_key(d, n) for n in ("alice", "bob", "mallory"))
    signers = allowed_signers(d / "allowed_signers", {ALICE[1]: alice, BOB[1]: bob})
    return Keys(alice=alice, bob=bob, mallory=mallory, signers=signers)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., SignedRepo]:
    count = iter(range(1000))

    def make(name: str | None = None) -> SignedRepo:
        return SignedRepo(tmp_path / (name or f"repo{next(count)}"), name=ALICE[0], email=ALICE[1])

    return make


@pytest.fixture
def signed_repo(make_repo: Callable[..., SignedRepo], keys: Keys) -> SignedRepo:
    """Three commits, all signed by allowed signers (alice, bob, alice)."""
    repo = make_repo("signed")
    repo.commit("init", {"train.py": "print(1)\n", ".gitignore": "__pycache__/\n*.log\n"}, key=keys.alice)
    repo.commit("data", {"data.py": "rows = 10\n"}, key=keys.bob, author=BOB)
    repo.commit("more epochs", {"train.py": "print(2)\n"}, key=keys.alice)
    return repo


@dataclass(frozen=True)
class GpgIdentity:
    home: Path
    uid: str
    public: Path  # armored public key file


def _gpg(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--quiet", *args],
                          capture_output=True, text=True, check=True)


@pytest.fixture(scope="session")
def gpg_identities(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, GpgIdentity]]:
    """Two OpenPGP keys (carol allowed, eve not), each in its own GnuPG home; agents stopped afterwards."""
    if shutil.which("gpg") is None:
        pytest.fail("gpg is required for the OpenPGP tests (Debian: apt-get install gnupg)")
    out: dict[str, GpgIdentity] = {}
    for name in ("carol", "eve"):
        # Short paths: gpg-agent's socket path must stay under the Unix socket length limit.
        home = Path(tmp_path_factory.mktemp(f"g{name}"))
        os.chmod(home, 0o700)
        uid = f"{name.title()} <{name}@example.com>"
        _gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
        public = home.parent / f"{name}.asc"
        public.write_text(_gpg(home, "--armor", "--export", f"{name}@example.com").stdout)
        out[name] = GpgIdentity(home=home, uid=uid, public=public)
    yield out
    for ident in out.values():
        subprocess.run(["gpgconf", "--homedir", str(ident.home), "--kill", "all"], capture_output=True, check=False)


def gpg_commit(repo: SignedRepo, ident: GpgIdentity, message: str, files: dict[str, str]) -> str:
    """Commit ``files`` signed with the OpenPGP key of ``ident``."""
    for rel, text in files.items():
        (repo.path / rel).write_text(text)
    repo.git("add", "--", *files)
    email = ident.uid.split("<")[1].rstrip(">")
    repo.git("-c", "gpg.format=openpgp", "-c", f"user.signingkey={email}", "commit", "-q", "-S", "-m", message,
             env={"GNUPGHOME": str(ident.home)})
    return repo.git("rev-parse", "HEAD")


__all__ = ["ALICE", "BOB", "MALLORY", "GpgIdentity", "Keys", "git_env", "gpg_commit"]
