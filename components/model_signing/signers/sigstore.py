"""Sigstore keyless signing and verification (online only, optional).

Keyless signing needs an OIDC identity token, Fulcio (a short-lived
certificate) and Rekor (the transparency log); verification needs the
Sigstore trust root. All of that is network. kfp-gates gates run in
network-isolated places, so these backends do nothing unless the caller
says the network may be used (``online=True``, CLI ``--sigstore-online``);
otherwise they raise :class:`~..errors.SignerUnavailableError` (exit 3)
*before* touching the network, saying that Sigstore is unavailable offline.
The implementation is upstream ``model_signing``'s, which uses
``sigstore-python`` (installed with model-signing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..bundle import Bundle, parse_bundle
from ..errors import BAD_SIGNATURE, SignatureError, SignerUnavailableError
from .interface import Signer, Verifier

OFFLINE_HINT = (
    "use --key/--public-key or --vault-transit in network-isolated runs, "
    "or pass --sigstore-online where Fulcio, Rekor and the OIDC issuer are reachable"
)


def _offline(what: str) -> SignerUnavailableError:
    return SignerUnavailableError(
        f"Sigstore keyless {what} is unavailable offline: it needs Fulcio, Rekor and an OIDC identity provider",
        hint=OFFLINE_HINT,
    )


class SigstoreSigner(Signer):
    name = "sigstore"

    def __init__(
        self,
        *,
        online: bool = False,
        identity_token: str | None = None,
        use_staging: bool = False,
        trust_config: Path | None = None,
    ) -> None:
        if not online:
            raise _offline("signing")
        self._identity_token = identity_token
        self._use_staging = use_staging
        self._trust_config = trust_config

    def sign(self, payload: bytes) -> Bundle:  # pragma: no cover - needs the public Sigstore services
        from model_signing._signing import sign_sigstore
        from sigstore import dsse

        upstream = sign_sigstore.Signer(
            identity_token=self._identity_token, use_staging=self._use_staging, trust_config=self._trust_config
        )
        token = upstream._get_identity_token()
        with upstream._signing_context.signer(token) as signer:
            bundle = signer.sign_dsse(dsse.Statement(payload))
        return parse_bundle(bundle.to_json().encode(), "<sigstore>")

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "staging": self._use_staging}


class SigstoreVerifier(Verifier):
    name = "sigstore"

    def __init__(
        self,
        *,
        identity: str,
        oidc_issuer: str,
        online: bool = False,
        use_staging: bool = False,
        trust_config: Path | None = None,
    ) -> None:
        if not online:
            raise _offline("verification")
        self._identity = identity
        self._issuer = oidc_issuer
        self._use_staging = use_staging
        self._trust_config = trust_config

    def verify(self, bundle: Bundle) -> tuple[str, bytes]:  # pragma: no cover - needs the Sigstore trust root
        from model_signing._signing import sign_sigstore
        from sigstore.errors import VerificationError
        from sigstore.models import Bundle as SigstoreBundle

        upstream = sign_sigstore.Verifier(
            identity=self._identity,
            oidc_issuer=self._issuer,
            use_staging=self._use_staging,
            trust_config=self._trust_config,
        )
        try:
            parsed = SigstoreBundle.from_json(bundle.to_json())
            return upstream._verify_signed_content(sign_sigstore.Signature(parsed))
        except VerificationError as exc:
            raise SignatureError(
                f"Sigstore verification failed: {exc}",
                finding_id=BAD_SIGNATURE,
                hint="check --identity and --oidc-issuer",
            ) from None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "identity": self._identity, "oidc_issuer": self._issuer}
