"""Kubernetes auth end to end: OpenBao asks a (fake, in-process) TokenReview API about the pod's token.

No kube-apiserver runs here; the fake answers only the TokenReview call
OpenBao's kubernetes auth method makes, like the real API would.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.secrets import SecretRef, VaultConfig, login, read_secret
from kfp_gates.components.secrets.auth import KubernetesAuth

SA_UID = "0d7b6c1e-1111-2222-3333-444455556666"


def _sa_jwt(name: str) -> str:
    """A service-account-token-shaped JWT (the fake TokenReview, like the real one, is what vouches for it)."""
    import base64
    import time

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "iss": "kubernetes/serviceaccount",
        "sub": f"system:serviceaccount:kubeflow:{name}",
        "kubernetes.io/serviceaccount/namespace": "kubeflow",
        "kubernetes.io/serviceaccount/service-account.name": name,
        "kubernetes.io/serviceaccount/service-account.uid": SA_UID,
        "aud": ["vault"],
        "iat": now,
        "exp": now + 600,
        "kubernetes.io": {"namespace": "kubeflow", "serviceaccount": {"name": name, "uid": SA_UID}},
    }
    return f"{b64({'alg': 'RS256', 'kid': 'k1'})}.{b64(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2VkLWxvY2FsbHk"


GOOD_SA_TOKEN = _sa_jwt("pipeline-runner")


class _TokenReview(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = body["spec"]["token"]
        self.seen.append(self.path)
        ok = token == GOOD_SA_TOKEN
        status: dict = {"authenticated": ok, "audiences": body["spec"].get("audiences") or []}
        if ok:
            status["user"] = {
                "username": "system:serviceaccount:kubeflow:pipeline-runner",
                "uid": SA_UID,
                "groups": ["system:serviceaccounts"],
            }
        out = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "status": status})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out.encode())

    def log_message(self, *args: object) -> None:
        pass


def _self_signed_ca() -> str:
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


@pytest.fixture(scope="module")
def kube_mount(vault):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TokenReview)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    mount = f"k8s-{vault.kv}"
    vault.admin.sys.enable_auth_method("kubernetes", path=mount)
    vault.admin.adapter.post(
        f"/v1/auth/{mount}/config",
        json={
            "kubernetes_host": f"http://127.0.0.1:{httpd.server_port}",
            "kubernetes_ca_cert": _self_signed_ca(),
            "disable_local_ca_jwt": True,
        },
    )
    vault.admin.adapter.post(
        f"/v1/auth/{mount}/role/training",
        json={
            "bound_service_account_names": ["pipeline-runner"],
            "bound_service_account_namespaces": ["kubeflow"],
            "token_policies": [vault.policy],
            "token_ttl": "5m",
        },
    )
    yield mount
    httpd.shutdown()


def test_kubernetes_login_with_the_pods_service_account_token(vault, kube_mount, tmp_path):
    sa = tmp_path / "token"
    sa.write_text(GOOD_SA_TOKEN)
    client, who = login(VaultConfig(vault.addr), KubernetesAuth(role="training", jwt_file=str(sa), mount=kube_mount))
    assert who.method == "kubernetes" and vault.policy in who.policies
    assert read_secret(client, SecretRef("app/db", mount=vault.kv))["password"] == vault.password_v2
    assert "/apis/authentication.k8s.io/v1/tokenreviews" in _TokenReview.seen


def test_kubernetes_login_with_a_rejected_token_is_a_config_error(vault, kube_mount, tmp_path):
    sa = tmp_path / "token"
    sa.write_text(_sa_jwt("someone-else"))
    with pytest.raises(ConfigError) as exc:
        login(VaultConfig(vault.addr), KubernetesAuth(role="training", jwt_file=str(sa), mount=kube_mount))
    assert _sa_jwt("someone-else")[:40] not in str(exc.value)


def test_kubernetes_auth_without_a_token_file_is_a_config_error(vault, kube_mount, tmp_path):
    with pytest.raises(ConfigError, match="service-account token not found"):
        login(
            VaultConfig(vault.addr), KubernetesAuth(role="training", jwt_file=str(tmp_path / "none"), mount=kube_mount)
        )
