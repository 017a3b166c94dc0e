"""Keys, certificate chains and small models generated per test (nothing is stored in the repo)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class KeyPair:
    private: Path
    public: Path
    key: ec.EllipticCurvePrivateKey


def write_keypair(
    directory: Path, name: str = "key", curve: ec.EllipticCurve | None = None, passphrase: bytes | None = None
) -> KeyPair:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    priv = directory / f"{name}.pem"
    pub = directory / f"{name}.pub"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return KeyPair(priv, pub, key)


def make_model(root: Path) -> Path:
    """A small model directory: weights, config, a nested file, an empty file and git noise."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "weights.bin").write_bytes(os.urandom(300_000))
    (root / "config.json").write_text('{"layers": 2}')
    (root / "tokenizer").mkdir()
    (root / "tokenizer" / "vocab.txt").write_text("a\nb\nc\n")
    (root / "empty.txt").write_bytes(b"")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


@pytest.fixture
def keypair(tmp_path: Path) -> KeyPair:
    return write_keypair(tmp_path)


@pytest.fixture
def other_keypair(tmp_path: Path) -> KeyPair:
    return write_keypair(tmp_path, "other")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path / "model")


@dataclass
class Chain:
    root_cert: Path
    intermediate_cert: Path
    leaf_cert: Path
    leaf_key: Path


def _cert(subject: str, issuer_name: x509.Name | None, pub, signer_key, *, ca: bool, signing: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=signing,
                content_commitment=False,
                key_encipherment=not (signing or ca),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return b.sign(signer_key, hashes.SHA256())


def write_chain(directory: Path, *, leaf_can_sign: bool = True, prefix: str = "") -> Chain:
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = _cert(f"{prefix}root", None, root_key.public_key(), root_key, ca=True, signing=False)
    int_key = ec.generate_private_key(ec.SECP384R1())
    inter = _cert(f"{prefix}intermediate", root.subject, int_key.public_key(), root_key, ca=True, signing=False)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(f"{prefix}signer", inter.subject, leaf_key.public_key(), int_key, ca=False, signing=leaf_can_sign)
    paths = {}
    for n, c in (("root", root), ("intermediate", inter), ("leaf", leaf)):
        paths[n] = directory / f"{prefix}{n}.crt"
        paths[n].write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key_path = directory / f"{prefix}leaf.key"
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Chain(paths["root"], paths["intermediate"], paths["leaf"], key_path)


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return write_chain(tmp_path)
