"""KV v2 versions, KV v1, AppRole least privilege, token and JWT auth against a real OpenBao server."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.secrets import SecretRef, VaultConfig, auth_from_options, connect, login, read_secret
from kfp_gates.components.secrets.auth import AppRoleAuth, JwtAuth, TokenAuth


def _approle(vault, secret_id_file=None):
    return AppRoleAuth(
        role_id=vault.role_id, secret_id_file=str(secret_id_file or vault.secret_id_file), mount=vault.approle
    )


def test_kv2_latest_and_pinned_versions(vault):
    client, _ = login(VaultConfig(vault.addr), TokenAuth(token_file=str(vault.root_token_file)))
    latest = read_secret(client, SecretRef("app/db", mount=vault.kv))
    pinned = read_secret(client, SecretRef("app/db", mount=vault.kv, version=1))
    assert latest["password"] == vault.password_v2 and latest.version == 2
    assert pinned["password"] == vault.password_v1 and pinned.version == 1
    assert vault.password_v2 not in repr(latest)  # repr never shows values
    only = read_secret(client, SecretRef("app/db", mount=vault.kv, field="user"))
    assert dict(only.fields) == {"user": "svc"}


def test_kv2_missing_field_and_deleted_version_are_config_errors(vault):
    client, _ = login(VaultConfig(vault.addr), TokenAuth(token_file=str(vault.root_token_file)))
    with pytest.raises(ConfigError, match="no field") as exc:
        read_secret(client, SecretRef("app/db", mount=vault.kv, field="nope"))
    assert "password" in exc.value.hint and vault.password_v2 not in str(exc.value)
    vault.admin.secrets.kv.v2.create_or_update_secret(path="tmp/gone", secret={"a": "bbbb"}, mount_point=vault.kv)
    vault.admin.secrets.kv.v2.delete_latest_version_of_secret(path="tmp/gone", mount_point=vault.kv)
    with pytest.raises(ConfigError):
        read_secret(client, SecretRef("tmp/gone", mount=vault.kv))


def test_kv1_read(vault):
    client, _ = login(VaultConfig(vault.addr), TokenAuth(token_file=str(vault.root_token_file)))
    data = read_secret(client, SecretRef.parse(f"{vault.kv1}/legacy/api", kind="kv1"))
    assert data["key"] == vault.api_key and data.version is None


def test_approle_least_privilege_reads_its_path_and_nothing_else(vault):
    client, who = login(VaultConfig(vault.addr), _approle(vault, vault.new_secret_id()))
    assert vault.policy in who.policies and who.ttl == 600 and who.method == "approle"
    assert read_secret(client, SecretRef("app/db", mount=vault.kv))["password"] == vault.password_v2
    with pytest.raises(ConfigError, match="permission denied"):
        read_secret(client, SecretRef("other/api", mount=vault.kv))
    with pytest.raises(ConfigError, match="permission denied"):
        read_secret(client, SecretRef.parse(f"{vault.kv1}/legacy/api", kind="kv1"))


def test_wrong_secret_id_is_a_config_error_without_the_secret_id(vault, tmp_path):
    bad = tmp_path / "sid"
    bad.write_text("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ConfigError) as exc:
        login(VaultConfig(vault.addr), _approle(vault, bad))
    assert exc.value.exit_code == 2 and "approle login" in exc.value.message


def test_missing_secret_id_file_is_a_config_error(vault, tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        login(VaultConfig(vault.addr), _approle(vault, tmp_path / "absent"))


def test_token_auth_from_env_and_expired_token(vault):
    child = vault.admin.auth.token.create(policies=["default"], ttl="2s")["auth"]["client_token"]
    vault.leaks.append(child)
    _, who = login(VaultConfig(vault.addr), TokenAuth(env={"VAULT_TOKEN": child}))
    assert who.method == "token" and who.ttl <= 2
    time.sleep(2.5)
    with pytest.raises(ConfigError, match="permission denied"):
        login(VaultConfig(vault.addr), TokenAuth(env={"VAULT_TOKEN": child}))
    with pytest.raises(ConfigError, match="no Vault token"):
        TokenAuth(env={}).login(connect(VaultConfig(vault.addr)))


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _es256_jwt(key: ec.EllipticCurvePrivateKey, claims: dict) -> str:
    header = _b64(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    der = key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    return f"{header}.{payload}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def jwt_mount(vault):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    mount = f"jwt-{vault.kv}"
    vault.admin.sys.enable_auth_method("jwt", path=mount)
    vault.admin.auth.jwt.configure(jwt_validation_pubkeys=[pem.decode()], bound_issuer="https://ci.example", path=mount)
    vault.admin.adapter.post(
        f"/v1/auth/{mount}/role/pipeline",
        json={
            "role_type": "jwt",
            "user_claim": "sub",
            "bound_audiences": ["vault"],
            "bound_claims": {"repository": "org/ml"},
            "token_policies": [vault.policy],
            "token_ttl": "5m",
        },
    )
    return mount, key


def _claims(**over):
    now = int(time.time())
    base = {
        "iss": "https://ci.example",
        "sub": "repo:org/ml",
        "aud": "vault",
        "repository": "org/ml",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
    }
    base.update(over)
    return base


def test_jwt_login_with_an_ec_signed_token(vault, jwt_mount, tmp_path):
    mount, key = jwt_mount
    jwt_file = tmp_path / "jwt"
    jwt_file.write_text(_es256_jwt(key, _claims()))
    client, who = login(VaultConfig(vault.addr), JwtAuth(role="pipeline", jwt_file=str(jwt_file), mount=mount))
    assert who.method == "jwt" and vault.policy in who.policies
    assert read_secret(client, SecretRef("app/db", mount=vault.kv))["password"] == vault.password_v2


@pytest.mark.parametrize(
    "claims",
    [_claims(repository="evil/fork"), _claims(aud="other"), _claims(exp=int(time.time()) - 600)],
    ids=["wrong-bound-claim", "wrong-audience", "expired"],
)
def test_jwt_rejected_claims_are_config_errors(vault, jwt_mount, tmp_path, claims):
    mount, key = jwt_mount
    jwt_file = tmp_path / "jwt"
    jwt_file.write_text(_es256_jwt(key, claims))
    with pytest.raises(ConfigError):
        login(VaultConfig(vault.addr), JwtAuth(role="pipeline", jwt_file=str(jwt_file), mount=mount))


def test_jwt_signed_by_another_key_is_rejected(vault, jwt_mount, tmp_path):
    mount, _ = jwt_mount
    jwt_file = tmp_path / "jwt"
    jwt_file.write_text(_es256_jwt(ec.generate_private_key(ec.SECP256R1()), _claims()))
    with pytest.raises(ConfigError):
        login(VaultConfig(vault.addr), auth_from_options("jwt", role="pipeline", jwt_file=str(jwt_file), mount=mount))
