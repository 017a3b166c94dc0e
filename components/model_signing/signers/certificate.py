"""X.509 certificate signer and chain verifier (same bundle layout as upstream ``sign certificate``).

Signing: an EC private key plus its signing certificate and the intermediate
certificates; the bundle carries the chain. Verification: the chain in the
bundle must lead to one of the trust anchors given (never the system store by
default: fail closed), be valid at the certificate's issuance time (upstream's
rule, so signatures outlive short-lived certificates), and allow digital
signatures or code signing.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from kfp_gates.components.common.errors import ConfigError

from ..bundle import Bundle, make_bundle, pae
from ..errors import UNTRUSTED, WRONG_KEY, SignatureError
from .ec_key import _read, load_private_key
from .interface import Signer, Verifier, check_curve, ec_hash, verify_ecdsa


def load_certificates(paths: Sequence[str | Path]) -> list[x509.Certificate]:
    """Every PEM certificate in ``paths``. Raises InputNotFoundError / ConfigError."""
    certs: list[x509.Certificate] = []
    for p in paths:
        try:
            certs.extend(x509.load_pem_x509_certificates(_read(p, "certificate file")))
        except ValueError:
            raise ConfigError("no PEM certificate in file", where=str(p)) from None
    return certs


class CertificateSigner(Signer):
    name = "certificate"

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        signing_certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if signing_certificate.public_key() != private_key.public_key():
            raise ConfigError(
                "the signing certificate does not belong to the private key",
                hint="pass the certificate issued for this key",
            )
        self._key = private_key
        self._cert = signing_certificate
        self._chain = list(chain)

    @classmethod
    def from_files(
        cls,
        key: str | Path,
        certificate: str | Path,
        chain: Sequence[str | Path] = (),
        passphrase: bytes | None = None,
    ) -> CertificateSigner:
        certs = load_certificates([certificate])
        return cls(load_private_key(key, passphrase), certs[0], load_certificates(chain))

    def sign(self, payload: bytes) -> Bundle:
        pub = self._key.public_key()
        der = self._key.sign(pae(payload), ec.ECDSA(ec_hash(pub)))
        chain = [self._cert, *self._chain]
        raw = [{"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()} for c in chain]
        return make_bundle(payload, der, {"x509CertificateChain": {"certificates": raw}})

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "subject": self._cert.subject.rfc4514_string()}


class CertificateVerifier(Verifier):
    """Verifies certificate bundles against explicit trust anchors (root and optionally intermediates)."""

    name = "certificate"

    def __init__(self, trust_anchors: Sequence[x509.Certificate]) -> None:
        if not trust_anchors:
            raise ConfigError("no trust anchor given", hint="pass --certificate-chain ROOT.pem")
        self._anchors = list(trust_anchors)

    @classmethod
    def from_files(cls, paths: Sequence[str | Path]) -> CertificateVerifier:
        return cls(load_certificates(paths))

    def _untrusted(self, why: str) -> SignatureError:
        return SignatureError(
            f"the signing certificate is not trusted: {why}",
            finding_id=UNTRUSTED,
            hint="verify with the CA chain that issued the signer's certificate",
        )

    def verify(self, bundle: Bundle) -> tuple[str, bytes]:
        from OpenSSL import crypto

        if bundle.kind != "certificate":
            raise SignatureError(
                "the signature carries no certificate chain (it was made with a bare key)",
                finding_id=WRONG_KEY,
                hint="verify it with --public-key",
            )
        try:
            chain = [x509.load_der_x509_certificate(d) for d in bundle.certificate_chain_der]
        except (ValueError, KeyError):
            raise self._untrusted("the bundle's certificates cannot be parsed") from None
        if not chain:
            raise self._untrusted("the bundle's certificate chain is empty")
        leaf = chain[0]
        store = crypto.X509Store()
        for anchor in self._anchors:
            store.add_cert(crypto.X509.from_cryptography(anchor))
        store.set_time(leaf.not_valid_before_utc)
        ctx = crypto.X509StoreContext(
            store, crypto.X509.from_cryptography(leaf), [crypto.X509.from_cryptography(c) for c in chain[1:]]
        )
        try:
            ctx.verify_certificate()
        except crypto.X509StoreContextError as exc:
            raise self._untrusted(str(exc)) from None
        if not _can_sign(leaf):
            raise self._untrusted("the certificate allows neither digital signatures nor code signing")
        key = check_curve(leaf.public_key(), "signing certificate")
        verify_ecdsa(key, bundle, check_hint=False)
        return bundle.payload_type, bundle.payload


def _can_sign(cert: x509.Certificate) -> bool:
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return ExtendedKeyUsageOID.CODE_SIGNING in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
