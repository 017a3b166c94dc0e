"""The Kubernetes launcher against a real cluster. Runs only when KUBECONFIG is set (tests/conftest.py).

Needs, besides KUBECONFIG:
  KFP_GATES_IMAGE                  the kfp-gates image (deploy/Dockerfile) pinned by digest: inbox/outbox
  KFP_GATES_ISOLATION_TEST_IMAGE   a small image with sh and wget (e.g. busybox) pinned by digest
  KFP_GATES_ISOLATION_NAMESPACE    optional, default kfp-gates-isolated (apply deploy/isolation/ first)
The cluster's CNI must enforce NetworkPolicy (Calico, Cilium...), or the egress test fails - as it should.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from kfp_gates.components.isolation.interface import StepSpec
from kfp_gates.components.isolation.kubernetes import KubeOptions, KubernetesBackend, run_label_selector


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    missing = [n for n in ("KFP_GATES_IMAGE", "KFP_GATES_ISOLATION_TEST_IMAGE") if not os.environ.get(n)]
    if missing:
        pytest.fail(f"cluster tests need {', '.join(missing)} (digest-pinned images); see this module's docstring")
    return {
        "helper": os.environ["KFP_GATES_IMAGE"],
        "image": os.environ["KFP_GATES_ISOLATION_TEST_IMAGE"],
        "namespace": os.environ.get("KFP_GATES_ISOLATION_NAMESPACE", "kfp-gates-isolated"),
    }


@pytest.fixture(scope="module")
def api_client():
    from kubernetes import config

    return config.new_client_from_config()


def _backend(api_client, env, sink: io.BytesIO) -> KubernetesBackend:
    options = KubeOptions(namespace=env["namespace"], image=env["image"], helper_image=env["helper"], memory="128Mi")
    return KubernetesBackend(api_client, options, log_sink=sink)


def _leftovers(api_client, namespace: str, run_id: str) -> list[str]:
    from kubernetes import client

    sel = run_label_selector(run_id)
    found = [
        j.metadata.name for j in client.BatchV1Api(api_client).list_namespaced_job(namespace, label_selector=sel).items
    ]
    found += [
        n.metadata.name
        for n in client.NetworkingV1Api(api_client).list_namespaced_network_policy(namespace, label_selector=sel).items
    ]
    found += [
        c.metadata.name
        for c in client.CoreV1Api(api_client).list_namespaced_config_map(namespace, label_selector=sel).items
    ]
    return found


def test_step_runs_without_egress_or_token_and_returns_outputs(api_client, env, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("payload\n")
    script = (
        "cat /inputs/in.txt > /outputs/copy.txt; "
        "wget -q -T 5 -O- http://1.1.1.1/ >/dev/null 2>&1 && echo EGRESS >> /outputs/copy.txt; "
        "ls /var/run/secrets/kubernetes.io/serviceaccount 2>/dev/null && echo TOKEN >> /outputs/copy.txt; "
        "echo step-ran"
    )
    sink = io.BytesIO()
    backend = _backend(api_client, env, sink)
    step = StepSpec(argv=("sh", "-c", script), inputs=(tmp_path / "in.txt",), output=tmp_path / "out", timeout=300)
    outcome = backend.run(step)
    assert outcome.succeeded, outcome
    assert b"step-ran" in sink.getvalue()
    assert (tmp_path / "out" / "copy.txt").read_text() == "payload\n"
    assert _leftovers(api_client, env["namespace"], backend.run_id) == []


def test_failure_status_and_cleanup(api_client, env, tmp_path: Path) -> None:
    backend = _backend(api_client, env, io.BytesIO())
    outcome = backend.run(StepSpec(argv=("sh", "-c", "exit 3"), timeout=300))
    assert outcome.exit_code == 3
    assert _leftovers(api_client, env["namespace"], backend.run_id) == []


def test_deadline_kills_the_step_and_cleans_up(api_client, env) -> None:
    backend = _backend(api_client, env, io.BytesIO())
    outcome = backend.run(StepSpec(argv=("sleep", "600"), timeout=20))
    assert outcome.timed_out
    assert _leftovers(api_client, env["namespace"], backend.run_id) == []
