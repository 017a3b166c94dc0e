"""An in-process fake of the few Kubernetes API endpoints the isolation launcher uses.

It speaks real HTTP on loopback, so the launcher runs with the real
``kubernetes`` client (serialisation, ``Watch``, log streaming, ApiException)
pointed at it. A :class:`Scenario` says how the pod behaves (exit code, log,
outputs, hang, image error) and which calls fail first (403, 409, 5xx). Every
request is recorded, bodies included, so tests can check order and content.

This is the one accepted fake of the project (no kube-apiserver can run here).
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from kfp_gates.components.isolation import staging


@dataclass
class Scenario:
    step_exit: int = 0
    step_log: bytes = b"hello from the step\n"
    step_runtime: float = 0.2
    hang: bool = False  # the step never ends on its own
    outputs: dict[str, bytes] = field(default_factory=dict)  # what the step "wrote" to /outputs
    image_error: str | None = None
    tamper_outbox: bool = False
    # (METHOD, resource) -> statuses returned before the call succeeds, e.g. {("POST", "jobs"): [503, 503]}
    errors: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    inbox_fails: bool = False
    slow_delete: float = 0.0  # seconds each DELETE takes (a signal can arrive meanwhile)


@dataclass
class Recorded:
    method: str
    resource: str
    path: str
    query: dict[str, list[str]]
    body: Any


_ROUTES = [
    ("namespaces", re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")),
    ("jobs/status", re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs/(?P<name>[^/]+)/status$")),
    ("jobs", re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs(?:/(?P<name>[^/]+))?$")),
    (
        "networkpolicies",
        re.compile(r"^/apis/networking.k8s.io/v1/namespaces/(?P<ns>[^/]+)/networkpolicies(?:/(?P<name>[^/]+))?$"),
    ),
    ("configmaps", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/configmaps(?:/(?P<name>[^/]+))?$")),
    ("pods/log", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/log$")),
    ("pods", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods$")),
]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class FakeCluster:
    """State of the fake: objects by (resource, namespace, name), the job clock, the recorded requests."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.started: float | None = None  # when the Job was un-suspended
        self.pod_deleted = threading.Event()
        self.rv = 0

    # ----- pod simulation --------------------------------------------------
    def job(self) -> dict[str, Any] | None:
        return next((o for (r, _, _), o in self.objects.items() if r == "jobs"), None)

    def pod(self) -> dict[str, Any] | None:
        job = self.job()
        if job is None or self.started is None or self.pod_deleted.is_set():
            return None
        s = self.scenario
        t = time.monotonic() - self.started
        deadline = job["spec"].get("activeDeadlineSeconds", 1e9)
        name = job["metadata"]["name"] + "-abcde"
        labels = dict(job["spec"]["template"]["metadata"]["labels"])
        labels["job-name"] = job["metadata"]["name"]
        image = job["spec"]["template"]["spec"]["initContainers"][-1]["image"]

        def cs(cname: str, state: dict[str, Any]) -> dict[str, Any]:
            return {"name": cname, "image": image, "imageID": "", "ready": False, "restartCount": 0, "state": state}

        phase = "Pending"
        step: dict[str, Any] = {"waiting": {"reason": "PodInitializing"}}
        outbox: dict[str, Any] = {"waiting": {"reason": "PodInitializing"}}
        if s.image_error:
            step = {"waiting": {"reason": s.image_error, "message": "failed to pull"}}
        elif s.inbox_fails and t > 0.05:
            phase = "Failed"
        elif t > 0.05:
            phase = "Running"
            step = {"running": {"startedAt": _now()}}
            if s.hang and t > deadline:
                phase = "Failed"
                step = {"terminated": {"exitCode": 137, "reason": "Error"}}
                job.setdefault("status", {})["conditions"] = [
                    {"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}
                ]
            elif not s.hang and t > 0.05 + s.step_runtime:
                step = {"terminated": {"exitCode": s.step_exit, "reason": "Completed" if s.step_exit == 0 else "Error"}}
                if s.step_exit == 0:
                    phase = "Succeeded"
                    outbox = {"terminated": {"exitCode": 0, "reason": "Completed"}}
                else:
                    phase = "Failed"
                    job.setdefault("status", {})["conditions"] = [
                        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
                    ]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": job["metadata"]["namespace"], "labels": labels, "uid": "pod-uid"},
            "status": {
                "phase": phase,
                "initContainerStatuses": [cs("step", step)],
                "containerStatuses": [cs("outbox", outbox)],
            },
        }

    def step_state(self) -> str:
        pod = self.pod()
        if pod is None:
            return "gone"
        state = pod["status"]["initContainerStatuses"][0]["state"]
        return next(iter(state))

    def outbox_log(self) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for name, data in sorted(self.scenario.outputs.items()):
                p = Path(tmp) / name
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
            paths = sorted(Path(tmp).iterdir())
            lines = list(staging.encode_for_log(staging.pack(paths)))
        if self.scenario.tamper_outbox and len(lines) > 2:
            lines[1] = "A" * len(lines[1])
        return "\n".join(lines) + "\n"

    def created(self, resource: str) -> list[dict[str, Any]]:
        return [o for (r, _, _), o in self.objects.items() if r == resource]

    def calls(self, method: str | None = None, resource: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and (resource in (None, r.resource))]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so streams can be chunked, as a real API server's are (urllib3 reads a
    # non-chunked body to EOF before yielding anything); one request per connection.
    protocol_version = "HTTP/1.1"
    cluster: FakeCluster

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *a: Any) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _route(self) -> tuple[str, dict[str, str], dict[str, list[str]]]:
        url = urlparse(self.path)
        for resource, rx in _ROUTES:
            m = rx.match(url.path)
            if m:
                return resource, {k: v for k, v in m.groupdict().items() if v}, parse_qs(url.query)
        return "", {}, {}

    def _handle(self, method: str) -> None:
        c = self.cluster
        resource, params, query = self._route()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with c.lock:
            c.requests.append(Recorded(method, resource, self.path, query, body))
            queue = c.scenario.errors.get((method, resource))
            injected = queue.pop(0) if queue else None
        if not resource:
            return self._send(404, _status(404, "NotFound", f"no route {self.path}"))
        if injected:
            reasons = {403: "Forbidden", 409: "Conflict", 500: "InternalError", 503: "ServiceUnavailable"}
            return self._send(injected, _status(injected, reasons.get(injected, "Error"), "injected by the test"))
        getattr(self, f"_{method.lower()}")(resource, params, query, body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # ----- verbs -------------------------------------------------------------
    def _post(self, resource: str, params: dict[str, str], query: Any, body: dict[str, Any]) -> None:
        c = self.cluster
        ns = params.get("ns", "")
        name = body["metadata"]["name"]
        key = (resource, ns, name)
        with c.lock:
            if key in c.objects:
                return self._send(409, _status(409, "AlreadyExists", f"{resource} {name} already exists"))
            obj = json.loads(json.dumps(body))
            c.rv += 1
            obj["metadata"].update({"uid": str(uuid.uuid4()), "resourceVersion": str(c.rv)})
            c.objects[key] = obj
        self._send(201, obj)

    def _patch(self, resource: str, params: dict[str, str], query: Any, body: dict[str, Any]) -> None:
        c = self.cluster
        key = (resource, params["ns"], params["name"])
        with c.lock:
            obj = c.objects.get(key)
            if obj is None:
                return self._send(404, _status(404, "NotFound", "not found"))
            if resource == "jobs" and body.get("spec", {}).get("suspend") is False:
                obj["spec"]["suspend"] = False
                c.started = time.monotonic()
        self._send(200, obj)

    def _delete(self, resource: str, params: dict[str, str], query: Any, body: Any) -> None:
        c = self.cluster
        time.sleep(c.scenario.slow_delete)
        key = (resource, params.get("ns", ""), params["name"])
        with c.lock:
            obj = c.objects.pop(key, None)
            if resource == "jobs" and obj is not None:
                c.pod_deleted.set()
        if obj is None:
            return self._send(404, _status(404, "NotFound", "not found"))
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def _get(self, resource: str, params: dict[str, str], query: dict[str, list[str]], body: Any) -> None:
        c = self.cluster
        if resource == "jobs/status":
            job = c.objects.get(("jobs", params["ns"], params["name"]))
            if job is None:
                return self._send(404, _status(404, "NotFound", "not found"))
            c.pod()  # advance the clock-driven state (sets Job conditions)
            return self._send(200, {**job, "status": job.get("status", {})})
        if resource == "pods" and query.get("watch", [""])[0].lower() == "true":
            return self._watch(float(query.get("timeoutSeconds", ["5"])[0]))
        if resource == "pods":
            pod = c.pod()
            return self._send(
                200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [pod] if pod else []}
            )
        if resource == "pods/log":
            container = query.get("container", [""])[0]
            if container == "outbox":
                text = c.outbox_log().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(text)
                self.close_connection = True
                return None
            return self._follow_step_log()
        return self._send(404, _status(404, "NotFound", "not found"))

    def _watch(self, timeout: float) -> None:
        c = self.cluster
        self._start_stream("application/json")
        end = time.monotonic() + timeout
        last: str | None = None
        try:
            while time.monotonic() < end:
                pod = c.pod()
                if pod is None and last is not None:
                    break
                if pod is not None:
                    snapshot = json.dumps(pod["status"], sort_keys=True)
                    if snapshot != last:
                        kind = "ADDED" if last is None else "MODIFIED"
                        last = snapshot
                        self._chunk(json.dumps({"type": kind, "object": pod}).encode() + b"\n")
                time.sleep(0.02)
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _follow_step_log(self) -> None:
        c = self.cluster
        self._start_stream("text/plain")
        try:
            self._chunk(c.scenario.step_log)
            while c.step_state() == "running":
                time.sleep(0.02)
            self._end_stream()
        except (BrokenPipeError, ConnectionResetError):
            return


class FakeApiServer:
    """Start with ``with FakeApiServer(scenario) as api:``; ``api.client()`` is a real ApiClient for it."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.cluster = FakeCluster(scenario or Scenario())
        handler = type("Handler", (_Handler,), {"cluster": self.cluster})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def client(self) -> Any:
        from kubernetes import client

        cfg = client.Configuration()
        cfg.host = self.url
        cfg.retries = False  # the launcher's own retry logic is under test, not urllib3's
        return client.ApiClient(cfg)

    def __enter__(self) -> FakeApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
