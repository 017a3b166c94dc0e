"""The two small interfaces every backend implements, and the ECDSA helpers they share."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kfp_gates.components.common.errors import ConfigError

from ..bundle import Bundle, make_bundle, pae
from ..errors import BAD_SIGNATURE, WRONG_KEY, SignatureError

SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


class Signer(ABC):
    """Turns a statement (the DSSE payload bytes) into a signed bundle."""

    #: short backend name recorded in results, e.g. ``ec-key``, ``vault-transit``
    name: str = ""

    @abstractmethod
    def sign(self, payload: bytes) -> Bundle:
        """Sign ``payload``. Raises ConfigError (bad key), SignerUnavailableError (backend down)."""

    def describe(self) -> dict[str, Any]:
        """What the result may record about the signer (never secret)."""
        return {"backend": self.name}


class Verifier(ABC):
    """Checks a bundle's signature and returns what it signed."""

    name: str = ""

    @abstractmethod
    def verify(self, bundle: Bundle) -> tuple[str, bytes]:
        """Return ``(payload_type, payload)`` of an authentic bundle.

        Raises SignatureError (``KFPG-SIGN-WRONG-KEY``, ``-BAD-SIGNATURE``,
        ``-UNTRUSTED-CERTIFICATE``); never returns on a bad signature.
        """

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name}


def check_curve(public_key: Any, where: str) -> ec.EllipticCurvePublicKey:
    """The key as an EC public key on a curve model-signing supports. Raises ConfigError."""
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ConfigError(
            f"unsupported key type {type(public_key).__name__}: model-signing uses elliptic-curve keys",
            where=where,
            hint="generate one: openssl ecparam -name prime256v1 -genkey -noout -out key.pem",
        )
    if public_key.curve.name not in SUPPORTED_CURVES:
        raise ConfigError(f"unsupported curve {public_key.curve.name}", where=where, hint="use P-256, P-384 or P-521")
    return public_key


def ec_hash(public_key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    """The hash upstream pairs with each curve (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512)."""
    size = public_key.curve.key_size
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[size]


def key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """sha256 of the SubjectPublicKeyInfo PEM: the ``publicKey.hint`` upstream writes."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def key_bundle(payload: bytes, der_signature: bytes, public_key: ec.EllipticCurvePublicKey) -> Bundle:
    return make_bundle(payload, der_signature, {"publicKey": {"hint": key_hint(public_key)}})


def verify_ecdsa(public_key: ec.EllipticCurvePublicKey, bundle: Bundle, *, check_hint: bool = True) -> None:
    """Verify the bundle's DSSE signature with ``public_key``. Raises SignatureError."""
    if check_hint:
        hint = bundle.public_key_hint
        mine = key_hint(public_key)
        if bundle.kind != "key":
            raise SignatureError(
                f"the signature was made with a {bundle.kind}, not a bare key",
                finding_id=WRONG_KEY,
                hint="verify it with the matching option (--certificate-chain for certificate signatures)",
            )
        if hint is not None and hint != mine:
            raise SignatureError(
                f"signed by another key (signature key hint {hint[:16]}..., this public key {mine[:16]}...)",
                finding_id=WRONG_KEY,
                hint="verify with the public key that belongs to the signer, or re-sign the model",
            )
    try:
        public_key.verify(bundle.signature, pae(bundle.payload, bundle.payload_type), ec.ECDSA(ec_hash(public_key)))
    except InvalidSignature:
        raise SignatureError(
            "the signature does not verify with this key (signature or signed statement altered, or another key)",
            finding_id=BAD_SIGNATURE,
            hint="the signature file was modified or belongs to another signer; do not deploy",
        ) from None
