"""Signer and verifier backends, one module per backend.

* :mod:`.ec_key`      - EC private key file (PEM, optionally encrypted) / public key file
* :mod:`.certificate` - EC key plus X.509 signing certificate and chain
* :mod:`.transit`     - Vault / OpenBao Transit: the key never leaves Vault
* :mod:`.sigstore`    - Sigstore keyless (online only; reported unavailable offline)

All produce the same Sigstore bundle over the same DSSE payload (:mod:`..bundle`).
"""

from .interface import Signer, Verifier

__all__ = ["Signer", "Verifier"]
