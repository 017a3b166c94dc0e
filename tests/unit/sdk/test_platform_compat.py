"""PlatformSpec fields vs the target KFP backend: rejected or silently dropped fields are findings, never lost."""

# No `from __future__ import annotations`: this module defines KFP components.

import json
from pathlib import Path

import pytest
from kfp import compiler, dsl, kubernetes
from kfp.kubernetes import kubernetes_executor_config_pb2 as pb

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.kfp_ir import load_pipeline
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision
from kfp_gates.sdk import checks, platform_compat

pytestmark = pytest.mark.unit
IMAGE = "registry.example/ml/train@sha256:" + "4f" * 32


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def step() -> None:
    pass


def _compile(tmp_path: Path, harden) -> Path:
    @dsl.pipeline(name="p")
    def p() -> None:
        harden(step())

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(p, str(out))
    return out


def _fields(path: Path, backend: str) -> list[str]:
    return [f.data["field"] for f in platform_compat.backend_field_findings(load_pipeline(path), backend)]


def test_fields_every_backend_knows_pass_everywhere(tmp_path) -> None:
    def harden(t):
        return kubernetes.set_image_pull_policy(kubernetes.add_pod_label(t, "a", "b"), "Always")

    path = _compile(tmp_path, harden)
    for backend in platform_compat.supported_backends():
        assert _fields(path, backend) == [], backend


def test_security_context_is_silently_dropped_before_2_16(tmp_path) -> None:
    path = _compile(tmp_path, lambda t: kubernetes.set_security_context(t, run_as_user=1000, run_as_non_root=True))
    [f] = platform_compat.backend_field_findings(load_pipeline(path), "2.15.0")
    assert f.data["field"] == "securityContext" and f.data["minimum_backend"] == "2.16.0"
    assert "silently dropped" in f.message and "2.16.0" in f.message
    assert _fields(path, "2.16.0") == [] and _fields(path, "2.17.0") == []
    # on a strict backend the same field fails the driver
    [strict] = platform_compat.backend_field_findings(load_pipeline(path), "2.2.0")
    assert "fails the task's driver" in strict.message


def test_secret_name_parameter_needs_2_5_and_optional_needs_2_15(tmp_path) -> None:
    path = _compile(tmp_path, lambda t: kubernetes.use_secret_as_env(
        t, secret_name="db", secret_key_to_env={"password": "DB_PASSWORD"}, optional=True))
    assert set(_fields(path, "2.2.0")) == {"secretAsEnv[0].secretNameParameter", "secretAsEnv[0].optional"}
    assert _fields(path, "2.5.0") == ["secretAsEnv[0].optional"]
    assert _fields(path, "2.15.0") == []


def test_check_blocks_by_default_on_the_oldest_backend_and_passes_on_a_new_one(tmp_path, cli, monkeypatch) -> None:
    path = _compile(tmp_path, lambda t: kubernetes.set_security_context(t, run_as_user=1000))
    [r] = checks.check_pipeline(load_pipeline(path), GatePolicy.default("standard"))
    assert r.decision is Decision.FAIL and r.metadata["kfp_backend"] == platform_compat.DEFAULT_BACKEND
    assert cli("check", str(path)).code == 1
    assert cli("check", str(path), "--kfp-backend", "2.16.1").code == 0
    assert cli("check", str(path), env={"KFP_GATES_KFP_BACKEND": "2.17.0"}).code == 0
    r2 = cli("check", str(path), "--kfp-backend", "banana")
    assert r2.code == 2 and "not a version" in r2.err


def test_versions_resolve_to_the_nearest_older_table() -> None:
    assert platform_compat.resolve_backend("2.16.1") == "2.16.0"
    assert platform_compat.resolve_backend("v2.4.1") == "2.4.1"
    with pytest.raises(ConfigError):
        platform_compat.resolve_backend("1.8.5")


def test_the_newest_table_matches_the_installed_kfp_kubernetes_proto() -> None:
    """The derived tables agree with the real message descriptors (kfp-kubernetes 2.17 = backend 2.17.0)."""
    table = json.loads(platform_compat._DATA.read_text())["versions"]["2.17.0"]["messages"]

    def check(descriptor, name: str) -> None:
        assert set(table[name]) == set(descriptor.fields_by_name), name
        for field in descriptor.fields:
            if field.message_type is not None and field.message_type.full_name.startswith("kfp_kubernetes."):
                nested = field.message_type.full_name.removeprefix("kfp_kubernetes.")
                if not field.message_type.GetOptions().map_entry:
                    assert table[name][field.name]["message"] == nested, (name, field.name)
                    check(field.message_type, nested)

    check(pb.KubernetesExecutorConfig.DESCRIPTOR, "KubernetesExecutorConfig")


def test_every_table_records_its_provenance() -> None:
    data = json.loads(platform_compat._DATA.read_text())
    for version, entry in data["versions"].items():
        src = entry["source"]
        assert src["backend_tag"] == version and len(src["commit"]) == 40 and len(src["git_blob"]) == 40
        assert src["path"].endswith("kubernetes_executor_config.proto")
        assert "KubernetesExecutorConfig" in entry["messages"]
