"""EC private key file signer and public key file verifier.

The private key is a PEM file (PKCS#8 or SEC1), optionally encrypted; its
passphrase comes from a file or an environment variable, never from the
command line (argv is visible to every process), and is registered with the
redactor so it cannot reach a log or an error message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

from ..bundle import Bundle, pae
from .interface import Signer, Verifier, check_curve, ec_hash, key_bundle, key_hint, verify_ecdsa


def _read(path: str | Path, what: str) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputNotFoundError(f"{what} not found", where=str(p)) from None
    except IsADirectoryError:
        raise InputNotFoundError(f"expected a {what}, found a directory", where=str(p)) from None
    except PermissionError:
        raise InputNotFoundError("permission denied", where=str(p)) from None


def passphrase_from_file(path: str | Path) -> bytes:
    """The passphrase in ``path`` (one trailing newline removed), registered for redaction."""
    value = _read(path, "passphrase file")
    value = value[:-1] if value.endswith(b"\n") else value
    value = value[:-1] if value.endswith(b"\r") else value
    redact.register_secret(value)
    return value


def passphrase_from_env(name: str) -> bytes:
    """The passphrase in environment variable ``name``, registered for redaction. Unset: ConfigError."""
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(
            f"environment variable {name} is not set",
            where="--passphrase-env",
            hint="export it, or use --passphrase-file",
        )
    redact.register_secret(value)
    return value.encode("utf-8")


def load_private_key(path: str | Path, passphrase: bytes | None = None) -> ec.EllipticCurvePrivateKey:
    """Load an EC private key. Raises InputNotFoundError (missing) and ConfigError (encrypted, wrong, not EC)."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, passphrase or None)
    except TypeError:
        if passphrase:
            raise ConfigError("a passphrase was given but the private key is not encrypted", where=str(path)) from None
        raise ConfigError(
            "the private key is encrypted and no passphrase was given",
            where=str(path),
            hint="pass --passphrase-file FILE or --passphrase-env VAR",
        ) from None
    except ValueError:
        hint = "check the passphrase" if passphrase else "expected a PEM private key (-----BEGIN ... PRIVATE KEY-----)"
        raise ConfigError(
            "cannot load the private key (wrong passphrase or not a PEM key)", where=str(path), hint=hint
        ) from None
    check_curve(key.public_key(), str(path))
    return key  # type: ignore[return-value]


def load_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    """Load a PEM public key (SubjectPublicKeyInfo). Raises InputNotFoundError / ConfigError."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ConfigError(
            "not a PEM public key", where=str(path), hint="export one: openssl ec -in key.pem -pubout -out key.pub"
        ) from None
    return check_curve(key, str(path))


class ECKeySigner(Signer):
    """Signs with an EC private key held in memory (loaded from a PEM file)."""

    name = "ec-key"

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key
        check_curve(private_key.public_key(), "private key")

    @classmethod
    def from_file(cls, path: str | Path, passphrase: bytes | None = None) -> ECKeySigner:
        return cls(load_private_key(path, passphrase))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def sign(self, payload: bytes) -> Bundle:
        pub = self._key.public_key()
        der = self._key.sign(pae(payload), ec.ECDSA(ec_hash(pub)))
        return key_bundle(payload, der, pub)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "key_hint": key_hint(self._key.public_key())}


class PublicKeyVerifier(Verifier):
    """Verifies bundles signed by the private half of ``public_key``."""

    name = "public-key"

    def __init__(self, public_key: ec.EllipticCurvePublicKey) -> None:
        self._key = check_curve(public_key, "public key")

    @classmethod
    def from_file(cls, path: str | Path) -> PublicKeyVerifier:
        return cls(load_public_key(path))

    def verify(self, bundle: Bundle) -> tuple[str, bytes]:
        verify_ecdsa(self._key, bundle)
        return bundle.payload_type, bundle.payload

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "key_hint": key_hint(self._key)}
