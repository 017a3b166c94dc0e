"""The launcher's Kubernetes objects: real OpenAPI schemas (strict, every shipped version), restricted PSS."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kv

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.isolation import manifests
from kfp_gates.components.isolation.interface import StepSpec
from kfp_gates.components.isolation.kubernetes import KubeOptions, plan

from .pss import violations

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "registry.example/ml/train@sha256:" + "ab" * 32
HELPER = "ghcr.io/kfp-gates/kfp-gates@sha256:" + "cd" * 32
VERSIONS = sorted(set(kv.all_versions()), key=lambda v: tuple(int(x) for x in v.split(".")))


def _step(**kw: Any) -> manifests.KubeStep:
    base: dict[str, Any] = {
        "run_id": "0123abcd45",
        "namespace": "ml-team",
        "image": IMAGE,
        "helper_image": HELPER,
        "argv": ("python", "train.py", "--epochs", "3"),
        "env": {"SEED": "7"},
        "timeout": 3600,
        "has_inputs": True,
    }
    base.update(kw)
    return manifests.KubeStep(**base)


def _every_object() -> list[dict[str, Any]]:
    step = _step(per_run_namespace=True, allow_egress=("dns", "cidr:10.0.0.5/32:9000", "namespace:minio:9000/TCP"))
    owner = manifests.owner_reference("Job", "batch/v1", step.name, "9b2f6a8e-0000-4000-8000-000000000001")
    return [
        *manifests.all_manifests(step, "H4sIAAAAAAAA/wMAAAAAAAAAAAA="),
        manifests.network_policy(_step(), owner),
        manifests.inputs_configmap(_step(), "AAAA", owner),
        manifests.job(_step(has_inputs=False)),
    ]


def _deploy_objects() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((ROOT / "deploy" / "isolation").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_kubernetes_validate_ships_several_versions_offline() -> None:
    assert len(VERSIONS) >= 5, VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_every_generated_object_is_valid_in_strict_mode(version: str) -> None:
    for obj in _every_object():
        kv.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", [VERSIONS[0], VERSIONS[-1]])
def test_deploy_manifests_are_valid_in_strict_mode(version: str) -> None:
    docs = _deploy_objects()
    assert {d["kind"] for d in docs} >= {"ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "Namespace"}
    for obj in docs:
        kv.validate(obj, version, strict=True)


def test_strict_validation_catches_a_misspelt_field() -> None:
    job = manifests.job(_step())
    job["spec"]["template"]["spec"]["automountServiceAcountToken"] = False  # typo
    with pytest.raises(kv.ValidationError):
        kv.validate(job, VERSIONS[-1], strict=True)


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]


def test_pod_meets_the_restricted_pod_security_standard() -> None:
    for step in (_step(), _step(has_inputs=False)):
        assert violations(_pod(manifests.job(step))) == []


@pytest.mark.parametrize(
    ("mutate", "control"),
    [
        (lambda p: p["initContainers"][-1]["securityContext"].pop("allowPrivilegeEscalation"), "Privilege Escalation"),
        (lambda p: p["containers"][0]["securityContext"].update(runAsNonRoot=False), "Running as Non-root: outbox"),
        (lambda p: p["securityContext"].update(runAsUser=0), "Running as Non-root user: pod"),
        (lambda p: p["initContainers"][0]["securityContext"].update(seccompProfile={"type": "Unconfined"}), "Seccomp"),
        (lambda p: p["initContainers"][-1]["securityContext"]["capabilities"].update(drop=[]), "drop ALL"),
        (lambda p: p["initContainers"][-1]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]), "(add)"),
        (lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "HostPath Volumes"),
        (lambda p: p.update(hostNetwork=True), "Host Namespaces"),
        (lambda p: p["containers"][0]["securityContext"].update(privileged=True), "Privileged Containers"),
        (lambda p: p["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]), "Host Ports"),
    ],
)
def test_the_pss_checker_catches_each_violation(mutate: Any, control: str) -> None:
    pod = copy.deepcopy(_pod(manifests.job(_step())))
    mutate(pod)
    assert any(control in v for v in violations(pod)), violations(pod)


def test_job_shape() -> None:
    job = manifests.job(_step(timeout=1234, ttl=77, cpu="2", memory="3Gi"))
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 1234
    assert spec["ttlSecondsAfterFinished"] == 77
    assert spec["suspend"] is True  # un-suspended only after the NetworkPolicy exists
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["restartPolicy"] == "Never"
    assert [c["name"] for c in pod["initContainers"]] == ["inbox", "step"]
    assert [c["name"] for c in pod["containers"]] == ["outbox"]
    step = pod["initContainers"][-1]
    assert step["image"] == IMAGE and step["command"] == ["python", "train.py", "--epochs", "3"]
    assert step["resources"] == {"requests": {"cpu": "2", "memory": "3Gi"}, "limits": {"cpu": "2", "memory": "3Gi"}}
    env = {e["name"]: e["value"] for e in step["env"]}
    assert env["SEED"] == "7" and "VAULT_TOKEN" not in env
    assert "envFrom" not in step
    for c in manifests_containers(pod):
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert {"name": "scratch", "mountPath": "/tmp"} in c["volumeMounts"]
        assert c["image"].count("@sha256:") == 1
        assert "resources" in c and c["resources"]["requests"] == c["resources"]["limits"]
    scratch = next(v for v in pod["volumes"] if v["name"] == "scratch")
    assert "emptyDir" in scratch
    mounts = {m["name"]: m for m in step["volumeMounts"]}
    assert mounts["inputs"]["readOnly"] is True and not mounts["outputs"].get("readOnly")
    assert job["metadata"]["labels"][manifests.RUN_LABEL] == "0123abcd45"
    assert spec["template"]["metadata"]["labels"][manifests.RUN_LABEL] == "0123abcd45"


def manifests_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["initContainers"], *pod["containers"]]


def test_network_policy_denies_everything_for_exactly_this_pod() -> None:
    np = manifests.network_policy(_step())
    assert np["spec"]["podSelector"] == {"matchLabels": {manifests.RUN_LABEL: "0123abcd45"}}
    assert np["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in np["spec"] and "egress" not in np["spec"]


def test_network_policy_allows_only_what_the_policy_names() -> None:
    np = manifests.network_policy(_step(allow_egress=("dns", "cidr:10.1.2.3/32:9000/TCP", "namespace:minio:9000")))
    rules = np["spec"]["egress"]
    assert len(rules) == 3
    assert rules[0]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert rules[0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert rules[1] == {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"protocol": "TCP", "port": 9000}]}
    assert rules[2]["to"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "minio"}}
    assert "ingress" not in np["spec"]


def test_per_run_namespace_enforces_restricted() -> None:
    ns = manifests.namespace(_step(per_run_namespace=True))
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels[manifests.RUN_LABEL] == "0123abcd45"


def test_owned_objects_carry_the_job_owner_reference() -> None:
    owner = manifests.owner_reference("Job", "batch/v1", "kfpg-iso-x", "uid-1")
    for obj in (manifests.network_policy(_step(), owner), manifests.inputs_configmap(_step(), "AA==", owner)):
        assert obj["metadata"]["ownerReferences"] == [owner]
    cm = manifests.inputs_configmap(_step(), "AA==")
    assert cm["immutable"] is True


@pytest.mark.parametrize(
    "image", ["registry.example/train:latest", "train", "train@sha256:abc", "train@sha512:" + "a" * 128]
)
def test_an_image_not_pinned_by_digest_is_refused(image: str) -> None:
    with pytest.raises(ConfigError, match="pinned by digest"):
        _step(image=image)


def test_bad_namespace_and_env_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="namespace"):
        _step(namespace="Bad_NS")
    with pytest.raises(ConfigError, match="environment variable"):
        _step(env={"BAD NAME": "x"})


def test_plan_packs_inputs_and_refuses_oversized_or_colliding_ones(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "data.csv").write_text("x\n")
    options = KubeOptions(namespace="ml", image=IMAGE, helper_image=HELPER)
    kstep, archive = plan(StepSpec(argv=("true",), inputs=(tmp_path / "a",)), options, run_id="r1")
    assert kstep.has_inputs and archive
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a").write_text("y")
    with pytest.raises(ConfigError, match="share a file name"):
        plan(StepSpec(argv=("true",), inputs=(tmp_path / "a", tmp_path / "b" / "a")), options)
    big = tmp_path / "big.bin"
    big.write_bytes(__import__("os").urandom(1_200_000))
    with pytest.raises(ConfigError, match="too large"):
        plan(StepSpec(argv=("true",), inputs=(big,)), options)


def test_launch_dry_run_prints_valid_manifests(cli, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    r = cli(
        "launch", "--image", IMAGE, "--namespace", "ml", "--timeout", "15m", "--input", "data.csv",
        "--dry-run", "--", "python", "train.py",
        env={"KFP_GATES_IMAGE": HELPER},
    )  # fmt: skip
    assert r.code == 0, r
    docs = list(yaml.safe_load_all(r.out))
    assert [d["kind"] for d in docs] == ["Job", "NetworkPolicy", "ConfigMap"]
    assert docs[0]["spec"]["activeDeadlineSeconds"] == 900
    for d in docs:
        kv.validate(d, VERSIONS[-1], strict=True)
        assert d["metadata"]["namespace"] == "ml"


def test_launch_refuses_a_tag(cli) -> None:
    r = cli("launch", "--image", "registry.example/train:v1", "--dry-run", "--", "true")
    assert r.code == 2
    assert "pinned by digest" in r.err
