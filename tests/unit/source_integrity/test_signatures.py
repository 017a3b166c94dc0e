"""The verdict on each commit from git's report, and reading signature formats and signer files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.source_integrity import signatures as sig
from kfp_gates.components.source_integrity.source import check_allowed_signers

HEAD = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n"


def _raw(armor: bytes | None) -> bytes:
    if armor is None:
        return HEAD + b"\nmessage\n"
    return HEAD + b"gpgsig " + armor + b"\n abc\n -----END-----\n\nmessage\n"


@pytest.mark.parametrize(
    ("armor", "fmt"),
    [
        (None, "none"),
        (b"-----BEGIN SSH SIGNATURE-----", "ssh"),
        (b"-----BEGIN PGP SIGNATURE-----", "openpgp"),
        (b"-----BEGIN SIGNED MESSAGE-----", "x509"),
        (b"something else", "unknown"),
    ],
)
def test_signature_format_from_the_commit_header(armor, fmt):
    assert sig.signature_format(_raw(armor)) == fmt


def test_gpgsig_in_the_message_body_is_not_a_signature():
    raw = HEAD + b"\nmessage\ngpgsig -----BEGIN SSH SIGNATURE-----\n"
    assert sig.signature_format(raw) == "none"


@given(st.binary(max_size=400))
def test_signature_format_never_raises(data):
    assert sig.signature_format(data) in {"ssh", "openpgp", "x509", "none", "unknown"}


def _sig(status: str, fmt: str, signer: str = "", output: str = "") -> sig.CommitSignature:
    return sig.CommitSignature(
        commit="c" * 40, tree="t" * 40, parents=(), author="A <a@x>", committer="A <a@x>", committed_at=1,
        subject="s", status=status, signer=signer, key="SHA256:k", fingerprint="F", git_output=output,
        signature_format=fmt, raw_sha256="0" * 64,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("status", "fmt", "signer", "output", "expected"),
    [
        ("G", "ssh", "alice@example.com", "", None),
        ("G", "ssh", "", "", sig.UNKNOWN_SIGNER),  # good signature, but no principal in the file
        ("U", "ssh", "", "No principal matched.", sig.UNKNOWN_SIGNER),
        ("B", "ssh", "", "incorrect signature", sig.BAD_SIGNATURE),
        ("E", "ssh", "", "some error", sig.UNVERIFIABLE),
        ("N", "ssh", "", "", sig.UNVERIFIABLE),  # signature header but the verifier could not run
        ("N", "none", "", "", sig.UNSIGNED),
        ("G", "none", "", "", sig.UNSIGNED),  # never trust a status without a signature header
        ("G", "openpgp", "Bob <b@x>", "", None),
        ("U", "openpgp", "Bob <b@x>", "", None),
        ("E", "openpgp", "", "gpg: Can't check signature: No public key", sig.UNKNOWN_SIGNER),
        ("E", "openpgp", "", "other", sig.UNVERIFIABLE),
        ("X", "openpgp", "Bob", "", sig.EXPIRED),
        ("Y", "openpgp", "Bob", "", sig.EXPIRED),
        ("R", "openpgp", "Bob", "", sig.REVOKED),
        ("B", "openpgp", "", "BAD signature", sig.BAD_SIGNATURE),
        ("G", "x509", "x", "", sig.UNVERIFIABLE),
        ("G", "unknown", "x", "", sig.UNVERIFIABLE),
    ],
)
def test_judge(status, fmt, signer, output, expected):
    verdict = sig.judge(_sig(status, fmt, signer, output))
    assert verdict.finding_id == expected
    assert verdict.ok is (expected is None)
    assert verdict.reason


@given(st.sampled_from("GBUXYREN?"), st.sampled_from(["ssh", "openpgp", "x509", "none", "unknown"]),
       st.text(max_size=20), st.text(max_size=200))
def test_only_good_signatures_with_a_known_signer_pass(status, fmt, signer, output):
    verdict = sig.judge(_sig(status, fmt, signer, output))
    if verdict.ok:
        assert (fmt, status) in {("ssh", "G"), ("openpgp", "G"), ("openpgp", "U")}
        assert fmt != "ssh" or signer


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3v"


def test_allowed_signers_file(tmp_path: Path):
    f = tmp_path / "allowed"
    f.write_text(f"# team\n\nalice@example.com {KEY}\nbob@example.com,carol@example.com "
                 f'namespaces="git",valid-after="20240101" {KEY}\n')
    assert check_allowed_signers(f) == 2


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "lists no signer", None),
        ("# only a comment\n", "lists no signer", None),
        (f"alice@example.com {KEY}\nbob@example.com AAAAnot-a-type\n", "no SSH public key", 2),
    ],
)
def test_allowed_signers_file_errors(tmp_path: Path, text, message, line):
    f = tmp_path / "allowed"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        check_allowed_signers(f)
    assert message in exc.value.message
    assert exc.value.where == (f"{f}:{line}" if line else str(f))


def test_allowed_signers_missing_or_binary(tmp_path: Path):
    with pytest.raises(InputNotFoundError):
        check_allowed_signers(tmp_path / "missing")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputNotFoundError):
        check_allowed_signers(tmp_path / "bin")


@given(st.text(max_size=300))
def test_allowed_signers_parser_fuzz(tmp_path_factory, text):
    f = tmp_path_factory.mktemp("fuzz") / "allowed"
    f.write_text(text, encoding="utf-8")
    try:
        assert check_allowed_signers(f) >= 1
    except ConfigError:
        pass
