"""The Kubernetes objects of one isolated step, as plain dicts (validated, dumped, sent as-is).

One run owns: a Job (its pod runs ``inbox`` -> ``step`` as init containers,
then ``outbox``), a NetworkPolicy that denies all ingress and egress to exactly
that pod, a ConfigMap carrying the inputs archive when there are inputs, and
optionally its own Namespace labelled for the ``restricted`` Pod Security
Standard. Every container satisfies ``restricted``: non-root, no privilege
escalation, every capability dropped, RuntimeDefault seccomp, read-only root
filesystem (``/tmp`` is an ``emptyDir``); the pod mounts no service-account
token and gets no service-link environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.kfp_ir import is_digest_pinned

from .interface import SANDBOX_TMP

MANAGED_BY = "app.kubernetes.io/managed-by"
RUN_LABEL = "kfp-gates.dev/run-id"
GATE_LABEL = "kfp-gates.dev/gate"
INPUTS_DIR = "/inputs"
OUTPUTS_DIR = "/outputs"
ARCHIVE_KEY = "inputs.tar.gz"
STAGING_MODULE = "kfp_gates.components.isolation.staging"
PSS_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def require_digest(image: str, what: str = "--image") -> str:
    """``image`` if it is pinned by sha256 digest; a tag alone is refused (ConfigError)."""
    if not is_digest_pinned(image):
        raise ConfigError(
            f"image must be pinned by digest, got {image!r}",
            where=what,
            hint="use repo@sha256:<64 hex> (`crane digest IMAGE` or `docker buildx imagetools inspect`)",
        )
    return image


@dataclass(frozen=True)
class KubeStep:
    """Everything the manifests depend on. ``timeout`` and ``ttl`` are seconds."""

    run_id: str
    namespace: str
    image: str
    helper_image: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: int = 6 * 3600
    ttl: int = 600
    cpu: str = "1"
    memory: str = "2Gi"
    scratch: str = "1Gi"
    allow_egress: tuple[str, ...] = ()
    has_inputs: bool = False
    per_run_namespace: bool = False
    run_as: int = 65532

    def __post_init__(self) -> None:
        require_digest(self.image)
        require_digest(self.helper_image, "helper image (KFP_GATES_IMAGE)")
        if not _DNS1123.match(self.namespace) or len(self.namespace) > 63:
            raise ConfigError(f"invalid namespace name {self.namespace!r}", hint="lowercase DNS label")
        if not self.argv:
            raise ConfigError("no command given", hint="put the command after `--`")
        bad = [k for k in self.env if not _ENV_NAME.match(k)]
        if bad:
            raise ConfigError(f"invalid environment variable name {bad[0]!r}")
        if self.timeout <= 0:
            raise ConfigError("timeout must be positive")

    @property
    def name(self) -> str:
        return f"kfpg-iso-{self.run_id}"

    @property
    def labels(self) -> dict[str, str]:
        return {MANAGED_BY: "kfp-gates", GATE_LABEL: "isolation", RUN_LABEL: self.run_id}

    @property
    def selector(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"


def owner_reference(kind: str, api_version: str, name: str, uid: str) -> dict[str, Any]:
    """An owner reference so the garbage collector removes a dependent with its owner."""
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "blockOwnerDeletion": True}


def _meta(step: KubeStep, name: str, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": step.namespace, "labels": dict(step.labels)}
    if owner is not None:
        meta["ownerReferences"] = [dict(owner)]
    return meta


def namespace(step: KubeStep) -> dict[str, Any]:
    """A per-run namespace enforcing the restricted Pod Security Standard."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": step.namespace, "labels": {**step.labels, **PSS_LABELS}},
    }


def _port(spec: str) -> dict[str, Any]:
    port, _, proto = spec.partition("/")
    return {"protocol": proto or "TCP", "port": int(port)}


def egress_rule(rule: str) -> dict[str, Any]:
    """One NetworkPolicy egress rule for a policy's ``allow_egress`` entry (validated in policy.py)."""
    if rule == "dns":
        return {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    kind, _, rest = rule.partition(":")
    if kind == "cidr":
        cidr, _, port = rest.rpartition(":")  # the last ':' also works for IPv6 CIDRs
        return {"to": [{"ipBlock": {"cidr": cidr}}], "ports": [_port(port)]}
    if kind == "namespace":
        ns, _, port = rest.partition(":")
        return {
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}],
            "ports": [_port(port)],
        }
    raise ConfigError(f"unknown egress exception {rule!r}", where="gates.isolation.allow_egress")


def network_policy(step: KubeStep, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Deny all ingress and egress for exactly this run's pod; allow only what the policy names."""
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": {RUN_LABEL: step.run_id}},
        "policyTypes": ["Ingress", "Egress"],
    }
    if step.allow_egress:
        spec["egress"] = [egress_rule(r) for r in step.allow_egress]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(step, step.name, owner),
        "spec": spec,
    }


def inputs_configmap(step: KubeStep, archive_b64: str, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inputs archive (base64 gzip tar), immutable, for the ``inbox`` init container."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(step, f"{step.name}-inputs", owner),
        "immutable": True,
        "binaryData": {ARCHIVE_KEY: archive_b64},
    }


def container_security_context() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _resources(cpu: str, memory: str) -> dict[str, Any]:
    amounts = {"cpu": cpu, "memory": memory}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def _container(
    name: str,
    image: str,
    command: Sequence[str],
    mounts: list[dict[str, Any]],
    resources: dict[str, Any],
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    base_env = {"HOME": SANDBOX_TMP, "TMPDIR": SANDBOX_TMP}
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(command),
        "env": [{"name": k, "value": v} for k, v in {**base_env, **(env or {})}.items()],
        "resources": resources,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }


def job(step: KubeStep) -> dict[str, Any]:
    """The Job, created suspended so the NetworkPolicy exists before its pod does."""
    tmp = {"name": "scratch", "mountPath": SANDBOX_TMP}
    helper_resources = _resources("100m", "128Mi")
    init: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = [
        {"name": "scratch", "emptyDir": {"sizeLimit": step.scratch}},
        {"name": "inputs", "emptyDir": {}},
        {"name": "outputs", "emptyDir": {}},
    ]
    if step.has_inputs:
        volumes.append({"name": "inbox", "configMap": {"name": f"{step.name}-inputs", "defaultMode": 0o444}})
        init.append(
            _container(
                "inbox",
                step.helper_image,
                ["python", "-m", STAGING_MODULE, "unpack", f"/inbox/{ARCHIVE_KEY}", INPUTS_DIR],
                [tmp, {"name": "inbox", "mountPath": "/inbox", "readOnly": True},
                 {"name": "inputs", "mountPath": INPUTS_DIR}],
                helper_resources,
            )
        )  # fmt: skip
    step_env = {"KFP_GATES_INPUTS": INPUTS_DIR, "KFP_GATES_OUTPUTS": OUTPUTS_DIR, **step.env}
    init.append(
        _container(
            "step",
            step.image,
            step.argv,
            [tmp, {"name": "inputs", "mountPath": INPUTS_DIR, "readOnly": True},
             {"name": "outputs", "mountPath": OUTPUTS_DIR}],
            _resources(step.cpu, step.memory),
            step_env,
        )
    )  # fmt: skip
    outbox = _container(
        "outbox",
        step.helper_image,
        ["python", "-m", STAGING_MODULE, "pack", OUTPUTS_DIR],
        [tmp, {"name": "outputs", "mountPath": OUTPUTS_DIR, "readOnly": True}],
        helper_resources,
    )
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": step.run_as,
            "runAsGroup": step.run_as,
            "fsGroup": step.run_as,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": init,
        "containers": [outbox],
        "volumes": volumes,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(step, step.name),
        "spec": {
            "suspend": True,
            "backoffLimit": 0,
            "activeDeadlineSeconds": int(step.timeout),
            "ttlSecondsAfterFinished": int(step.ttl),
            "template": {"metadata": {"labels": dict(step.labels)}, "spec": pod_spec},
        },
    }


def all_manifests(step: KubeStep, archive_b64: str | None = None) -> list[dict[str, Any]]:
    """Every object of a run, in creation order (for ``--dry-run`` and validation).

    Owner references need the Job's uid, which exists only after creation; the
    dry-run shows them without it.
    """
    docs: list[dict[str, Any]] = []
    if step.per_run_namespace:
        docs.append(namespace(step))
    docs.append(job(step))
    docs.append(network_policy(step))
    if step.has_inputs:
        docs.append(inputs_configmap(step, archive_b64 or ""))
    return docs
