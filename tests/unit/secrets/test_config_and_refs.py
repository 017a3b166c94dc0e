"""VaultConfig from flags and VAULT_* variables; SecretRef paths; SecretData normalisation; time parsing."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.secrets.config import VaultConfig
from kfp_gates.components.secrets.reading import SecretData, SecretRef, parse_vault_time


def test_explicit_address_wins_over_environment():
    cfg = VaultConfig.from_env("https://flag:8200", env={"VAULT_ADDR": "https://env:8200"})
    assert cfg.addr == "https://flag:8200"


def test_standard_variables_are_honoured(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = VaultConfig.from_env(
        env={
            "VAULT_ADDR": "https://vault.example:8200/",
            "VAULT_NAMESPACE": "team-a",
            "VAULT_CACERT": str(ca),
            "VAULT_CLIENT_TIMEOUT": "12s",
            "VAULT_MAX_RETRIES": "5",
        }
    )
    assert (cfg.addr, cfg.namespace, cfg.ca_cert, cfg.timeout, cfg.retries) == (
        "https://vault.example:8200", "team-a", str(ca), 12.0, 5,
    )  # fmt: skip
    assert cfg.verify == str(ca) and cfg.is_tls


def test_openbao_variables_are_a_fallback():
    assert VaultConfig.from_env(env={"BAO_ADDR": "http://127.0.0.1:8200"}).addr == "http://127.0.0.1:8200"
    both = VaultConfig.from_env(env={"BAO_ADDR": "http://bao:1", "VAULT_ADDR": "http://vault:1"})
    assert both.addr == "http://vault:1"


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({}, "no Vault address"),
        ({"VAULT_ADDR": "vault.example:8200"}, "invalid Vault address"),
        ({"VAULT_ADDR": "https://user:pw@vault:8200"}, "must not carry credentials"),
        ({"VAULT_ADDR": "https://v:1", "VAULT_SKIP_VERIFY": "1"}, "never disables TLS"),
        ({"VAULT_ADDR": "https://v:1", "VAULT_CACERT": "/nonexistent/ca.pem"}, "file not found"),
        ({"VAULT_ADDR": "https://v:1", "VAULT_CLIENT_TIMEOUT": "soon"}, "invalid duration"),
        ({"VAULT_ADDR": "https://v:1", "VAULT_MAX_RETRIES": "many"}, "not a number"),
    ],
)
def test_bad_configuration_is_a_config_error(env, match):
    with pytest.raises(ConfigError, match=match):
        VaultConfig.from_env(env=env)


def test_client_cert_needs_its_key(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    with pytest.raises(ConfigError, match="go together"):
        VaultConfig("https://v:1", client_cert=str(cert))


def test_secret_ref_paths():
    kv2 = SecretRef.parse("secret/app/db", version=3)
    assert (kv2.mount, kv2.path, kv2.api_path) == ("secret", "app/db", "/v1/secret/data/app/db")
    assert kv2.request_kwargs() == {"params": {"version": 3}} and kv2.creation_path == "secret/data/app/db"
    kv1 = SecretRef.parse("team/kv/legacy/api", mount="team/kv", kind="kv1")
    assert (kv1.mount, kv1.path, kv1.api_path) == ("team/kv", "legacy/api", "/v1/team/kv/legacy/api")
    dyn = SecretRef.parse("pki/issue/svc", kind="dynamic", params={"common_name": "a.example"})
    assert dyn.api_path == "/v1/pki/issue/svc" and dyn.method == "post"
    assert SecretRef.parse("database/creds/ro", kind="dynamic").method == "get"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "../etc/passwd"},
        {"path": "a//b"},
        {"path": ""},
        {"path": "app/db", "kind": "kv1", "version": 2},
        {"path": "app/db", "version": 0},
        {"path": "app/db", "params": {"a": 1}},
        {"path": "app/db", "kind": "kv3"},
    ],
)
def test_invalid_refs_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        SecretRef(**kwargs)


def test_path_without_mount_is_refused():
    with pytest.raises(ConfigError, match="no mount"):
        SecretRef.parse("db")


@given(st.text(alphabet=string.ascii_letters + string.digits + "/._-", max_size=40))
def test_parse_never_fails_other_than_config_error(text):
    try:
        ref = SecretRef.parse(text)
    except ConfigError:
        return
    assert ".." not in ref.path.split("/") and not ref.path.startswith("/")
    assert ref.api_path.startswith(f"/v1/{ref.mount}/data/")


def test_kv2_answer_is_flattened_and_values_never_in_repr():
    body = {"data": {"data": {"password": "hunter2-xyz", "port": 5432}, "metadata": {"version": 4}}}
    data = SecretData.from_response(body)
    assert dict(data.fields) == {"password": "hunter2-xyz", "port": "5432"}
    assert data.version == 4 and "hunter2-xyz" not in repr(data)
    assert data.select("port").fields == {"port": "5432"}


def test_values_are_registered_with_the_redactor():
    from kfp_gates.components.common import redact

    SecretData.from_response({"data": {"k": "very-secret-value-42"}, "lease_id": "db/creds/ro/abc",
                              "lease_duration": 60, "renewable": True})  # fmt: skip
    assert redact.redact("x very-secret-value-42 y") == "x [REDACTED] y"


def test_kv1_secret_with_data_and_metadata_keys_is_not_mistaken_for_kv2():
    data = SecretData.from_response({"data": {"data": "a", "metadata": "b"}})
    assert dict(data.fields) == {"data": "a", "metadata": "b"}


def test_vault_timestamps_with_nanoseconds():
    assert parse_vault_time("2026-11-26T07:46:27.446989504Z") == datetime(2026, 11, 26, 7, 46, 27, 446989, UTC)
    assert parse_vault_time("2026-11-26T07:46:27Z") == datetime(2026, 11, 26, 7, 46, 27, tzinfo=UTC)
    assert parse_vault_time("") is None and parse_vault_time("yesterday") is None


@given(st.text(max_size=40))
def test_time_parser_never_raises(text):
    result = parse_vault_time(text)
    assert result is None or result.tzinfo is not None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["data", "lease_id", "lease_duration", "renewable", "x"]), _json))
def test_any_vault_answer_normalises_or_is_a_config_error(body):
    try:
        data = SecretData.from_response(body)
    except ConfigError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in data.fields.items())
