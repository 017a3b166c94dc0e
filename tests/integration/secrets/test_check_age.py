"""Rotation hygiene over real KV v2 metadata."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.severity import Severity
from kfp_gates.components.secrets import SecretRef, VaultConfig, login, read_secret
from kfp_gates.components.secrets.age import NO_CURRENT, STALE, check_age
from kfp_gates.components.secrets.auth import TokenAuth


def _client(vault):
    return login(VaultConfig(vault.addr), TokenAuth(token_file=str(vault.root_token_file)))[0]


def test_secrets_older_than_max_age_are_findings(vault):
    client = _client(vault)
    later = datetime.now(UTC) + timedelta(days=100)
    result = check_age(client, mount=vault.kv, prefixes=("app/", "other/"), max_age=timedelta(days=90),
                       settings=GateSettings(fail_on=Severity.MEDIUM), now=later)  # fmt: skip
    stale = sorted(f.location.path for f in result.findings if f.id == STALE)
    assert stale == [f"{vault.kv}/app/db", f"{vault.kv}/other/api"]
    assert result.decision.value == "fail" and result.metadata["secrets_checked"] == 2
    assert vault.password_v2 not in result.to_json() and vault.api_key not in result.to_json()


def test_fresh_secrets_pass_and_the_subject_is_stable(vault):
    client = _client(vault)
    a = check_age(client, mount=vault.kv, prefixes=("app/db",), max_age=timedelta(days=90), settings=GateSettings())
    b = check_age(client, mount=vault.kv, prefixes=("app/db",), max_age=timedelta(days=90), settings=GateSettings())
    assert a.decision.value == "pass" and not a.findings
    assert a.subject.sha256 == b.subject.sha256


def test_deleted_current_version_is_reported_as_info(vault):
    vault.admin.secrets.kv.v2.create_or_update_secret(path="gone/x", secret={"a": "bbbb"}, mount_point=vault.kv)
    vault.admin.secrets.kv.v2.delete_latest_version_of_secret(path="gone/x", mount_point=vault.kv)
    result = check_age(_client(vault), mount=vault.kv, prefixes=("gone/",), max_age=timedelta(days=1),
                       settings=GateSettings())  # fmt: skip
    assert [f.id for f in result.findings] == [NO_CURRENT]


def test_cli_check_age_tier_decides_block_or_warn(cli, vault, tmp_path):
    base = ["secret", "check-age", "--auth", "token", "--token-file", str(vault.root_token_file),
            "--mount", vault.kv, "--prefix", "app/", "--max-age", "1s", "--format", "json"]  # fmt: skip
    import time

    time.sleep(1.1)
    warn = cli(*base, "--tier", "standard", env=vault.env())  # medium finding, standard blocks at high
    assert warn.code == 0, warn
    assert json.loads(warn.out)["decision"] == "warn"
    block = cli(*base, "--tier", "critical", env=vault.env())  # critical blocks at medium
    assert block.code == 1 and json.loads(block.out)["findings"][0]["id"] == STALE
    vault.assert_no_leak(warn.out, warn.err, block.out, block.err)


def test_cli_check_age_uses_the_policy_and_needs_a_max_age(cli, vault, tmp_path):
    base = ["secret", "check-age", "--auth", "token", "--token-file", str(vault.root_token_file), "--mount", vault.kv]
    r = cli(*base, env=vault.env())
    assert r.code == 2 and "max_secret_age" in r.err
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: standard\n"
        "gates:\n  secrets:\n    max_secret_age: 90d\n    stale_severity: high\n"
    )
    ok = cli(*base, "--policy", str(policy), "--format", "json", env=vault.env())
    assert ok.code == 0 and json.loads(ok.out)["policy"]["max_secret_age"] == "90d", ok
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  secrets:\n    max_secret_agee: 9d\n")
    assert cli(*base, "--policy", str(bad), env=vault.env()).code == 2


def test_metadata_only_policy_is_enough_and_values_stay_out_of_reach(vault, tmp_path):
    policy = f"age-audit-{vault.kv}"
    vault.admin.sys.create_or_update_policy(
        policy, f'path "{vault.kv}/metadata/app/*" {{ capabilities = ["list", "read"] }}\n'
    )
    token = vault.admin.auth.token.create(policies=[policy], ttl="5m")["auth"]["client_token"]
    vault.leaks.append(token)
    client, _ = login(VaultConfig(vault.addr), TokenAuth(env={"VAULT_TOKEN": token}))
    later = datetime.now(UTC) + timedelta(days=100)
    for prefix in ("app/", "app"):
        result = check_age(client, mount=vault.kv, prefixes=(prefix,), max_age=timedelta(days=90),
                           settings=GateSettings(), now=later)  # fmt: skip
        assert [f.location.path for f in result.findings] == [f"{vault.kv}/app/db"]
    with pytest.raises(ConfigError, match="permission denied"):
        read_secret(client, SecretRef("app/db", mount=vault.kv))
