"""Kubernetes backend: run a step as a locked-down Job that cannot reach the network.

Lifecycle of one run (:meth:`KubernetesBackend.run`):

1. optionally create a per-run Namespace labelled ``restricted`` (Pod Security);
2. create the Job **suspended**, then the deny-all NetworkPolicy and the inputs
   ConfigMap, both owned by the Job; only then un-suspend the Job, so its pod
   never exists without the NetworkPolicy;
3. watch the pod; stream the ``step`` container's log to the caller as it runs;
4. when the pod has finished, read the ``outbox`` container's log, verify the
   outputs' digest and unpack them (see :mod:`.staging`);
5. **always** delete what it created - on success, failure, deadline, API error
   and SIGTERM (a cancelled KFP run): the Job with foreground propagation (its pod
   goes first), then the NetworkPolicy and ConfigMap, then the Namespace. Should
   the launcher die first, owner references, ``ttlSecondsAfterFinished`` and the
   run labels let the garbage collector (or ``kubectl delete -l``) finish the job.

API errors: 403 raises :class:`RbacDenied` (exit 2) naming the verb and
resource the launcher's service account lacks; 409, 429 and 5xx are retried
with backoff; an unreachable API server raises InfrastructureError (exit 3).

The client is passed in (``kubernetes.client.ApiClient``), so tests can point
it at an in-process fake API server and operators at any kubeconfig.
"""

from __future__ import annotations

import base64
import logging
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from kfp_gates.components.common.errors import ConfigError, InfrastructureError, KfpGatesError

from . import manifests
from ._signals import StepCancelled, cancel_on_signals, signals_deferred
from .interface import IsolationBackend, StepOutcome, StepSpec
from .staging import decode_from_log, pack, unpack

log = logging.getLogger(__name__)
T = TypeVar("T")

CONFIGMAP_LIMIT = 1_000_000  # etcd stores objects up to ~1.5 MiB; keep a margin for metadata
IMAGE_ERRORS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                "CreateContainerConfigError", "CreateContainerError"}  # fmt: skip
RETRY_STATUS = {409, 429, 500, 502, 503, 504}
_ABSENT = object()


class RbacDenied(ConfigError):
    """The API server answered 403: the launcher's identity lacks one RBAC permission."""


@dataclass(frozen=True)
class KubeOptions:
    """Where and how big. ``per_run_namespace`` creates (and deletes) a namespace per run."""

    namespace: str = "kfp-gates-isolated"
    image: str = ""
    helper_image: str = ""
    cpu: str = "1"
    memory: str = "2Gi"
    ttl: int = 600
    allow_egress: tuple[str, ...] = ()
    per_run_namespace: bool = False
    grace: float = 30.0  # how long past the Job's deadline the launcher waits for the API to say so
    retries: int = 4
    backoff: float = 0.25  # 0.25, 0.5, 1, 2 s between attempts
    cleanup_retries: int = 2
    cleanup_timeout: float = 60.0


def _image_or_default(image: str) -> str:
    if image:
        return image
    from kfp_gates.components._image import component_image

    return component_image()


def plan(step: StepSpec, options: KubeOptions, run_id: str | None = None) -> tuple[manifests.KubeStep, str | None]:
    """The run's :class:`~.manifests.KubeStep` and inputs archive (base64), without touching a cluster.

    Raises ConfigError for a tag-only image, colliding input names or inputs too
    large for a ConfigMap.
    """
    o = options
    run_id = run_id or secrets.token_hex(5)
    names = [p.name for p in step.inputs]
    if len(set(names)) != len(names):
        raise ConfigError("two inputs share a file name; they would collide under /inputs")
    archive = base64.b64encode(pack(step.inputs, names=names)).decode() if step.inputs else None
    if archive is not None and len(archive) > CONFIGMAP_LIMIT:
        raise ConfigError(
            f"inputs are too large to hand to the pod in a ConfigMap ({len(archive)} bytes base64)",
            hint="keep launcher inputs under ~700 KiB compressed; mount larger data from a PVC the pipeline prepares",
        )
    return (
        manifests.KubeStep(
            run_id=run_id,
            namespace=f"kfpg-iso-{run_id}" if o.per_run_namespace else o.namespace,
            image=o.image,
            helper_image=_image_or_default(o.helper_image),
            argv=step.argv,
            env=dict(step.env),
            timeout=max(1, int(step.timeout)),
            ttl=o.ttl,
            cpu=o.cpu,
            memory=o.memory if step.limits.memory is None else str(step.limits.memory),
            allow_egress=o.allow_egress,
            has_inputs=archive is not None,
            per_run_namespace=o.per_run_namespace,
        ),
        archive,
    )


class KubernetesBackend(IsolationBackend):
    """Runs a step as a Job (see the module docstring). ``api_client`` is a ``kubernetes.client.ApiClient``."""

    name = "kubernetes"

    def __init__(
        self,
        api_client: Any,
        options: KubeOptions,
        *,
        log_sink: IO[bytes] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.net = client.NetworkingV1Api(api_client)
        self.options = options
        self.log_sink = log_sink
        self.sleep = sleep  # retry backoff
        self.pause = pause  # waiting for a pod to appear
        self.run_id = ""

    def plan(self, step: StepSpec, run_id: str | None = None) -> tuple[manifests.KubeStep, str | None]:
        return plan(step, self.options, run_id)

    # ----- API calls with error mapping and retries --------------------------
    def _error(self, exc: BaseException, verb: str, resource: str, namespace: str | None) -> KfpGatesError | None:
        """The typed error for a failed API call, or None when it is worth retrying (409, 429, 5xx, network)."""
        from kubernetes.client.exceptions import ApiException

        where = f"namespace {namespace}" if namespace else "cluster scope"
        if not isinstance(exc, ApiException):
            return None
        status = exc.status or 0
        if status == 403:
            return RbacDenied(
                f"forbidden: the launcher may not {verb} {resource} ({where})",
                where=f"{verb} {resource}",
                hint=f"grant verb {verb!r} on {resource!r} to the launcher's service account "
                "(deploy/isolation/rbac.yaml: Role kfp-gates-launcher)",
            )
        if status == 401:
            return ConfigError(
                "the Kubernetes API rejected the launcher's credentials (401)",
                hint="check the kubeconfig or the service-account token",
            )
        if status in RETRY_STATUS:
            return None
        if status == 404:
            return ConfigError(f"{verb} {resource}: not found ({where})", hint="does the namespace exist?")
        if status in (400, 422):
            return ConfigError(f"{verb} {resource}: the API server refused the request: {exc.reason}")
        return InfrastructureError(f"{verb} {resource}: Kubernetes API error {status} {exc.reason}")

    def _call(
        self,
        verb: str,
        resource: str,
        namespace: str | None,
        fn: Callable[..., T],
        *a: Any,
        _retries: int | None = None,
        **kw: Any,
    ) -> T:
        """``fn(*a, **kw)`` with 409/429/5xx/network errors retried with backoff and the rest typed."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        retries = self.options.retries if _retries is None else _retries
        for attempt in range(retries + 1):
            try:
                return fn(*a, **kw)
            except (ApiException, HTTPError, OSError) as exc:
                typed = self._error(exc, verb, resource, namespace)
                if typed is not None:
                    raise typed from None
                if attempt < retries:
                    log.info("%s %s: %s, retrying (%d)", verb, resource, _short(exc), attempt + 1)
                    self.sleep(self.options.backoff * (2**attempt))
                    continue
                raise InfrastructureError(
                    f"{verb} {resource}: {_short(exc)}; gave up after {attempt + 1} attempts",
                    hint="check the API server, the kubeconfig / in-cluster configuration and the launcher's network",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _delete(
        self, verb_resource: str, namespace: str | None, fn: Callable[..., Any], *a: Any, **kw: Any
    ) -> bool | None:
        """Delete: True when deleted, None when it did not exist (404), False (logged) when it failed."""
        from kubernetes.client.exceptions import ApiException

        def call() -> Any:
            try:
                return fn(*a, **kw)
            except ApiException as exc:
                if exc.status == 404:
                    return _ABSENT
                raise

        try:
            answer = self._call("delete", verb_resource, namespace, call, _retries=self.options.cleanup_retries)
        except KfpGatesError as exc:
            log.warning("cleanup: %s (the garbage collector removes it via owner references/TTL)", exc.message)
            return False
        return None if answer is _ABSENT else True

    def _create(
        self,
        created: dict[str, str],
        key: str,
        value: str,
        resource: str,
        namespace: str | None,
        fn: Callable[..., T],
        *a: Any,
    ) -> T:
        """Create an object and remember it for cleanup.

        A refusal (403, 404, 422: ConfigError) created nothing. Any other failure
        (5xx, timeout, lost answer, a signal) may have created it, so it is
        remembered too: deleting what does not exist is a harmless 404, while a
        suspended Job left behind would never reach its TTL.
        """
        try:
            result = self._call("create", resource, namespace, fn, *a)
        except ConfigError:
            raise
        except BaseException:
            created[key] = value
            raise
        created[key] = value
        return result

    # ----- the run -----------------------------------------------------------
    def run(self, step: StepSpec) -> StepOutcome:
        kstep, archive = self.plan(step)
        self.run_id = kstep.run_id
        start = time.monotonic()
        created: dict[str, str] = {}
        with cancel_on_signals():
            try:
                return self._run(step, kstep, archive, start, created)
            finally:
                with signals_deferred() as pending:
                    self._cleanup(kstep, created)
                if pending:  # a signal during cleanup: honour it now that nothing is left behind
                    raise StepCancelled(f"received {signal.Signals(pending[0]).name} while cleaning up")

    def _cleanup(self, k: manifests.KubeStep, created: dict[str, str]) -> None:
        """Delete what this run created: the Job and its pod first, the NetworkPolicy only once the pod is gone."""
        ns = k.namespace
        if "job" in created:
            self._delete_job_and_wait(k)
        if "networkpolicy" in created:
            self._delete("networkpolicies.networking.k8s.io", ns, self.net.delete_namespaced_network_policy, k.name, ns)
        if "configmap" in created:
            self._delete("configmaps", ns, self.core.delete_namespaced_config_map, created["configmap"], ns)
        if "namespace" in created:
            self._delete("namespaces", None, self.core.delete_namespace, ns)

    def _run(
        self,
        step: StepSpec,
        k: manifests.KubeStep,
        archive: str | None,
        start: float,
        created: dict[str, str],
    ) -> StepOutcome:
        ns, name = k.namespace, k.name
        if k.per_run_namespace:
            self._create(
                created, "namespace", ns, "namespaces", None, self.core.create_namespace, manifests.namespace(k)
            )
        job = self._create(
            created, "job", name, "jobs.batch", ns, self.batch.create_namespaced_job, ns, manifests.job(k)
        )
        owner = manifests.owner_reference("Job", "batch/v1", name, job.metadata.uid)
        net = self.net.create_namespaced_network_policy
        policy = manifests.network_policy(k, owner)
        self._create(created, "networkpolicy", name, "networkpolicies.networking.k8s.io", ns, net, ns, policy)
        if archive is not None:
            cm = manifests.inputs_configmap(k, archive, owner)
            create_cm = self.core.create_namespaced_config_map
            self._create(created, "configmap", cm["metadata"]["name"], "configmaps", ns, create_cm, ns, cm)
        self._call("patch", "jobs.batch", ns, self.batch.patch_namespaced_job, name, ns, {"spec": {"suspend": False}})

        deadline = start + k.timeout + self.options.grace
        pod = self._wait(k, deadline, until="step-started")
        if pod is not None and _step_state(pod) in ("running", "terminated"):
            self._stream_step_log(k, pod.metadata.name)
        if pod is not None and (pod.status.phase not in ("Succeeded", "Failed")):
            pod = self._wait(k, deadline, until="finished")
        timed_out = pod is None or self._deadline_exceeded(k)
        duration = time.monotonic() - start
        details: dict[str, Any] = {
            "namespace": ns,
            "job": name,
            "run_id": k.run_id,
            "image": k.image,
            "network": "deny-all NetworkPolicy" + (f" + {list(k.allow_egress)}" if k.allow_egress else ""),
            "service_account_token": "not mounted",
            "pod_security": "restricted",
        }
        if timed_out:
            return StepOutcome(
                backend=self.name, exit_code=None, signal=9, timed_out=True, duration=duration, details=details
            )
        assert pod is not None
        code, sig = _step_exit(pod)
        if code is None and sig is None:
            raise InfrastructureError(
                f"pod {pod.metadata.name} failed before the step ran (phase {pod.status.phase})",
                hint=f"kubectl -n {ns} describe pod {pod.metadata.name}; the inbox may have refused the inputs",
            )
        outcome = StepOutcome(backend=self.name, exit_code=code, signal=sig, duration=duration, details=details)
        if outcome.succeeded and step.output is not None:
            # Raw bytes: the client would otherwise try to deserialise the log text.
            resp = self._call(
                "get", "pods/log", ns, self.core.read_namespaced_pod_log, pod.metadata.name, ns,
                container="outbox", _preload_content=False,
            )  # fmt: skip
            text = resp.data.decode("utf-8", "replace")
            members = unpack(decode_from_log(text), step.output)
            details["outputs"] = len(members)
        return outcome

    def _wait(self, k: manifests.KubeStep, deadline: float, *, until: str) -> Any:
        """Watch the run's pod until the step started (or ended) / the pod finished; None at the deadline."""
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        failures = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            w = watch.Watch()
            seen = False
            stream = w.stream(
                self.core.list_namespaced_pod, k.namespace, label_selector=k.selector,
                timeout_seconds=max(1, min(int(remaining), 30)),
            )  # fmt: skip
            try:
                for event in stream:
                    pod = event["object"]
                    if event.get("type") == "ERROR" or not hasattr(pod, "status"):
                        break  # e.g. 410 Gone: start a new watch from the current state
                    seen = True
                    _raise_for_waiting(pod)
                    phase = pod.status.phase if pod.status else None
                    if phase in ("Succeeded", "Failed"):
                        return pod
                    if until == "step-started" and _step_state(pod) in ("running", "terminated"):
                        return pod
            except (ApiException, HTTPError, OSError) as exc:
                typed = self._error(exc, "watch", "pods", k.namespace)
                failures += 1
                if typed is not None:
                    raise typed from None
                if failures > self.options.retries:
                    raise InfrastructureError(f"watch pods: {_short(exc)}; gave up after {failures} attempts") from None
                self.sleep(self.options.backoff * (2 ** (failures - 1)))
                continue
            finally:
                w.stop()
            if not seen:
                if self._job_failed(k):
                    return None if self._deadline_exceeded(k) else self._last_pod(k)
                self.pause(min(1.0, max(0.0, deadline - time.monotonic())))  # no pod yet: do not spin

    def _stream_step_log(self, k: manifests.KubeStep, pod: str) -> None:
        """Copy the step's log to the sink as it is written. Best effort: a broken stream is logged,
        the outcome still comes from the pod's status."""
        from urllib3.exceptions import HTTPError

        sink = self.log_sink or sys.stdout.buffer
        resp = self._call(
            "get", "pods/log", k.namespace, self.core.read_namespaced_pod_log, pod, k.namespace,
            container="step", follow=True, _preload_content=False,
        )  # fmt: skip
        try:
            for chunk in resp.stream(4096):
                sink.write(chunk)
                sink.flush()
        except (HTTPError, OSError) as exc:
            log.warning("the step's log stream broke (%s); waiting for the pod's status", type(exc).__name__)
        finally:
            resp.release_conn()

    def _job_status(self, k: manifests.KubeStep) -> Any:
        return self._call(
            "get", "jobs.batch/status", k.namespace, self.batch.read_namespaced_job_status, k.name, k.namespace
        )

    def _job_failed(self, k: manifests.KubeStep) -> bool:
        conditions = self._job_status(k).status.conditions or []
        return any(c.type == "Failed" and c.status == "True" for c in conditions)

    def _deadline_exceeded(self, k: manifests.KubeStep) -> bool:
        conditions = self._job_status(k).status.conditions or []
        return any(c.type == "Failed" and c.reason == "DeadlineExceeded" for c in conditions)

    def _last_pod(self, k: manifests.KubeStep) -> Any:
        pods = self._call(
            "list", "pods", k.namespace, self.core.list_namespaced_pod, k.namespace, label_selector=k.selector
        )
        return pods.items[0] if pods.items else None

    def _delete_job_and_wait(self, k: manifests.KubeStep) -> None:
        from kubernetes import client

        body = client.V1DeleteOptions(propagation_policy="Foreground")
        if not self._delete(
            "jobs.batch", k.namespace, self.batch.delete_namespaced_job, k.name, k.namespace, body=body
        ):
            return
        # The NetworkPolicy must outlive the pod: wait until the pod is gone before it is deleted.
        end = time.monotonic() + self.options.cleanup_timeout
        while time.monotonic() < end:
            try:
                pods = self._call(
                    "list", "pods", k.namespace, self.core.list_namespaced_pod, k.namespace, label_selector=k.selector
                )
            except KfpGatesError:
                return
            if not pods.items:
                return
            self.sleep(0.5)
        log.warning("cleanup: pod of %s still terminating after %ss", k.name, self.options.cleanup_timeout)


# ----- helpers -----------------------------------------------------------------


def _short(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    if status:
        return f"HTTP {status} {getattr(exc, 'reason', '')}".rstrip()
    return f"API server unreachable ({type(exc).__name__})"


def _container_status(pod: Any, name: str) -> Any:
    status = pod.status
    if status is None:
        return None
    for cs in (status.init_container_statuses or []) + (status.container_statuses or []):
        if cs.name == name:
            return cs
    return None


def _step_state(pod: Any) -> str | None:
    cs = _container_status(pod, "step")
    if cs is None or cs.state is None:
        return None
    if cs.state.terminated is not None:
        return "terminated"
    if cs.state.running is not None:
        return "running"
    return "waiting"


def _step_exit(pod: Any) -> tuple[int | None, int | None]:
    cs = _container_status(pod, "step")
    term = cs.state.terminated if cs is not None and cs.state is not None else None
    if term is None:  # the pod failed before the step ran (e.g. the inbox refused the inputs)
        return None, None
    if term.signal:
        return None, int(term.signal)
    return int(term.exit_code), None


def _raise_for_waiting(pod: Any) -> None:
    for cs in (pod.status.init_container_statuses or []) + (pod.status.container_statuses or []) if pod.status else []:
        waiting = cs.state.waiting if cs.state is not None else None
        if waiting is not None and waiting.reason in IMAGE_ERRORS:
            raise InfrastructureError(
                f"container {cs.name} cannot start: {waiting.reason}: {waiting.message or ''}".rstrip(": "),
                hint="check the image digest and the cluster's pull access",
            )


def run_label_selector(run_id: str) -> str:
    """The label selector of every object of one run (``kubectl delete all,netpol,cm -l ...``)."""
    return f"{manifests.RUN_LABEL}={run_id}"
