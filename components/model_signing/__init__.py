"""Model signing and verification gate, on OpenSSF ``model-signing`` 1.x formats.

Sign after the gates pass; verify before anything deploys::

    from kfp_gates.components.model_signing import sign_model, verify_model, HashingConfig
    from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

    sign_model("model/", ECKeySigner.from_file("key.pem"), signature="model.sig",
               gate_results=["scan.json"])
    verify_model("model/", "model.sig", PublicKeyVerifier.from_file("key.pub"),
                 require_gates=["model_scan"])      # raises GateBlocked subclasses, naming files

Signatures are Sigstore bundles over upstream's in-toto manifest, so they
verify with upstream ``model_signing`` and the other way round. Backends (one
module each under :mod:`.signers`): EC key file, certificate chain, Vault /
OpenBao Transit (the key never leaves Vault), Sigstore keyless (online only).
"""

from .errors import Difference, GateBindingError, ModelIntegrityError, SignatureError, SignerUnavailableError
from .hashing import HashingConfig, Manifest, hash_model
from .sign import Signing, sign_model
from .verify import Verification, verify_model

__all__ = [
    "Difference",
    "GateBindingError",
    "HashingConfig",
    "Manifest",
    "ModelIntegrityError",
    "SignatureError",
    "SignerUnavailableError",
    "Signing",
    "Verification",
    "hash_model",
    "sign_model",
    "verify_model",
]
