"""The signature file: a Sigstore bundle v0.3 wrapping a DSSE envelope, as upstream writes it.

```json
{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
 "verificationMaterial": {"publicKey": {"hint": "<sha256 of the PEM public key>"}, "tlogEntries": []},
 "dsseEnvelope": {"payload": "<base64 statement>", "payloadType": "application/vnd.in-toto+json",
                  "signatures": [{"sig": "<base64 DER ECDSA>", "keyid": ""}]}}
```

Certificate signatures carry ``x509CertificateChain`` instead of ``publicKey``;
Sigstore keyless bundles add a certificate and transparency-log entries.
Reading is strict: anything that is not such a bundle is refused with
:class:`~.errors.SignatureError` (``KFPG-SIGN-NOT-A-BUNDLE``) before any
cryptography runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

from .errors import NOT_A_BUNDLE, SignatureError
from .statement import PAYLOAD_TYPE

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
MAX_BUNDLE_BYTES = 512 << 20  # a manifest of millions of files stays far below this


def pae(payload: bytes, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


@dataclass(frozen=True)
class Bundle:
    """A parsed bundle. ``payload`` and ``signature`` are raw bytes (base64-decoded)."""

    media_type: str
    verification_material: dict[str, Any]
    payload_type: str
    payload: bytes
    signature: bytes
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def public_key_hint(self) -> str | None:
        pk = self.verification_material.get("publicKey")
        return str(pk.get("hint")) if isinstance(pk, dict) and pk.get("hint") else None

    @property
    def certificate_chain_der(self) -> list[bytes]:
        chain = self.verification_material.get("x509CertificateChain") or {}
        return [base64.b64decode(c["rawBytes"]) for c in chain.get("certificates", [])]

    @property
    def kind(self) -> str:
        """``key``, ``certificate`` or ``sigstore`` (from the verification material)."""
        vm = self.verification_material
        if "x509CertificateChain" in vm:
            return "certificate"
        if "certificate" in vm or vm.get("tlogEntries"):
            return "sigstore"
        return "key"

    def to_json(self) -> str:
        if self.raw:
            return json.dumps(self.raw, indent=2)
        return json.dumps(
            {
                "mediaType": self.media_type,
                "verificationMaterial": self.verification_material,
                "dsseEnvelope": {
                    "payload": base64.b64encode(self.payload).decode("ascii"),
                    "payloadType": self.payload_type,
                    "signatures": [{"sig": base64.b64encode(self.signature).decode("ascii"), "keyid": ""}],
                },
            },
            indent=2,
        )


def make_bundle(payload: bytes, signature: bytes, verification_material: dict[str, Any]) -> Bundle:
    vm = {**verification_material, "tlogEntries": verification_material.get("tlogEntries", [])}
    return Bundle(BUNDLE_MEDIA_TYPE, vm, PAYLOAD_TYPE, payload, signature)


def _not_a_bundle(why: str, where: str) -> SignatureError:
    return SignatureError(
        f"signature is not a model-signing Sigstore bundle: {why}",
        finding_id=NOT_A_BUNDLE,
        where=where,
        hint="pass the .sig file written by kfp-gates sign-model or model_signing sign",
    )


def parse_bundle(data: bytes, where: str = "<signature>") -> Bundle:
    """Parse bundle JSON. Raises SignatureError (``KFPG-SIGN-NOT-A-BUNDLE``) on anything else."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise _not_a_bundle("not JSON", where) from None
    if not isinstance(doc, dict):
        raise _not_a_bundle("not a JSON object", where)
    media = doc.get("mediaType")
    if media != BUNDLE_MEDIA_TYPE:
        raise _not_a_bundle(f"media type {media!r}, expected {BUNDLE_MEDIA_TYPE!r}", where)
    vm = doc.get("verificationMaterial")
    env = doc.get("dsseEnvelope")
    if not isinstance(vm, dict):
        raise _not_a_bundle("no verificationMaterial", where)
    if not isinstance(env, dict):
        raise _not_a_bundle("no dsseEnvelope (message signatures are not model signatures)", where)
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict):
        raise _not_a_bundle("the DSSE envelope must carry exactly one signature", where)
    try:
        payload = base64.b64decode(str(env["payload"]), validate=True)
        signature = base64.b64decode(str(sigs[0]["sig"]), validate=True)
    except (KeyError, binascii.Error, ValueError):
        raise _not_a_bundle("payload or signature is not base64", where) from None
    payload_type = env.get("payloadType")
    if not isinstance(payload_type, str):
        raise _not_a_bundle("no payloadType", where)
    if not signature or not payload:
        raise _not_a_bundle("empty payload or signature", where)
    return Bundle(media, vm, payload_type, payload, signature, raw=doc)


def read_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read and parse a signature file. Missing file: InputNotFoundError (exit 2)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise InputNotFoundError("expected a signature file, found a directory", where=str(p))
        if size > MAX_BUNDLE_BYTES:
            raise _not_a_bundle(f"file is {size} bytes, larger than any model signature", str(p))
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputNotFoundError(
            "signature file not found", where=str(p), hint="sign the model first: kfp-gates sign-model MODEL --key ..."
        ) from None
    except PermissionError:
        raise InputNotFoundError("permission denied", where=str(p)) from None
    return parse_bundle(data, str(p))


def write_bundle(bundle: Bundle, path: str | Path) -> None:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(bundle.to_json(), encoding="utf-8")
        tmp.replace(p)  # never leave a half-written signature behind
    except OSError as exc:
        raise ConfigError(f"cannot write signature: {exc.strerror}", where=str(p)) from None
