"""EC key files: curves, encrypted keys, passphrases registered with the redactor, refused key types."""

from __future__ import annotations

import model_signing
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.model_signing import sign_model, verify_model
from kfp_gates.components.model_signing.signers import ec_key

from .conftest import write_keypair


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()], ids=lambda c: c.name)
def test_every_supported_curve_signs_and_verifies_here_and_upstream(model, tmp_path, curve) -> None:
    kp = write_keypair(tmp_path, curve.name, curve)
    sig = tmp_path / f"{curve.name}.sig"
    sign_model(model, ec_key.ECKeySigner.from_file(kp.private), signature=sig)
    verify_model(model, sig, ec_key.PublicKeyVerifier.from_file(kp.public))
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=kp.public).verify(model, sig)


def test_passphrases_are_registered_for_redaction(tmp_path, monkeypatch) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text("file-passphrase-123\n")
    assert ec_key.passphrase_from_file(pw_file) == b"file-passphrase-123"
    monkeypatch.setenv("KEY_PW", "env-passphrase-456")
    assert ec_key.passphrase_from_env("KEY_PW") == b"env-passphrase-456"
    text = redact.redact("a file-passphrase-123 and env-passphrase-456")
    assert "passphrase-123" not in text and "passphrase-456" not in text


def test_encrypted_key_errors_say_what_to_do_without_the_passphrase(tmp_path) -> None:
    kp = write_keypair(tmp_path, "enc", passphrase=b"right-one-789")
    assert isinstance(ec_key.load_private_key(kp.private, b"right-one-789"), ec.EllipticCurvePrivateKey)
    with pytest.raises(ConfigError, match="no passphrase") as exc:
        ec_key.load_private_key(kp.private)
    assert "--passphrase-file" in str(exc.value)
    with pytest.raises(ConfigError, match="wrong passphrase") as exc:
        ec_key.load_private_key(kp.private, b"wrong-one-000")
    assert "wrong-one-000" not in str(exc.value)
    plain = write_keypair(tmp_path, "plain")
    with pytest.raises(ConfigError, match="not encrypted"):
        ec_key.load_private_key(plain.private, b"unneeded")


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP256K1()),
        rsa.generate_private_key(65537, 2048),
        ed25519.Ed25519PrivateKey.generate(),
    ],
    ids=["secp256k1", "rsa", "ed25519"],
)
def test_unsupported_keys_are_refused(tmp_path, key) -> None:
    p = tmp_path / "k.pem"
    p.write_bytes(_pem(key))
    with pytest.raises(ConfigError, match="unsupported"):
        ec_key.load_private_key(p)


def test_missing_or_garbage_key_files(tmp_path) -> None:
    with pytest.raises(InputNotFoundError):
        ec_key.load_private_key(tmp_path / "none.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(ConfigError):
        ec_key.load_private_key(junk)
    with pytest.raises(ConfigError):
        ec_key.load_public_key(junk)
