"""Vault / OpenBao Transit signer and verifiers: the signing key never leaves Vault.

Signing sends Transit only the digest of the DSSE pre-authentication encoding
(``prehashed=true``), so a multi-megabyte manifest does not travel and Transit
signs exactly what a local ECDSA key would: the bundle is byte-for-byte the
same format as a key-file signature (``publicKey.hint`` = sha256 of the
Transit public key PEM), verifiable with upstream ``model_signing`` and the
exported public key.

Verification either uses the public key Transit publishes for the key version
whose hint the bundle carries (read permission only), or asks Transit to
verify (``transit/verify``). Keys marked exportable or with plaintext backup
allowed are refused: such a key can leave Vault, which breaks the promise.

Vault errors map to the gate's exit codes: unreachable, sealed or standby
-> :class:`~..errors.SignerUnavailableError` (3); denied, unknown key, bad
request -> ConfigError (2).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

from ..bundle import Bundle, pae
from ..errors import BAD_SIGNATURE, WRONG_KEY, SignatureError, SignerUnavailableError
from .interface import Signer, Verifier, check_curve, key_bundle, key_hint, verify_ecdsa

DEFAULT_K8S_JWT = "/var/run/secrets/kubernetes.io/serviceaccount/token"
_HASHES = {
    "ecdsa-p256": ("sha2-256", hashlib.sha256),
    "ecdsa-p384": ("sha2-384", hashlib.sha384),
    "ecdsa-p521": ("sha2-512", hashlib.sha512),
}
T = TypeVar("T")


@dataclass(frozen=True)
class VaultSettings:
    """Where Vault is and how to log in. The token itself is read by :func:`connect`, never stored here."""

    addr: str
    mount: str = "transit"
    namespace: str | None = None
    token_file: str | None = None
    token_env: str = "VAULT_TOKEN"  # noqa: S105 - the name of a variable, not a token
    cacert: str | None = None
    k8s_role: str | None = None
    k8s_jwt_file: str = DEFAULT_K8S_JWT
    k8s_mount: str = "kubernetes"
    timeout: float = 10.0

    @classmethod
    def from_env(cls, **overrides: Any) -> VaultSettings:
        """Settings from ``VAULT_ADDR`` / ``BAO_ADDR`` (and ``VAULT_NAMESPACE``, ``VAULT_CACERT``)."""
        values = {k: v for k, v in overrides.items() if v is not None}
        values.setdefault("addr", os.environ.get("VAULT_ADDR") or os.environ.get("BAO_ADDR") or "")
        values.setdefault("namespace", os.environ.get("VAULT_NAMESPACE") or None)
        values.setdefault("cacert", os.environ.get("VAULT_CACERT") or None)
        if not values["addr"]:
            raise ConfigError("no Vault address", where="--vault-addr", hint="pass --vault-addr or set VAULT_ADDR")
        return cls(**values)


@contextmanager
def vault_errors(what: str) -> Iterator[None]:
    """Translate hvac / requests errors into the gate's typed errors (exit 2 or 3)."""
    import hvac.exceptions as hx
    import requests

    try:
        yield
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise SignerUnavailableError(
            f"Vault unreachable while trying to {what}: {type(exc).__name__}",
            hint="check --vault-addr and the network path to Vault",
        ) from None
    except (hx.VaultDown, hx.VaultNotInitialized, hx.BadGateway, hx.InternalServerError, hx.RateLimitExceeded) as exc:
        raise SignerUnavailableError(
            f"Vault cannot serve the request to {what} ({type(exc).__name__}: sealed, standby or overloaded)",
            hint="retry when Vault is unsealed and active",
        ) from None
    except (hx.Forbidden, hx.Unauthorized):
        raise ConfigError(
            f"Vault denied the request to {what}",
            hint="the token needs the Transit policy for this key (read keys/NAME, update sign/NAME or verify/NAME)",
        ) from None
    except hx.InvalidPath:
        raise ConfigError(
            f"Vault has no such path while trying to {what}", hint="check the key name and --vault-mount"
        ) from None
    except hx.VaultError as exc:
        raise ConfigError(f"Vault refused the request to {what}: {redact.redact(str(exc))}") from None


def _read_secret_file(path: str, what: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise InputNotFoundError(f"{what} not found", where=path) from None
    except OSError as exc:
        raise InputNotFoundError(f"cannot read {what}: {exc.strerror}", where=path) from None
    redact.register_secret(value)
    return value


def connect(settings: VaultSettings) -> Any:
    """An authenticated ``hvac.Client``. Token from file, env, or Kubernetes auth (in that order)."""
    import hvac

    verify: bool | str = settings.cacert or True
    client = hvac.Client(url=settings.addr, namespace=settings.namespace, verify=verify, timeout=settings.timeout)
    if settings.token_file:
        client.token = _read_secret_file(settings.token_file, "Vault token file")
    elif settings.k8s_role:
        jwt = _read_secret_file(settings.k8s_jwt_file, "Kubernetes service-account token")
        with vault_errors("log in with Kubernetes auth"):
            resp = client.auth.kubernetes.login(settings.k8s_role, jwt, mount_point=settings.k8s_mount)
        redact.register_secret(resp["auth"]["client_token"])
    else:
        token = os.environ.get(settings.token_env) or os.environ.get("BAO_TOKEN")
        if not token:
            raise ConfigError(
                "no Vault token",
                where="--vault-token-file",
                hint=f"pass --vault-token-file, set {settings.token_env}, or use --vault-k8s-role in a pod",
            )
        redact.register_secret(token)
        client.token = token
    return client


@dataclass(frozen=True)
class TransitKey:
    """The public facts Transit publishes about a signing key."""

    name: str
    key_type: str
    latest_version: int
    public_keys: dict[int, ec.EllipticCurvePublicKey]
    exportable: bool
    allow_plaintext_backup: bool

    def version_for_hint(self, hint: str) -> int | None:
        return next((v for v, k in self.public_keys.items() if key_hint(k) == hint), None)

    def public_pem(self, version: int | None = None) -> bytes:
        key = self.public_keys[version or self.latest_version]
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def read_transit_key(client: Any, name: str, mount: str = "transit") -> TransitKey:
    """Read a Transit key's public keys and flags (needs ``read`` on ``<mount>/keys/<name>``)."""
    with vault_errors(f"read Transit key {name!r}"):
        data = client.secrets.transit.read_key(name=name, mount_point=mount)["data"]
    key_type = str(data.get("type"))
    if key_type not in _HASHES:
        raise ConfigError(
            f"Transit key {name!r} is {key_type}; model-signing needs an ECDSA key",
            hint=f"create one: bao write {mount}/keys/{name} type=ecdsa-p256",
        )
    publics: dict[int, ec.EllipticCurvePublicKey] = {}
    for version, info in (data.get("keys") or {}).items():
        pem = (info or {}).get("public_key") if isinstance(info, dict) else None
        if pem:
            publics[int(version)] = check_curve(serialization.load_pem_public_key(pem.encode()), f"{mount}/keys/{name}")
    return TransitKey(
        name=name,
        key_type=key_type,
        latest_version=int(data.get("latest_version", max(publics, default=1))),
        public_keys=publics,
        exportable=bool(data.get("exportable")),
        allow_plaintext_backup=bool(data.get("allow_plaintext_backup")),
    )


def _with(client: Any, what: str, call: Callable[[], T]) -> T:
    with vault_errors(what):
        return call()


class TransitSigner(Signer):
    """Signs by asking Transit (``<mount>/sign/<name>``); only a digest is sent, no key comes back."""

    name = "vault-transit"

    def __init__(self, client: Any, key_name: str, mount: str = "transit", key_version: int | None = None) -> None:
        self._client = client
        self._mount = mount
        self._key = read_transit_key(client, key_name, mount)
        if self._key.exportable or self._key.allow_plaintext_backup:
            raise ConfigError(
                f"Transit key {key_name!r} is exportable or allows plaintext backup, so it can leave Vault",
                hint="sign with a key created with exportable=false (the default) and allow_plaintext_backup=false",
            )
        self._version = key_version or self._key.latest_version
        if self._version not in self._key.public_keys:
            raise ConfigError(f"Transit key {key_name!r} has no version {self._version}")

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_keys[self._version]

    def sign(self, payload: bytes) -> Bundle:
        vault_hash, hash_fn = _HASHES[self._key.key_type]
        digest = hash_fn(pae(payload)).digest()
        resp = _with(
            self._client,
            f"sign with Transit key {self._key.name!r}",
            lambda: self._client.secrets.transit.sign_data(
                name=self._key.name,
                hash_input=base64.b64encode(digest).decode(),
                key_version=self._version,
                hash_algorithm=vault_hash,
                prehashed=True,
                marshaling_algorithm="asn1",
                mount_point=self._mount,
            ),
        )
        prefix, version, sig_b64 = str(resp["data"]["signature"]).split(":", 2)
        if prefix != "vault" or version != f"v{self._version}":
            raise ConfigError(f"unexpected Transit signature format {prefix}:{version}")
        bundle = key_bundle(payload, base64.b64decode(sig_b64), self.public_key)
        # Check before writing: a bundle that does not verify must never be produced.
        verify_ecdsa(self.public_key, bundle)
        return bundle

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "key": f"{self._mount}/keys/{self._key.name}",
            "key_version": self._version,
            "key_hint": key_hint(self.public_key),
        }


class TransitVerifier(Verifier):
    """Verifies with the Transit key: locally with its published public key, or by ``transit/verify``."""

    name = "vault-transit"

    def __init__(self, client: Any, key_name: str, mount: str = "transit", *, remote: bool = False) -> None:
        self._client = client
        self._mount = mount
        self._name = key_name
        self._remote = remote
        self._key = read_transit_key(client, key_name, mount)

    def verify(self, bundle: Bundle) -> tuple[str, bytes]:
        hint = bundle.public_key_hint
        version = self._key.version_for_hint(hint) if hint else None
        if version is None:
            raise SignatureError(
                f"signed by another key: no version of Transit key {self._name!r} has the signature's key hint",
                finding_id=WRONG_KEY,
                hint="verify with the Transit key (or public key) that signed the model",
            )
        if not self._remote:
            verify_ecdsa(self._key.public_keys[version], bundle)
            return bundle.payload_type, bundle.payload
        if not self._remote_valid(version, bundle):
            raise SignatureError(
                "Transit says the signature is not valid (signature or signed statement altered)",
                finding_id=BAD_SIGNATURE,
                hint="the signature file was modified; do not deploy",
            )
        return bundle.payload_type, bundle.payload

    def _remote_valid(self, version: int, bundle: Bundle) -> bool:
        import hvac.exceptions as hx

        vault_hash, hash_fn = _HASHES[self._key.key_type]
        digest = hash_fn(pae(bundle.payload, bundle.payload_type)).digest()
        with vault_errors(f"verify with Transit key {self._name!r}"):
            try:
                resp = self._client.secrets.transit.verify_signed_data(
                    name=self._name,
                    hash_input=base64.b64encode(digest).decode(),
                    signature=f"vault:v{version}:" + base64.b64encode(bundle.signature).decode(),
                    hash_algorithm=vault_hash,
                    prehashed=True,
                    marshaling_algorithm="asn1",
                    mount_point=self._mount,
                )
            except hx.InvalidRequest:
                return False  # Transit answers 400 to a malformed signature: that is a bad signature, not a usage error
        return resp["data"].get("valid") is True

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "key": f"{self._mount}/keys/{self._name}", "remote": self._remote}
