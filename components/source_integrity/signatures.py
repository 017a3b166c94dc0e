"""Commit signatures as git verifies them, and the verdict on each commit.

git does the cryptography (``ssh-keygen -Y verify`` against the allowed-signers
file for SSH signatures, ``gpg --verify`` against a keyring for OpenPGP ones) and
reports it through ``%G?``. What a status means depends on the signature's
format, which git does not report, so it is read from the commit object's
``gpgsig`` header:

* SSH: accepted only as ``G`` *with* a principal, i.e. the key is listed in
  the allowed-signers file (for the commit's time, when the file gives
  ``valid-after``/``valid-before``). ``U`` means "good signature, key unknown".
* OpenPGP: the keyring holds exactly the allowed public keys (kfp-gates builds
  it per run from an armored key file), so ``G`` or ``U`` is an allowed signer and
  ``E`` ("no public key") is someone else.
* X.509 and unknown formats are never accepted.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kfp_gates.components.common.errors import InfrastructureError
from kfp_gates.components.common.severity import Severity

from ._text import printable
from .git import Git

SignatureFormat = Literal["ssh", "openpgp", "x509", "none", "unknown"]

UNSIGNED = "KFPG-SRC-UNSIGNED"
BAD_SIGNATURE = "KFPG-SRC-BAD-SIGNATURE"
UNKNOWN_SIGNER = "KFPG-SRC-UNKNOWN-SIGNER"
EXPIRED = "KFPG-SRC-EXPIRED-SIGNATURE"
REVOKED = "KFPG-SRC-REVOKED-KEY"
UNVERIFIABLE = "KFPG-SRC-UNVERIFIABLE-SIGNATURE"

# %H tree parents author committer commit-time subject | status signer key fingerprint raw-output
_FIELDS = ("%H", "%T", "%P", "%an <%ae>", "%cn <%ce>", "%ct", "%s", "%G?", "%GS", "%GK", "%GF", "%GG")


@dataclass(frozen=True)
class CommitSignature:
    """One commit and what git said about its signature."""

    commit: str
    tree: str
    parents: tuple[str, ...]
    author: str
    committer: str
    committed_at: int
    subject: str
    status: str  # git's %G?
    signer: str  # SSH principal, or the OpenPGP user id
    key: str
    fingerprint: str
    git_output: str  # %GG, the verifier's own words
    signature_format: SignatureFormat
    raw_sha256: str  # sha256 of the raw commit object, for evidence


@dataclass(frozen=True)
class Verdict:
    """``finding_id`` is None when the commit carries a valid signature by an allowed signer."""

    finding_id: str | None
    severity: Severity
    reason: str

    @property
    def ok(self) -> bool:
        return self.finding_id is None


def signature_format(raw_commit: bytes) -> SignatureFormat:
    """The format of the commit's ``gpgsig`` header, ``none`` when there is none."""
    head = raw_commit.split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        if line.startswith((b"gpgsig ", b"gpgsig-sha256 ")):
            armor = line.split(b" ", 1)[1].strip()
            if armor.startswith(b"-----BEGIN SSH SIGNATURE"):
                return "ssh"
            if armor.startswith(b"-----BEGIN PGP SIGNATURE"):
                return "openpgp"
            if armor.startswith(b"-----BEGIN SIGNED MESSAGE"):
                return "x509"
            return "unknown"
    return "none"


def read_raw_commits(git: Git, commits: Sequence[str]) -> dict[str, bytes]:
    """Raw commit objects by id, read in one ``git cat-file --batch`` call."""
    if not commits:
        return {}
    out = git.run("cat-file", "--batch", stdin=("\n".join(commits) + "\n").encode())
    raw: dict[str, bytes] = {}
    pos = 0
    for _ in commits:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].decode("ascii", "replace").split()
        if len(header) != 3 or header[1] != "commit":
            raise InfrastructureError(f"git cat-file returned an unexpected object header {header!r}")
        size = int(header[2])
        raw[header[0]] = out[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
    return raw


def read_signatures(git: Git, commits: Sequence[str]) -> list[CommitSignature]:
    """git's signature status of each commit, in the order given.

    The record separator is a random token, so nothing a commit message can
    contain splits a record in the wrong place.
    """
    if not commits:
        return []
    token = secrets.token_hex(16)
    fmt = "%x00".join(_FIELDS) + f"%x00{token}"
    listing = ("\n".join(commits) + "\n").encode()
    out = git.text("log", "--no-walk=unsorted", "--stdin", f"--format={fmt}", stdin=listing)
    raw = read_raw_commits(git, commits)
    records: list[CommitSignature] = []
    for chunk in out.split(token):
        chunk = chunk.strip("\n")
        if not chunk:
            continue
        f = chunk.split("\x00")
        if len(f) < len(_FIELDS):
            raise InfrastructureError("git log returned a record with missing fields")
        commit = f[0]
        body = raw.get(commit, b"")
        records.append(
            CommitSignature(
                commit=commit,
                tree=f[1],
                parents=tuple(f[2].split()),
                author=printable(f[3]),
                committer=printable(f[4]),
                committed_at=int(f[5] or 0),
                subject=printable(f[6]),
                status=f[7],
                signer=f[8],
                key=f[9],
                fingerprint=f[10],
                git_output=f[11].strip(),
                signature_format=signature_format(body),
                raw_sha256=hashlib.sha256(body).hexdigest(),
            )
        )
    if [r.commit for r in records] != list(commits):
        raise InfrastructureError("git log did not return the commits it was asked for")
    return records


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("gpg:    ")]
    picked = [ln for ln in lines if "signature" in ln.lower() or "key" in ln.lower()]
    return (picked or lines or [""])[-1]


def judge(sig: CommitSignature) -> Verdict:
    """Decide whether one commit is signed by an allowed signer (pure function of git's report)."""
    st, fmt = sig.status, sig.signature_format
    if fmt == "none":
        return Verdict(UNSIGNED, Severity.HIGH, "commit is not signed")
    if st == "B":
        return Verdict(
            BAD_SIGNATURE,
            Severity.CRITICAL,
            "signature does not match the commit: the commit was changed after it was signed "
            f"(rewritten or forged); git: {_first_line(sig.git_output) or 'bad signature'}",
        )
    if fmt == "x509":
        return Verdict(
            UNVERIFIABLE, Severity.HIGH, "X.509 (gpgsm) signatures are not accepted; sign with SSH or OpenPGP"
        )
    if fmt == "unknown":
        return Verdict(UNVERIFIABLE, Severity.HIGH, "signature is in a format kfp-gates does not recognise")
    if st == "X":
        return Verdict(EXPIRED, Severity.HIGH, f"signature by {sig.signer or sig.key} has expired")
    if st == "Y":
        return Verdict(EXPIRED, Severity.HIGH, f"signature made by an expired key {sig.fingerprint or sig.key}")
    if st == "R":
        return Verdict(REVOKED, Severity.CRITICAL, f"signature made by a revoked key {sig.fingerprint or sig.key}")
    if fmt == "ssh":
        if st == "G" and sig.signer:
            return Verdict(None, Severity.INFO, f"good SSH signature by allowed signer {sig.signer}")
        if st in ("G", "U"):
            return Verdict(
                UNKNOWN_SIGNER,
                Severity.HIGH,
                f"signed with SSH key {sig.key or sig.fingerprint}, which is not in the allowed-signers file "
                "(or not valid for this commit's date)",
            )
        if st == "N":
            return Verdict(UNVERIFIABLE, Severity.HIGH, "SSH signature cannot be checked: ssh-keygen is not installed")
        return Verdict(UNVERIFIABLE, Severity.HIGH, f"SSH signature cannot be checked: {_first_line(sig.git_output)}")
    # OpenPGP
    if st in ("G", "U"):
        return Verdict(None, Severity.INFO, f"good OpenPGP signature by allowed key {sig.fingerprint} ({sig.signer})")
    if st == "E" and "no public key" in sig.git_output.lower():
        return Verdict(
            UNKNOWN_SIGNER,
            Severity.HIGH,
            f"signed with OpenPGP key {sig.key or sig.fingerprint}, which is not among the allowed keys",
        )
    if st == "N":
        return Verdict(UNVERIFIABLE, Severity.HIGH, "OpenPGP signature cannot be checked: gpg is not installed")
    return Verdict(UNVERIFIABLE, Severity.HIGH, f"OpenPGP signature cannot be checked: {_first_line(sig.git_output)}")
