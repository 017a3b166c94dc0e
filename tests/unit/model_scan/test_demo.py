"""The demo's model-scan verdicts agree with what the real loader does with each file it generates.

The ground truth does not come from the demo's own labels: every file a demo
step writes is loaded with ``joblib.load`` (which also loads plain pickles) in a
fresh interpreter with an audit hook. A file whose loading raises an event that
runs commands, spawns processes, opens sockets, loads native code or changes
files is dangerous, and must fail the gate; one that loads without any must
pass. The hook raises on those events, so a payload is stopped before it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.pipelines.demo import SAMPLES
from kfp_gates.pipelines.demo_steps import model_scan

LOADER = r"""
import json, sys
import joblib

DANGEROUS = {
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "subprocess.Popen", "pty.spawn", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
    "ctypes.dlopen", "ctypes.dlsym", "os.remove", "os.rmdir", "os.rename", "shutil.rmtree", "os.chmod",
    "os.putenv", "webbrowser.open", "urllib.Request",
}
seen = []

def hook(event, args):
    written = event == "open" and isinstance(args[1], str) and any(c in args[1] for c in "wax+")
    if event in DANGEROUS or written:
        seen.append(event)
        raise RuntimeError("blocked by the test's audit hook: " + event)

sys.addaudithook(hook)
try:
    joblib.load(sys.argv[1])
    error = None
except BaseException as exc:  # the hook's RuntimeError, or a loader error
    error = type(exc).__name__
sys.stdout.write(json.dumps({"events": seen, "error": error}))
"""


def _load_under_audit(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)], capture_output=True, text=True, timeout=120, cwd=path.parent
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("step", model_scan.STEPS, ids=lambda s: s.title)
def test_demo_verdict_matches_what_the_real_loader_does(step, tmp_path: Path) -> None:
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    result = step.run(policy, tmp_path)
    (written,) = [p for p in (tmp_path / "model_scan").iterdir() if p.is_file()]
    truth = _load_under_audit(written)
    dangerous = bool(truth["events"])
    if not dangerous:
        assert truth["error"] is None, truth  # a benign sample must really load, or the comparison means nothing
    assert result.decision.value == ("fail" if dangerous else "pass"), (truth, result.findings)


def test_the_demo_covers_both_sides() -> None:
    """One sample the loader runs code for, one it loads cleanly: else the test above could be one-sided."""
    import tempfile

    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    sides = set()
    for step in model_scan.STEPS:
        with tempfile.TemporaryDirectory() as tmp:
            step.run(policy, Path(tmp))
            (written,) = [p for p in (Path(tmp) / "model_scan").iterdir() if p.is_file()]
            sides.add(bool(_load_under_audit(written)["events"]))
    assert sides == {True, False}
