"""The Kubernetes launcher's control flow against an in-process fake API server (real client, real HTTP)."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kv

from kfp_gates.components.common.errors import ConfigError, InfrastructureError, UnsafeInputError
from kfp_gates.components.isolation import manifests
from kfp_gates.components.isolation.interface import StepSpec
from kfp_gates.components.isolation.kubernetes import KubeOptions, KubernetesBackend, RbacDenied, StepCancelled

from ...unit.isolation.pss import violations
from .fake_apiserver import FakeApiServer, Scenario

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "registry.example/ml/train@sha256:" + "ab" * 32
HELPER = "ghcr.io/kfp-gates/kfp-gates@sha256:" + "cd" * 32
LATEST = max(set(kv.all_versions()), key=lambda v: tuple(int(x) for x in v.split(".")))


def _backend(api: FakeApiServer, sink: io.BytesIO | None = None, **opts: Any) -> KubernetesBackend:
    options = KubeOptions(
        namespace=opts.pop("namespace", "ml"), image=IMAGE, helper_image=HELPER, backoff=0.001, grace=2.0, **opts
    )
    return KubernetesBackend(
        api.client(), options, log_sink=sink or io.BytesIO(), sleep=lambda s: None, pause=lambda s: time.sleep(0.01)
    )


def _step(tmp_path: Path, **kw: Any) -> StepSpec:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    base: dict[str, Any] = {
        "argv": ("python", "train.py"),
        "inputs": (data,),
        "output": tmp_path / "out",
        "timeout": 30,
        "env": {"SEED": "1"},
    }
    base.update(kw)
    return StepSpec(**base)


def _assert_cleaned_up(api: FakeApiServer) -> None:
    assert api.cluster.objects == {}, list(api.cluster.objects)
    deletes = [r.resource for r in api.cluster.calls("DELETE")]
    assert "jobs" in deletes


def test_success_streams_logs_collects_outputs_and_cleans_up(tmp_path: Path) -> None:
    scenario = Scenario(step_log=b"epoch 1 loss 0.3\n", outputs={"model.bin": b"weights", "eval/metrics.json": b"{}"})
    sink = io.BytesIO()
    with FakeApiServer(scenario) as api:
        outcome = _backend(api, sink).run(_step(tmp_path))
        calls = [(r.method, r.resource) for r in api.cluster.requests]
        posts = {r.resource: r.body for r in api.cluster.calls("POST")}
        _assert_cleaned_up(api)
    assert outcome.succeeded and outcome.exit_code == 0
    assert sink.getvalue() == b"epoch 1 loss 0.3\n"
    assert (tmp_path / "out" / "model.bin").read_bytes() == b"weights"
    assert (tmp_path / "out" / "eval" / "metrics.json").read_bytes() == b"{}"
    # Order: the Job exists suspended, then its NetworkPolicy and inputs, and only then does it start.
    assert calls[:4] == [("POST", "jobs"), ("POST", "networkpolicies"), ("POST", "configmaps"), ("PATCH", "jobs")]
    assert posts["jobs"]["spec"]["suspend"] is True
    patch = api.cluster.calls("PATCH", "jobs")[0].body
    assert patch == {"spec": {"suspend": False}}
    # Cleanup order: Job (foreground) first, its pod gone, then the NetworkPolicy, then the inputs.
    tail = [c for c in calls if c[0] == "DELETE"]
    assert tail == [("DELETE", "jobs"), ("DELETE", "networkpolicies"), ("DELETE", "configmaps")]
    delete_job = api.cluster.calls("DELETE", "jobs")[0]
    assert delete_job.body["propagationPolicy"] == "Foreground"
    # Every object sent is schema-valid and the pod is restricted.
    for body in posts.values():
        kv.validate(body, LATEST, strict=True)
    assert violations(posts["jobs"]["spec"]["template"]["spec"]) == []
    env = {e["name"] for c in posts["jobs"]["spec"]["template"]["spec"]["initContainers"] for e in c["env"]}
    assert "SEED" in env and not any("TOKEN" in e for e in env)


def test_owned_objects_reference_the_created_job(tmp_path: Path) -> None:
    with FakeApiServer(Scenario()) as api:
        _backend(api).run(_step(tmp_path))
        job_uid = api.cluster.calls("POST", "jobs")[0]
        np_body = api.cluster.calls("POST", "networkpolicies")[0].body
        cm_body = api.cluster.calls("POST", "configmaps")[0].body
    for body in (np_body, cm_body):
        (ref,) = body["metadata"]["ownerReferences"]
        assert ref["kind"] == "Job" and ref["name"].startswith("kfpg-iso-") and ref["uid"]
        assert body["metadata"]["labels"][manifests.RUN_LABEL] == ref["name"].removeprefix("kfpg-iso-")
    assert job_uid.body["metadata"]["labels"][manifests.MANAGED_BY] == "kfp-gates"


def test_failing_step_propagates_its_status_and_cleans_up(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(step_exit=3, outputs={"partial": b"x"})) as api:
        outcome = _backend(api).run(_step(tmp_path))
        _assert_cleaned_up(api)
        logs = api.cluster.calls("GET", "pods/log")
        # The step's log was streamed (so the launcher got as far as reading logs), and the
        # outbox log, which carries the outputs, was never read for a failed step.
        assert [r.query.get("container") for r in logs] == [["step"]], [r.query for r in logs]
    assert outcome.exit_code == 3 and not outcome.succeeded
    assert list((tmp_path / "out").glob("*")) == []


def test_deadline_exceeded_is_a_timeout_and_cleans_up(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(hang=True)) as api:
        t0 = time.monotonic()
        outcome = _backend(api).run(_step(tmp_path, timeout=1))
        _assert_cleaned_up(api)
    assert outcome.timed_out and outcome.exit_code is None
    assert time.monotonic() - t0 < 10


def test_sigterm_cancels_and_cleans_up(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(hang=True)) as api:
        timer = threading.Timer(0.8, lambda: os.kill(os.getpid(), signal.SIGTERM))
        timer.start()
        previous = signal.getsignal(signal.SIGTERM)
        with pytest.raises(StepCancelled, match="SIGTERM"):
            _backend(api).run(_step(tmp_path, timeout=60))
        timer.join()
        _assert_cleaned_up(api)
        assert signal.getsignal(signal.SIGTERM) == previous


def test_a_signal_during_cleanup_waits_for_the_cleanup_then_cancels(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(slow_delete=0.5)) as api:
        backend = _backend(api)
        real_cleanup = backend._cleanup

        def cleanup_with_a_signal(*a: Any) -> None:
            threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
            real_cleanup(*a)

        backend._cleanup = cleanup_with_a_signal  # type: ignore[method-assign]
        with pytest.raises(StepCancelled, match="while cleaning up"):
            backend.run(_step(tmp_path))
        _assert_cleaned_up(api)


def test_403_names_the_missing_verb_and_resource(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(errors={("POST", "jobs"): [403]})) as api:
        with pytest.raises(RbacDenied) as exc:
            _backend(api).run(_step(tmp_path))
        assert [(r.method, r.resource) for r in api.cluster.requests] == [("POST", "jobs")]
    assert exc.value.exit_code == 2
    assert "may not create jobs.batch" in exc.value.message and "namespace ml" in exc.value.message
    assert "deploy/isolation/rbac.yaml" in (exc.value.hint or "")


def test_403_after_the_job_exists_still_deletes_it(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(errors={("POST", "networkpolicies"): [403]})) as api:
        with pytest.raises(RbacDenied, match=r"create networkpolicies\.networking\.k8s\.io"):
            _backend(api).run(_step(tmp_path))
        assert not api.cluster.calls("PATCH")  # the Job never left suspension: no pod ever ran
        _assert_cleaned_up(api)


def test_409_and_5xx_are_retried(tmp_path: Path) -> None:
    errors = {("POST", "jobs"): [503, 500], ("PATCH", "jobs"): [409], ("POST", "configmaps"): [429]}
    with FakeApiServer(Scenario(errors=errors)) as api:
        outcome = _backend(api).run(_step(tmp_path))
        assert len(api.cluster.calls("POST", "jobs")) == 3
        assert len(api.cluster.calls("PATCH", "jobs")) == 2
        _assert_cleaned_up(api)
    assert outcome.succeeded


def test_persistent_5xx_gives_up_as_infrastructure_error_and_cleans_up(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(errors={("POST", "configmaps"): [503] * 10})) as api:
        with pytest.raises(InfrastructureError, match="create configmaps") as exc:
            _backend(api, retries=2).run(_step(tmp_path))
        assert len(api.cluster.calls("POST", "configmaps")) == 3
        _assert_cleaned_up(api)
    assert exc.value.exit_code == 3


def test_image_pull_error_fails_fast_and_cleans_up(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(image_error="ErrImagePull")) as api:
        with pytest.raises(InfrastructureError, match="ErrImagePull"):
            _backend(api).run(_step(tmp_path))
        _assert_cleaned_up(api)


def test_tampered_outputs_are_refused_and_cleaned_up(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(outputs={"model.bin": b"w" * 500}, tamper_outbox=True)) as api:
        with pytest.raises(UnsafeInputError):
            _backend(api).run(_step(tmp_path))
        _assert_cleaned_up(api)
    assert not (tmp_path / "out" / "model.bin").exists()


def test_per_run_namespace_is_created_first_and_deleted_last(tmp_path: Path) -> None:
    with FakeApiServer(Scenario()) as api:
        _backend(api, per_run_namespace=True).run(_step(tmp_path, inputs=()))
        calls = [(r.method, r.resource) for r in api.cluster.requests]
        ns_body = api.cluster.calls("POST", "namespaces")[0].body
        assert api.cluster.objects == {}
    assert calls[0] == ("POST", "namespaces") and calls[-1] == ("DELETE", "namespaces")
    assert ns_body["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    kv.validate(ns_body, LATEST, strict=True)


def test_unreachable_api_server_is_an_infrastructure_error(tmp_path: Path) -> None:
    api = FakeApiServer(Scenario())
    api.httpd.server_close()  # nothing listens on that port any more
    with pytest.raises(InfrastructureError, match="unreachable"):
        _backend(api, retries=1).run(_step(tmp_path))


def _rbac_rules() -> set[tuple[str, str]]:
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "isolation" / "rbac.yaml").read_text()))
    role = next(d for d in docs if d["kind"] == "Role")
    return {(verb, res) for rule in role["rules"] for res in rule["resources"] for verb in rule["verbs"]}


def test_deploy_role_grants_exactly_what_the_launcher_uses(tmp_path: Path) -> None:
    verb_of = {"POST": "create", "PATCH": "patch", "DELETE": "delete"}
    used: set[tuple[str, str]] = set()
    for scenario in (Scenario(outputs={"m": b"1"}), Scenario(step_exit=1)):
        with FakeApiServer(scenario) as api:
            _backend(api).run(_step(tmp_path))
            for r in api.cluster.requests:
                if r.method == "GET":
                    verb = (
                        "watch"
                        if r.query.get("watch", [""])[0].lower() == "true"
                        else ("list" if r.resource == "pods" else "get")
                    )
                else:
                    verb = verb_of[r.method]
                used.add((verb, r.resource))
    assert used == _rbac_rules()


def _kubeconfig(tmp_path: Path, url: str) -> Path:
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token-0123456789"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
        "current-context": "fake",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _launch(cli, tmp_path: Path, url: str, *extra: str):
    (tmp_path / "data.csv").write_text("a\n")
    return cli(
        "launch", "--image", IMAGE, "--namespace", "ml", "--kubeconfig", str(_kubeconfig(tmp_path, url)),
        "--input", "data.csv", "--output", "out", "--report", "result.json", *extra, "--", "python", "train.py",
        env={"KFP_GATES_IMAGE": HELPER},
    )  # fmt: skip


def test_cli_launch_end_to_end(cli, tmp_path: Path) -> None:
    from kfp_gates.components.common.result import GateResult

    with FakeApiServer(Scenario(step_log=b"training...\n", outputs={"model.bin": b"w"})) as api:
        r = _launch(cli, tmp_path, api.url)
        assert api.cluster.objects == {}
    assert r.code == 0, r
    assert "training..." in r.out
    assert (tmp_path / "out" / "model.bin").read_bytes() == b"w"
    result = GateResult.from_json((tmp_path / "result.json").read_text())
    assert result.decision.value == "pass" and result.metadata["backend"] == "kubernetes"
    assert "not-a-real-token" not in r.out + r.err + (tmp_path / "result.json").read_text()


def test_cli_launch_propagates_the_step_status(cli, tmp_path: Path) -> None:
    with FakeApiServer(Scenario(step_exit=5)) as api:
        r = _launch(cli, tmp_path, api.url)
    assert r.code == 5, r
    assert "KFPG-ISO-STEP-FAILED" in r.err


def test_cli_launch_403_exits_2_naming_verb_and_resource(cli, tmp_path: Path) -> None:
    with FakeApiServer(Scenario(errors={("PATCH", "jobs"): [403]})) as api:
        r = _launch(cli, tmp_path, api.url)
        assert api.cluster.objects == {}
    assert r.code == 2, r
    assert "may not patch jobs.batch" in r.err and "Traceback" not in r.err


def test_cli_launch_unreachable_exits_3(cli, tmp_path: Path) -> None:
    api = FakeApiServer(Scenario())
    url = api.url
    api.httpd.server_close()
    r = _launch(cli, tmp_path, url)
    assert r.code == 3, r
    assert "unreachable" in r.err


def test_cli_launch_bad_kubeconfig_exits_2(cli, tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text("not: [valid")
    r = cli("launch", "--image", IMAGE, "--kubeconfig", str(tmp_path / "kubeconfig"), "--", "true")
    assert r.code == 2, r
    assert "Kubernetes configuration" in r.err


def test_pod_failing_before_the_step_is_an_error_not_a_status(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(inbox_fails=True)) as api:
        with pytest.raises(InfrastructureError, match="failed before the step ran"):
            _backend(api).run(_step(tmp_path))
        _assert_cleaned_up(api)


def test_config_error_on_404_namespace(tmp_path: Path) -> None:
    with FakeApiServer(Scenario(errors={("POST", "jobs"): [404]})) as api:
        with pytest.raises(ConfigError, match="not found"):
            _backend(api).run(_step(tmp_path))


def test_cli_launch_sigterm_cleans_up_and_exits_3(tmp_path: Path) -> None:
    """A cancelled KFP run: the launcher process gets SIGTERM while the step runs."""
    import subprocess
    import sys

    with FakeApiServer(Scenario(hang=True)) as api:
        exe = Path(sys.executable).with_name("kfp-gates")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KFP_GATES_")}
        env["KFP_GATES_IMAGE"] = HELPER
        proc = subprocess.Popen(
            [str(exe), "launch", "--image", IMAGE, "--namespace", "ml",
             "--kubeconfig", str(_kubeconfig(tmp_path, api.url)), "--timeout", "300", "--", "sleep", "1000"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not api.cluster.calls("GET", "pods/log") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.cluster.calls("PATCH", "jobs"), "the Job never started"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 3, (out, err)
        assert "SIGTERM" in err and "Traceback" not in err
        assert api.cluster.objects == {}
