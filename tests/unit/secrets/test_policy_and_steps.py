"""The secrets policy section and the parameter checks of the component steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kfp_gates.components.common.errors import ConfigError, PolicyError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Severity
from kfp_gates.components.secrets.steps import StepAuth, fetch_step, refuse_secret_looking
from kfp_gates.components.secrets.wrapping import check_wrap_ttl

HEAD = "apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: standard\ngates:\n  secrets:\n"


def test_secrets_section_keys():
    policy = GatePolicy.parse(HEAD + "    max_secret_age: 90d\n    stale_severity: high\n    wrap_ttl: 2m\n")
    sec = policy.gates.secrets
    assert sec.max_secret_age == timedelta(days=90) and sec.stale_severity is Severity.HIGH
    assert sec.wrap_ttl == timedelta(minutes=2) and sec.max_wrap_ttl == timedelta(hours=1)


@pytest.mark.parametrize(
    "body", ["    wrap_ttl: 2h\n", "    max_secret_agee: 9d\n", "    stale_severity: loud\n", "    wrap_ttl: soon\n"]
)
def test_invalid_secrets_sections_are_refused(body):
    with pytest.raises(PolicyError):
        GatePolicy.parse(HEAD + body)


def test_wrap_ttl_bounds():
    assert check_wrap_ttl(timedelta(minutes=5)) == 300
    for bad in (timedelta(0), timedelta(milliseconds=500), timedelta(hours=2)):
        with pytest.raises(ConfigError):
            check_wrap_ttl(bad)


@pytest.mark.parametrize(
    "value",
    [
        "s.AbCdEfGhIjKlMnOpQrStUvWx",
        "hvs.CAESIJ0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl",
        "AKIAIOSFODNN7EXAMPLE",
    ],
)
def test_credential_shaped_parameters_are_refused_without_echoing_them(value):
    with pytest.raises(ConfigError) as exc:
        refuse_secret_looking(role_id=value)
    assert exc.value.where == "role_id" and value not in str(exc.value)


def test_ordinary_parameters_pass():
    refuse_secret_looking(vault_addr="https://vault.example:8200", role="ml-training", secret_path="secret/app/db")


def test_fetch_step_validates_before_any_network_call():
    auth = StepAuth("approle", role_id="r", credential_file="/nonexistent")
    with pytest.raises(ConfigError, match="kv_version"):
        fetch_step(vault_addr="http://127.0.0.1:1", secret_path="secret/a", auth=auth, kv_version=3)
    with pytest.raises(ConfigError, match="dynamic"):
        fetch_step(vault_addr="http://127.0.0.1:1", secret_path="secret/a", auth=auth, params={"a": "b"})
    with pytest.raises(ConfigError, match="unknown auth method"):
        StepAuth("password").build()
