"""``launch_isolated``'s body, run for real: the default Kubernetes branch against the fake API server,
and the namespaces branch on this machine. Stand-in artifacts, real backends."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.support.kfp_stubs import StubArtifact, gate_outputs, published_decision

from .fake_apiserver import FakeApiServer, Scenario

IMAGE = "registry.example/ml/train@sha256:" + "ab" * 32
HELPER = "ghcr.io/kfp-gates/kfp-gates@sha256:" + "cd" * 32


def _use_kubeconfig(monkeypatch, tmp_path: Path, url: str) -> None:
    """$KUBECONFIG for the body's ``config.load_kube_config()`` (the client reads it once, at import)."""
    from kubernetes.config import kube_config

    path = str(_kubeconfig(tmp_path, url))
    monkeypatch.setenv("KUBECONFIG", path)
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", path)


def _kubeconfig(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token-0123456789"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
    }))  # fmt: skip
    return path


def _inputs(tmp_path: Path) -> StubArtifact:
    data = tmp_path / "in"
    data.mkdir()
    (data / "train.csv").write_text("a\n1\n")
    return StubArtifact(data)


def test_default_kubernetes_branch_creates_the_job_collects_outputs_and_publishes(tmp_path: Path, monkeypatch) -> None:
    from kfp_gates.components import launch_isolated

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KFP_GATES_IMAGE", HELPER)
    outputs = gate_outputs(tmp_path, "output_data")
    with FakeApiServer(Scenario(step_log=b"training\n", outputs={"model.bin": b"weights"})) as api:
        _use_kubeconfig(monkeypatch, tmp_path, api.url)
        verdict = launch_isolated.python_func(
            command=["python", "train.py"], input_data=_inputs(tmp_path), image=IMAGE, namespace="ml",
            timeout="60", **outputs,
        )  # fmt: skip
        created = [r for r in api.cluster.calls("POST") if r.resource == "jobs"]
        assert api.cluster.objects == {}  # everything deleted afterwards
    assert verdict == published_decision(outputs) == "pass"
    assert (Path(outputs["output_data"].path) / "model.bin").read_bytes() == b"weights"
    (job,) = created
    containers = job.body["spec"]["template"]["spec"]["initContainers"] + job.body["spec"]["template"]["spec"].get(
        "containers", []
    )
    assert IMAGE in {c["image"] for c in containers}
    assert job.body["metadata"]["namespace"] == "ml" or job.path.startswith("/apis/batch/v1/namespaces/ml/")
    result = json.loads(Path(outputs["result"].path).read_text())
    assert result["metadata"]["backend"] == "kubernetes" and result["subject"]["name"] == "step: python train.py"


def test_default_kubernetes_branch_fails_the_verdict_for_a_failing_step(tmp_path: Path, monkeypatch) -> None:
    from kfp_gates.components import launch_isolated

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KFP_GATES_IMAGE", HELPER)
    outputs = gate_outputs(tmp_path, "output_data")
    with FakeApiServer(Scenario(step_exit=4, outputs={"partial": b"x"})) as api:
        _use_kubeconfig(monkeypatch, tmp_path, api.url)
        verdict = launch_isolated.python_func(command=["python", "train.py"], image=IMAGE, namespace="ml", **outputs)
    assert verdict == published_decision(outputs) == "fail"
    assert list(Path(outputs["output_data"].path).iterdir()) == []
    assert outputs["metrics"].logged["exit_status"] == 4


def test_namespaces_branch_reads_inputs_writes_outputs_and_passes(tmp_path: Path) -> None:
    from kfp_gates.components import launch_isolated

    tmp_path.chmod(0o755)  # a root launcher's step runs as nobody
    outputs = gate_outputs(tmp_path, "output_data")
    verdict = launch_isolated.python_func(
        command=["sh", "-c", 'wc -l < "$KFP_GATES_INPUTS/train.csv" > "$KFP_GATES_OUTPUTS/lines"'],
        input_data=_inputs(tmp_path), backend="namespaces", **outputs,
    )  # fmt: skip
    assert verdict == published_decision(outputs) == "pass"
    assert (Path(outputs["output_data"].path) / "lines").read_text().strip() == "2"
    assert outputs["metrics"].logged["isolated"] == 1


def test_namespaces_branch_refuses_a_secret_env_in_critical_before_running(tmp_path: Path, monkeypatch) -> None:
    from kfp_gates.components import launch_isolated

    monkeypatch.setenv("VAULT_TOKEN", "hvs.component-secret-0123456789")
    outputs = gate_outputs(tmp_path, "output_data")
    verdict = launch_isolated.python_func(
        command=["sh", "-c", 'echo "$VAULT_TOKEN" > "$KFP_GATES_OUTPUTS/leak"'],
        backend="namespaces", env_names="VAULT_TOKEN", tier="critical", **outputs,
    )  # fmt: skip
    assert verdict == published_decision(outputs) == "fail"
    assert list(Path(outputs["output_data"].path).iterdir()) == []
    for name in ("result", "html_report", "markdown_report"):
        assert "hvs.component-secret" not in Path(outputs[name].path).read_text()
