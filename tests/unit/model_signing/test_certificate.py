"""Certificate signatures: the chain must lead to the given trust anchors and allow signing."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.model_signing import SignatureError, sign_model, verify_model
from kfp_gates.components.model_signing import errors as E
from kfp_gates.components.model_signing.signers.certificate import CertificateSigner, CertificateVerifier
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

from .conftest import write_chain


def _sign(model, chain, tmp_path):
    sig = tmp_path / "c.sig"
    sign_model(
        model, CertificateSigner.from_files(chain.leaf_key, chain.leaf_cert, [chain.intermediate_cert]), signature=sig
    )
    return sig


def test_chain_to_another_root_is_untrusted(model, chain, tmp_path) -> None:
    sig = _sign(model, chain, tmp_path)
    other = write_chain(tmp_path, prefix="other-")
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, CertificateVerifier.from_files([other.root_cert]))
    assert exc.value.finding_id == E.UNTRUSTED


def test_certificate_without_signing_usage_is_untrusted(model, tmp_path) -> None:
    chain = write_chain(tmp_path, leaf_can_sign=False, prefix="nosign-")
    sig = _sign(model, chain, tmp_path)
    with pytest.raises(SignatureError, match="neither digital signatures"):
        verify_model(model, sig, CertificateVerifier.from_files([chain.root_cert]))


def test_key_and_certificate_signatures_are_not_confused(model, chain, keypair, tmp_path) -> None:
    cert_sig = _sign(model, chain, tmp_path)
    with pytest.raises(SignatureError) as exc:
        verify_model(model, cert_sig, PublicKeyVerifier.from_file(keypair.public))
    assert exc.value.finding_id == E.WRONG_KEY
    key_sig = tmp_path / "k.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=key_sig)
    with pytest.raises(SignatureError) as exc:
        verify_model(model, key_sig, CertificateVerifier.from_files([chain.root_cert]))
    assert exc.value.finding_id == E.WRONG_KEY


def test_certificate_must_belong_to_the_key(chain, keypair) -> None:
    with pytest.raises(ConfigError, match="does not belong"):
        CertificateSigner.from_files(keypair.private, chain.leaf_cert)
