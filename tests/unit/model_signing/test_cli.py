"""sign-model / verify-model through the real console script: exit codes, secrets, offline behaviour."""

from __future__ import annotations

import io
import json

import pytest

from kfp_gates.components.model_signing import sign_model, verify_model
from kfp_gates.components.model_signing.errors import SignerUnavailableError
from kfp_gates.components.model_signing.progress import TerminalProgress, terminal_progress
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier
from kfp_gates.components.model_signing.signers.sigstore import SigstoreSigner, SigstoreVerifier
from tests.support.netguard import no_network
from tests.support.openbao import free_port

from .conftest import write_keypair
from .test_binding import write_result

PASSPHRASE = "correct-horse-battery-staple-4711"


def test_sign_then_verify_passes_and_tamper_blocks_naming_the_file(cli, model, keypair, tmp_path) -> None:
    sig = tmp_path / "m.sig"
    r = cli(
        "sign-model",
        str(model),
        "--key",
        str(keypair.private),
        "--signature",
        str(sig),
        "--public-key-out",
        str(tmp_path / "out.pub"),
    )
    assert r.code == 0, r
    assert (tmp_path / "out.pub").read_bytes() == keypair.public.read_bytes()
    r = cli(
        "verify-model", str(model), "--signature", str(sig), "--public-key", str(keypair.public), "--format", "json"
    )
    assert r.code == 0, r
    assert json.loads(r.out)["decision"] == "pass"
    (model / "tokenizer" / "vocab.txt").write_text("poisoned")
    r = cli("verify-model", str(model), "--signature", str(sig), "--public-key", str(keypair.public))
    assert r.code == 1, r
    assert "tokenizer/vocab.txt" in r.out and "KFPG-SIGN-MODIFIED" in r.out


def test_missing_signature_key_or_model_is_exit_2(cli, model, keypair, tmp_path) -> None:
    sig = tmp_path / "m.sig"
    assert cli("sign-model", str(model), "--key", str(keypair.private), "--signature", str(sig)).code == 0
    r = cli("verify-model", str(model), "--signature", str(tmp_path / "none.sig"), "--public-key", str(keypair.public))
    assert r.code == 2 and "signature file not found" in r.err
    r = cli("verify-model", str(model), "--signature", str(sig), "--public-key", str(tmp_path / "none.pub"))
    assert r.code == 2 and "public key not found" in r.err
    assert cli("sign-model", str(model), "--key", str(tmp_path / "none.pem")).code == 2
    assert cli("sign-model", str(tmp_path / "nomodel"), "--key", str(keypair.private)).code == 2
    assert cli("verify-model", str(model), "--signature", str(sig)).code == 2  # no verifier chosen


def test_signature_by_another_key_and_non_bundle_are_exit_1(cli, model, keypair, tmp_path) -> None:
    other = write_keypair(tmp_path, "other")
    sig = tmp_path / "m.sig"
    assert cli("sign-model", str(model), "--key", str(keypair.private), "--signature", str(sig)).code == 0
    r = cli("verify-model", str(model), "--signature", str(sig), "--public-key", str(other.public))
    assert r.code == 1 and "KFPG-SIGN-WRONG-KEY" in r.out
    r = cli("verify-model", str(model), "--signature", str(keypair.public), "--public-key", str(keypair.public))
    assert r.code == 1 and "KFPG-SIGN-NOT-A-BUNDLE" in r.out


def test_encrypted_key_with_passphrase_file_or_env_and_the_passphrase_never_shows(cli, model, tmp_path) -> None:
    kp = write_keypair(tmp_path, "enc", passphrase=PASSPHRASE.encode())
    pw = tmp_path / "pw"
    pw.write_text(PASSPHRASE + "\n")
    r = cli(
        "--debug",
        "sign-model",
        str(model),
        "--key",
        str(kp.private),
        "--passphrase-file",
        str(pw),
        "--signature",
        str(tmp_path / "a.sig"),
    )
    assert r.code == 0, r
    r = cli(
        "sign-model",
        str(model),
        "--key",
        str(kp.private),
        "--passphrase-env",
        "MY_PASS",
        "--signature",
        str(tmp_path / "b.sig"),
        env={"MY_PASS": PASSPHRASE},
    )
    assert r.code == 0, r
    r = cli("sign-model", str(model), "--key", str(kp.private), "--signature", str(tmp_path / "c.sig"))
    assert r.code == 2 and "encrypted" in r.err
    pw.write_text("wrong-passphrase")
    r = cli("--debug", "sign-model", str(model), "--key", str(kp.private), "--passphrase-file", str(pw))
    assert r.code == 2 and "passphrase" in r.err and "wrong-passphrase" not in r.err
    r = cli("sign-model", str(model), "--key", str(kp.private), "--passphrase-env", "UNSET_VAR_X")
    assert r.code == 2 and "UNSET_VAR_X" in r.err
    for sig in ("a.sig", "b.sig"):
        assert PASSPHRASE not in (tmp_path / sig).read_text()
        verify_model(model, tmp_path / sig, PublicKeyVerifier.from_file(kp.public))


def test_require_gates_via_cli_and_policy(cli, model, keypair, tmp_path) -> None:
    scan = write_result(tmp_path / "scan.json", "model_scan", model)
    sig = tmp_path / "m.sig"
    assert (
        cli(
            "sign-model", str(model), "--key", str(keypair.private), "--signature", str(sig), "--gate-result", str(scan)
        ).code
        == 0
    )
    base = ("verify-model", str(model), "--signature", str(sig), "--public-key", str(keypair.public))
    assert cli(*base, "--require-gates", "model_scan").code == 0
    r = cli(*base, "--require-gates", "model_scan,data_validation")
    assert r.code == 1 and "KFPG-SIGN-GATE-MISSING" in r.out and "data_validation" in r.out
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: standard\n"
        "gates:\n  model_signing:\n    require_gates: [dependency_scan]\n"
    )
    r = cli(*base, "--policy", str(policy))
    assert r.code == 1 and "dependency_scan" in r.out
    policy.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  model_signing:\n    require_gate: [x]\n")
    r = cli(*base, "--policy", str(policy))
    assert r.code == 2 and "require_gates" in r.err


def test_failed_gate_result_refuses_signing_exit_1(cli, model, keypair, tmp_path) -> None:
    bad = write_result(tmp_path / "scan.json", "model_scan", model, fail=True)
    r = cli(
        "sign-model",
        str(model),
        "--key",
        str(keypair.private),
        "--gate-result",
        str(bad),
        "--signature",
        str(tmp_path / "x.sig"),
    )
    assert r.code == 1 and not (tmp_path / "x.sig").exists()


def test_symlink_in_model_refuses_signing_exit_1(cli, model, keypair, tmp_path) -> None:
    (model / "link").symlink_to(model / "config.json")
    r = cli("sign-model", str(model), "--key", str(keypair.private), "--signature", str(tmp_path / "x.sig"))
    assert r.code == 1 and "link" in r.out


def test_unreachable_vault_is_exit_3(cli, model, tmp_path) -> None:
    r = cli(
        "sign-model",
        str(model),
        "--vault-transit",
        "k",
        "--vault-addr",
        f"http://127.0.0.1:{free_port()}",
        "--vault-timeout",
        "2",
        env={"VAULT_TOKEN": "s.notarealtoken000000000000"},
    )
    assert r.code == 3 and "unreachable" in r.err
    assert "notarealtoken" not in r.err + r.out


def test_sigstore_is_reported_unavailable_offline_without_touching_the_network(cli, model) -> None:
    with no_network() as attempts:
        with pytest.raises(SignerUnavailableError, match="unavailable offline"):
            SigstoreSigner()
        with pytest.raises(SignerUnavailableError, match="unavailable offline"):
            SigstoreVerifier(identity="me@example.com", oidc_issuer="https://accounts.google.com")
    assert attempts == []
    r = cli("sign-model", str(model), "--sigstore")
    assert r.code == 3 and "unavailable offline" in r.err


def test_sign_and_verify_make_no_network_call(model, keypair, tmp_path) -> None:
    with no_network() as attempts:
        sign_model(model, ECKeySigner.from_file(keypair.private), signature=tmp_path / "s.sig")
        verify_model(model, tmp_path / "s.sig", PublicKeyVerifier.from_file(keypair.public))
    assert attempts == []


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(cli, model, keypair, tmp_path) -> None:
    assert terminal_progress(100, "x", io.StringIO()) is None
    tty = _Tty()
    bar = terminal_progress(2 << 30, "hashing", tty)
    assert isinstance(bar, TerminalProgress)
    bar(1 << 30)
    bar.close()
    assert "50.0%" in tty.getvalue() and "GiB/s" in tty.getvalue()
    r = cli("sign-model", str(model), "--key", str(keypair.private), "--signature", str(tmp_path / "s.sig"))
    assert r.code == 0 and "[" not in r.err.replace("[REDACTED]", "")


def test_progress_bar_is_drawn_when_stderr_is_a_terminal(model, keypair, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    master, slave = os.openpty()
    try:
        exe = Path(sys.executable).with_name("kfp-gates")
        proc = subprocess.run(
            [str(exe), "sign-model", str(model), "--key", str(keypair.private), "--signature", str(tmp_path / "s.sig")],
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "hashing [" in err and "100.0%" in err and "GiB/s" in err


def test_certificate_chain_via_cli(cli, model, tmp_path) -> None:
    from .conftest import write_chain

    chain = write_chain(tmp_path)
    other = write_chain(tmp_path, prefix="other-")
    sig = tmp_path / "c.sig"
    r = cli(
        "sign-model",
        str(model),
        "--key",
        str(chain.leaf_key),
        "--certificate",
        str(chain.leaf_cert),
        "--certificate-chain",
        str(chain.intermediate_cert),
        "--signature",
        str(sig),
    )
    assert r.code == 0, r
    assert (
        cli("verify-model", str(model), "--signature", str(sig), "--certificate-chain", str(chain.root_cert)).code == 0
    )
    r = cli("verify-model", str(model), "--signature", str(sig), "--certificate-chain", str(other.root_cert))
    assert r.code == 1 and "KFPG-SIGN-UNTRUSTED-CERTIFICATE" in r.out


def test_sigstore_verification_is_unavailable_offline_exit_3(cli, model, keypair, tmp_path) -> None:
    sig = tmp_path / "m.sig"
    assert cli("sign-model", str(model), "--key", str(keypair.private), "--signature", str(sig)).code == 0
    r = cli(
        "verify-model",
        str(model),
        "--signature",
        str(sig),
        "--sigstore-identity",
        "me@example.com",
        "--sigstore-issuer",
        "https://accounts.google.com",
    )
    assert r.code == 3 and "unavailable offline" in r.err


def test_gate_result_file_must_be_the_signed_one_via_cli(cli, model, keypair, tmp_path) -> None:
    scan = write_result(tmp_path / "scan.json", "model_scan", model)
    sig = tmp_path / "m.sig"
    assert (
        cli(
            "sign-model", str(model), "--key", str(keypair.private), "--signature", str(sig), "--gate-result", str(scan)
        ).code
        == 0
    )
    base = ("verify-model", str(model), "--signature", str(sig), "--public-key", str(keypair.public))
    assert cli(*base, "--gate-result", str(scan)).code == 0
    other = write_result(tmp_path / "other.json", "model_scan", model)
    r = cli(*base, "--gate-result", str(other))
    assert r.code == 1 and "KFPG-SIGN-GATE-RESULT-UNSIGNED" in r.out
    assert cli(*base, "--gate-result", str(tmp_path / "missing.json")).code == 2


def test_the_attack_from_the_issue_is_refused_via_cli(cli, keypair, tmp_path) -> None:
    """Scan clean A (pass), sign poisoned B with A's result: exit 1 naming both digests, no signature."""
    import pickle

    from kfp_gates.components.common.digest import model_digest

    a, b = tmp_path / "a.pkl", tmp_path / "b.pkl"
    a.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    # a real os.system payload, built by opcode (never unpickled here)
    b.write_bytes(b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x04true"
                  b"\x94\x85\x94R\x94.")
    assert cli("scan-model", str(a), "--format", "json", "--output", str(tmp_path / "a.json")).code == 0
    assert cli("scan-model", str(b)).code == 1
    sig = tmp_path / "b.sig"
    r = cli("sign-model", str(b), "--key", str(keypair.private), "--gate-result", str(tmp_path / "a.json"),
            "--signature", str(sig))
    assert r.code == 1 and not sig.exists()
    assert "KFPG-SIGN-GATE-OTHER-SUBJECT" in r.out
    assert model_digest(a) in r.out and model_digest(b) in r.out
    # the honest path still works: A signed with A's result verifies, requiring the scan
    sig_a = tmp_path / "a.sig"
    assert cli("sign-model", str(a), "--key", str(keypair.private), "--gate-result", str(tmp_path / "a.json"),
               "--signature", str(sig_a)).code == 0
    assert cli("verify-model", str(a), "--signature", str(sig_a), "--public-key", str(keypair.public),
               "--require-gates", "model_scan").code == 0
