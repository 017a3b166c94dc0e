"""Vault / OpenBao Transit signing against a real OpenBao dev server: the private key never leaves Vault."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import hvac.exceptions
import model_signing
import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.model_signing import ModelIntegrityError, SignatureError, sign_model, verify_model
from kfp_gates.components.model_signing import errors as E
from kfp_gates.components.model_signing.signers.ec_key import PublicKeyVerifier
from kfp_gates.components.model_signing.signers.transit import TransitSigner, TransitVerifier, read_transit_key

# A mount of our own: the OpenBao server is shared by the whole test session.
MOUNT = f"transit-ms-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def transit(openbao):
    client = openbao.client()
    client.sys.enable_secrets_engine("transit", path=MOUNT)
    client.secrets.transit.create_key(name="model-signing", key_type="ecdsa-p256", mount_point=MOUNT)
    client.secrets.transit.create_key(name="other", key_type="ecdsa-p384", mount_point=MOUNT)
    client.secrets.transit.create_key(name="leaky", key_type="ecdsa-p256", exportable=True, mount_point=MOUNT)
    client.secrets.transit.create_key(name="rsa", key_type="rsa-2048", mount_point=MOUNT)
    # A least-privilege token: sign/verify/read on one key, nothing else (no export).
    client.sys.create_or_update_policy(
        name="model-signer",
        policy=f'path "{MOUNT}/sign/model-signing" {{ capabilities = ["update"] }}\n'
        f'path "{MOUNT}/verify/model-signing" {{ capabilities = ["update"] }}\n'
        f'path "{MOUNT}/keys/model-signing" {{ capabilities = ["read"] }}\n'
        f'path "{MOUNT}/export/*" {{ capabilities = ["read"] }}\n',
    )
    token = client.auth.token.create(policies=["model-signer"], ttl="10m")["auth"]["client_token"]
    return openbao, client, token


def _model(root: Path) -> Path:
    root.mkdir()
    (root / "weights.bin").write_bytes(os.urandom(200_000))
    (root / "config.json").write_text('{"a": 1}')
    return root


def test_transit_signs_and_the_key_is_never_exportable(transit, tmp_path) -> None:
    openbao, admin, token = transit
    signer_client = openbao.client(token)
    model = _model(tmp_path / "model")
    sig = tmp_path / "model.sig"
    signing = sign_model(model, TransitSigner(signer_client, "model-signing", MOUNT), signature=sig)
    bundle = json.loads(sig.read_text())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert "publicKey" in bundle["verificationMaterial"]  # the same format as a key-file signature

    info = admin.secrets.transit.read_key(name="model-signing", mount_point=MOUNT)["data"]
    assert info["exportable"] is False and info["allow_plaintext_backup"] is False
    for key_type in ("signing-key", "encryption-key", "hmac-key"):
        with pytest.raises(hvac.exceptions.VaultError):
            admin.secrets.transit.export_key(name="model-signing", key_type=key_type, mount_point=MOUNT)
    assert "PRIVATE KEY" not in sig.read_text()
    assert signing.manifest.method == "files"

    # verify: Transit public key exported as PEM (locally, and with upstream model_signing) and Transit verify
    pem = tmp_path / "transit.pub"
    pem.write_bytes(read_transit_key(signer_client, "model-signing", MOUNT).public_pem())
    verify_model(model, sig, PublicKeyVerifier.from_file(pem))
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pem).verify(model, sig)
    verify_model(model, sig, TransitVerifier(signer_client, "model-signing", MOUNT))
    verify_model(model, sig, TransitVerifier(signer_client, "model-signing", MOUNT, remote=True))

    (model / "config.json").write_text('{"a": 2}')
    with pytest.raises(ModelIntegrityError, match=r"config\.json"):
        verify_model(model, sig, TransitVerifier(signer_client, "model-signing", MOUNT, remote=True))


def test_transit_verify_refuses_another_key_and_altered_signatures(transit, tmp_path) -> None:
    openbao, admin, token = transit
    model = _model(tmp_path / "model")
    sig = tmp_path / "model.sig"
    sign_model(model, TransitSigner(admin, "other", MOUNT), signature=sig)
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, TransitVerifier(openbao.client(token), "model-signing", MOUNT, remote=True))
    assert exc.value.finding_id == E.WRONG_KEY
    verify_model(model, sig, TransitVerifier(admin, "other", MOUNT, remote=True))  # ecdsa-p384 works too

    doc = json.loads(sig.read_text())
    raw = bytearray(base64.b64decode(doc["dsseEnvelope"]["signatures"][0]["sig"]))
    raw[-1] ^= 1
    doc["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    sig.write_text(json.dumps(doc))
    for remote in (False, True):
        with pytest.raises(SignatureError) as exc:
            verify_model(model, sig, TransitVerifier(admin, "other", MOUNT, remote=remote))
        assert exc.value.finding_id == E.BAD_SIGNATURE
    # A signature that is not even DER: Transit answers 400, which is still a bad signature (exit 1), not usage.
    doc["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw[:10])).decode()
    sig.write_text(json.dumps(doc))
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, TransitVerifier(admin, "other", MOUNT, remote=True))
    assert exc.value.finding_id == E.BAD_SIGNATURE


def test_keys_that_can_leave_vault_or_are_not_ecdsa_are_refused(transit) -> None:
    _, admin, _ = transit
    with pytest.raises(ConfigError, match="exportable"):
        TransitSigner(admin, "leaky", MOUNT)
    with pytest.raises(ConfigError, match="ECDSA"):
        TransitSigner(admin, "rsa", MOUNT)
    with pytest.raises(ConfigError):
        TransitSigner(admin, "no-such-key", MOUNT)


def test_cli_transit_sign_and_verify(transit, cli, tmp_path) -> None:
    openbao, _, token = transit
    model = _model(tmp_path / "model")
    token_file = tmp_path / "token"
    token_file.write_text(token)
    sig = tmp_path / "m.sig"
    common = ("--vault-transit", "model-signing", "--vault-addr", openbao.addr, "--vault-mount", MOUNT)
    r = cli(
        "sign-model",
        str(model),
        *common,
        "--vault-token-file",
        str(token_file),
        "--signature",
        str(sig),
        "--public-key-out",
        str(tmp_path / "m.pub"),
    )
    assert r.code == 0, r
    assert token not in r.out + r.err
    r = cli(
        "verify-model", str(model), "--signature", str(sig), *common, "--transit-verify", env={"VAULT_TOKEN": token}
    )
    assert r.code == 0, r
    assert cli("verify-model", str(model), "--signature", str(sig), "--public-key", str(tmp_path / "m.pub")).code == 0
    (model / "weights.bin").write_bytes(b"swapped")
    r = cli("verify-model", str(model), "--signature", str(sig), *common, env={"VAULT_TOKEN": token})
    assert r.code == 1 and "weights.bin" in r.out
    r = cli("sign-model", str(model), *common, "--force", env={"VAULT_TOKEN": "s.wrongtoken0000000000000000"})
    assert r.code == 2 and "denied" in r.err


def test_stopped_vault_is_exit_3(openbao_factory, cli, tmp_path) -> None:
    server = openbao_factory()
    admin = server.client()
    admin.sys.enable_secrets_engine("transit", path="transit")
    admin.secrets.transit.create_key(name="k", key_type="ecdsa-p256")
    model = _model(tmp_path / "model")
    env = {"VAULT_TOKEN": server.root_token}
    assert cli("sign-model", str(model), "--vault-transit", "k", "--vault-addr", server.addr, env=env).code == 0
    admin.sys.seal()
    r = cli("sign-model", str(model), "--vault-transit", "k", "--vault-addr", server.addr, "--force", env=env)
    assert r.code == 3, r
    server.stop()
    r = cli(
        "verify-model",
        str(model),
        "--signature",
        str(model.with_name("model.sig")),
        "--vault-transit",
        "k",
        "--vault-addr",
        server.addr,
        "--vault-timeout",
        "2",
        env=env,
    )
    assert r.code == 3 and "unreachable" in r.err


class _TokenReview(BaseHTTPRequestHandler):
    """The one Kubernetes API call OpenBao's kubernetes auth makes, answered like the real API would."""

    good_token = ""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = body["spec"]["token"] == self.good_token
        status: dict = {"authenticated": ok}
        if ok:
            status["user"] = {
                "username": "system:serviceaccount:kubeflow:model-signer",
                "uid": "u-1",
                "groups": ["system:serviceaccounts"],
            }
        out = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out.encode())

    def log_message(self, *args: object) -> None:
        pass


def _sa_token(name: str = "model-signer") -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = {
        "iss": "kubernetes/serviceaccount",
        "sub": f"system:serviceaccount:kubeflow:{name}",
        "kubernetes.io/serviceaccount/namespace": "kubeflow",
        "kubernetes.io/serviceaccount/service-account.name": name,
        "kubernetes.io/serviceaccount/service-account.uid": "u-1",
    }
    return f"{b64({'alg': 'RS256', 'kid': 'k'})}.{b64(claims)}.c2ln"


def _ca_pem() -> str:
    """Any CA certificate: OpenBao requires one; the fake API is plain HTTP on loopback."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kube-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_cli_transit_with_kubernetes_auth(transit, cli, tmp_path) -> None:
    openbao, admin, _ = transit
    _TokenReview.good_token = _sa_token()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TokenReview)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        k8s = f"k8s-{MOUNT}"
        admin.sys.enable_auth_method("kubernetes", path=k8s)
        admin.adapter.post(
            f"/v1/auth/{k8s}/config",
            json={
                "kubernetes_host": f"http://127.0.0.1:{httpd.server_port}",
                "kubernetes_ca_cert": _ca_pem(),
                "disable_local_ca_jwt": True,
            },
        )
        admin.adapter.post(
            f"/v1/auth/{k8s}/role/model-signer",
            json={
                "bound_service_account_names": ["model-signer"],
                "bound_service_account_namespaces": ["kubeflow"],
                "token_policies": ["model-signer"],
                "token_ttl": "5m",
            },
        )
        jwt = tmp_path / "sa-token"
        jwt.write_text(_TokenReview.good_token)
        model = _model(tmp_path / "model")
        args = (
            "sign-model",
            str(model),
            "--vault-transit",
            "model-signing",
            "--vault-addr",
            openbao.addr,
            "--vault-mount",
            MOUNT,
            "--vault-k8s-role",
            "model-signer",
            "--vault-k8s-mount",
            k8s,
            "--vault-k8s-jwt-file",
            str(jwt),
            "--force",
        )
        r = cli(*args)
        assert r.code == 0, r
        assert _TokenReview.good_token not in r.out + r.err
        jwt.write_text(_sa_token("intruder"))  # a service account the role does not allow
        r = cli(*args)
        assert r.code == 2 and "denied" in r.err
    finally:
        httpd.shutdown()
