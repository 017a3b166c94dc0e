"""Response wrapping against a real OpenBao server: single use, TTL expiry, path check, no value seen."""

from __future__ import annotations

import stat
import time
from datetime import timedelta

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.secrets import SecretRef, VaultConfig, fetch_wrapped, login, unwrap
from kfp_gates.components.secrets.auth import AppRoleAuth, TokenAuth
from kfp_gates.components.secrets.delivery import unwrap_and_deliver
from kfp_gates.components.secrets.wrapping import WRAP_EXPIRED, WRAP_PATH, WRAP_REUSED, WrappingTokenRejected


@pytest.fixture
def fetcher(vault):
    client, _ = login(
        VaultConfig(vault.addr),
        AppRoleAuth(role_id=vault.role_id, secret_id_file=str(vault.new_secret_id()), mount=vault.approle),
    )
    return client


def test_wrapped_kv2_read_gives_a_token_not_the_value_and_unwraps_once(vault, fetcher):
    ref = SecretRef("app/db", mount=vault.kv)
    wrapped = fetch_wrapped(fetcher, ref, timedelta(minutes=2))
    assert wrapped.creation_path == f"{vault.kv}/data/app/db"
    assert 0 < wrapped.ttl <= 120
    assert vault.password_v2 not in repr(wrapped) and wrapped.token not in repr(wrapped)
    assert "token" not in wrapped.public()
    secret = unwrap(VaultConfig(vault.addr), wrapped.token, expected_path=ref.creation_path)
    assert secret["password"] == vault.password_v2 and secret.version == 2
    with pytest.raises(WrappingTokenRejected) as second:
        unwrap(VaultConfig(vault.addr), wrapped.token)
    assert second.value.finding.id == WRAP_REUSED and second.value.exit_code == 1
    assert vault.password_v2 not in str(second.value)


def test_pinned_version_and_single_field_are_wrapped(vault):
    client, _ = login(VaultConfig(vault.addr), TokenAuth(token_file=str(vault.root_token_file)))
    v1 = fetch_wrapped(client, SecretRef("app/db", mount=vault.kv, version=1), timedelta(minutes=1))
    assert unwrap(VaultConfig(vault.addr), v1.token)["password"] == vault.password_v1
    one = fetch_wrapped(client, SecretRef("app/db", mount=vault.kv, field="password"), timedelta(minutes=1))
    assert one.creation_path == "sys/wrapping/wrap"
    assert dict(unwrap(VaultConfig(vault.addr), one.token).fields) == {"password": vault.password_v2}


def test_expired_wrapping_token_is_a_blocking_finding(vault, fetcher):
    wrapped = fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv), timedelta(seconds=1))
    time.sleep(2.2)
    delivery = unwrap_and_deliver(VaultConfig(vault.addr), wrapped.token, expires_at=wrapped.expires_at)
    assert delivery.secret is None and delivery.result.decision.value == "fail"
    assert [f.id for f in delivery.result.findings] == [WRAP_EXPIRED]
    vault.assert_no_leak(delivery.result.to_json())


def test_token_created_for_another_path_is_refused_before_it_is_consumed(vault, fetcher):
    wrapped = fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv), timedelta(minutes=1))
    with pytest.raises(WrappingTokenRejected) as exc:
        unwrap(VaultConfig(vault.addr), wrapped.token, expected_path=f"{vault.kv}/data/other/api")
    assert exc.value.finding.id == WRAP_PATH
    # The lookup did not consume it: the rightful consumer can still unwrap (logical KV v2 path accepted).
    assert unwrap(VaultConfig(vault.addr), wrapped.token, expected_path=f"{vault.kv}/app/db")["password"] == (
        vault.password_v2
    )


def test_unwrap_into_files_gives_one_0600_file_per_field(vault, fetcher, tmp_path):
    wrapped = fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv), timedelta(minutes=1))
    out = tmp_path / "secrets"
    delivery = unwrap_and_deliver(VaultConfig(vault.addr), wrapped.token, to_dir=out)
    assert delivery.result.decision.value == "pass"
    assert sorted(p.name for p in out.iterdir()) == ["password", "user"]
    assert (out / "password").read_text() == vault.password_v2
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert delivery.result.metadata["fields"] == ["password", "user"]
    vault.assert_no_leak(delivery.result.to_json())


def test_wrap_ttl_outside_policy_bounds_is_refused(vault, fetcher):
    with pytest.raises(ConfigError, match="wrap TTL"):
        fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv), timedelta(hours=2))
    with pytest.raises(ConfigError, match="wrap TTL"):
        fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv), timedelta(0))


def test_least_privilege_fetcher_cannot_wrap_other_paths(vault, fetcher):
    with pytest.raises(ConfigError, match="permission denied"):
        fetch_wrapped(fetcher, SecretRef("other/api", mount=vault.kv), timedelta(minutes=1))


def test_fetch_and_unwrap_make_no_call_beyond_the_vault_server(vault, tmp_path):
    from tests.support.netguard import no_network

    with no_network() as attempts:
        client, _ = login(
            VaultConfig(vault.addr),
            AppRoleAuth(role_id=vault.role_id, secret_id_file=str(vault.new_secret_id()), mount=vault.approle),
        )
        wrapped = fetch_wrapped(client, SecretRef("app/db", mount=vault.kv), timedelta(minutes=1))
        delivery = unwrap_and_deliver(VaultConfig(vault.addr), wrapped.token, to_dir=tmp_path / "s")
    assert attempts == [] and delivery.result.decision.value == "pass"


def test_consumer_helper_names_expiry_from_the_artifact_metadata(vault, fetcher, tmp_path):
    from kfp_gates.components.secrets import consumer

    wrapped = fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv), timedelta(seconds=1))

    class Artifact:  # what KFP hands the consumer: a path and metadata (numbers come back as doubles)
        path = str(tmp_path / "wrapped")
        metadata = {**wrapped.public(), "ttl": float(wrapped.ttl)}

    (tmp_path / "wrapped").write_text(wrapped.token)
    time.sleep(2.2)
    with pytest.raises(WrappingTokenRejected) as exc:
        consumer.unwrap_artifact(Artifact(), vault_addr=vault.addr)
    assert exc.value.finding.id == WRAP_EXPIRED


def test_least_privilege_fetcher_can_wrap_a_single_field(vault, fetcher):
    # sys/wrapping/wrap comes with the default policy: no extra grant needed for --field.
    one = fetch_wrapped(fetcher, SecretRef("app/db", mount=vault.kv, field="password"), timedelta(minutes=1))
    assert dict(unwrap(VaultConfig(vault.addr), one.token).fields) == {"password": vault.password_v2}
