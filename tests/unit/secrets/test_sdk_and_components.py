"""Vault Agent Injector annotations through kfp-kubernetes; the components compile and are registered."""

# No `from __future__ import annotations`: KFP reads real annotations.

import pytest
import yaml
from kfp import compiler, dsl

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.sdk.vault import inject_vault_agent, vault_agent_annotations


@dsl.component(base_image="python:3.11-slim")
def _train() -> None:
    pass


def _platform_annotations(pipeline, tmp_path) -> dict:
    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(out))
    docs = list(yaml.safe_load_all(out.read_text()))
    executors = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    (spec,) = executors.values()
    return spec["podMetadata"]["annotations"]


def test_injector_annotations_in_the_compiled_platform_spec(tmp_path):
    @dsl.pipeline(name="agent")
    def pipe():
        task = _train()
        inject_vault_agent(
            task,
            role="ml-training",
            secrets={"db": "database/creds/readonly", "api": "secret/data/ml/api"},
            templates={"db": '{{ with secret "database/creds/readonly" }}{{ .Data.password }}{{ end }}'},
            namespace="team-a",
        )

    ann = _platform_annotations(pipe, tmp_path)
    assert ann["vault.hashicorp.com/agent-inject"] == "true"
    assert ann["vault.hashicorp.com/agent-pre-populate-only"] == "true"
    assert ann["vault.hashicorp.com/role"] == "ml-training"
    assert ann["vault.hashicorp.com/namespace"] == "team-a"
    assert ann["vault.hashicorp.com/agent-inject-secret-db"] == "database/creds/readonly"
    assert ann["vault.hashicorp.com/agent-inject-secret-api"] == "secret/data/ml/api"
    assert ann["vault.hashicorp.com/agent-inject-template-db"].startswith("{{ with secret")
    assert ann["vault.hashicorp.com/agent-inject-perms-db"] == "0400"
    assert "vault.hashicorp.com/agent-inject-template-api" not in ann


def test_sidecar_mode_is_possible_but_not_the_default():
    ann = vault_agent_annotations(role="r", secrets={"a": "p/a"}, pre_populate_only=False, file_perms=None)
    assert "vault.hashicorp.com/agent-pre-populate-only" not in ann
    assert not any("perms" in k for k in ann)
    bao = vault_agent_annotations(role="r", secrets={"a": "p/a"}, prefix="openbao.org")
    assert bao["openbao.org/agent-inject"] == "true"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role": "", "secrets": {"a": "p"}},
        {"role": "r", "secrets": {}},
        {"role": "r", "secrets": {"Bad_Name!": "p"}},
        {"role": "r", "secrets": {"a" * 50: "p"}},
        {"role": "r", "secrets": {"a": "p"}, "templates": {"b": "t"}},
        {"role": "r", "secrets": {"a": ""}},
        {"role": "r", "secrets": {"a": "p"}, "file_perms": "777x"},
        {"role": "s.AbCdEfGhIjKlMnOpQrStUvWx", "secrets": {"a": "p"}},
    ],
)
def test_invalid_injector_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        vault_agent_annotations(**kwargs)


def test_components_are_registered_and_compile_without_runtime_installs(tmp_path):
    import kfp_gates.components as comps
    from kfp_gates.components import fetch_secret, revoke_leases

    assert {"fetch_secret", "revoke_leases", "check_secret_age"} <= set(comps.__all__)

    @dsl.pipeline(name="fetch")
    def pipe(addr: str):
        cleanup = revoke_leases(vault_addr=addr, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER, role="ml")
        with dsl.ExitHandler(cleanup):
            fetch_secret(vault_addr=addr, secret_path="secret/app/db", role="ml")

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipe, str(out))
    text = out.read_text()
    assert "pip install" not in text
    inputs = fetch_secret.component_spec.inputs
    # No parameter carries a credential: only the *file* that holds one.
    assert not {"token", "secret_id", "jwt", "password"} & set(inputs)
    assert fetch_secret.component_spec.outputs.get("wrapped")
