"""``launch_isolated``: compiles digest-pinned and install-free, and its body runs the step and publishes.

The body is run directly (``python_func``) with stand-in artifacts; here with the
policy's backend in the fast-track tier (``isolation: none``), so the unit tier
needs no namespaces. The namespaces and Kubernetes branches run in
tests/integration/isolation/test_component_run.py.
"""

# No `from __future__ import annotations`: this file defines a KFP pipeline.
import json
from pathlib import Path

from kfp import compiler, dsl

from kfp_gates.components._image import IMAGE
from kfp_gates.components.common.kfp_ir import load_pipeline
from tests.support.kfp_stubs import StubArtifact, gate_outputs, published_decision

FAST_TRACK_NONE = "tier: fast-track\ngates:\n  isolation:\n    isolation: none\n"


def test_launch_isolated_compiles_pinned_and_without_runtime_installs(tmp_path: Path) -> None:
    from kfp_gates.components import launch_isolated

    @dsl.pipeline(name="iso")
    def pipe(secret_free: str = "x"):
        launch_isolated(command=["python", "train.py"], image="registry.example/t@sha256:" + "a" * 64)

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipe, str(out))
    pipeline = load_pipeline(out)
    (executor,) = [e for e in pipeline.executors.values() if "launch-isolated" in e.label]
    assert executor.image == IMAGE  # the configured image; a real digest is checked in test_no_stale_verdicts
    assert executor.runtime_pip_installs() == []
    text = out.read_text()
    for name in ("output_data", "result", "html_report", "markdown_report", "metrics", "input_data"):
        assert name in text
    assert "VAULT" not in text and "TOKEN" not in text


def _run(tmp_path: Path, command: list, **kw):
    from kfp_gates.components import launch_isolated

    outputs = gate_outputs(tmp_path, "output_data")
    data = tmp_path / "in"
    data.mkdir(exist_ok=True)
    (data / "x.txt").write_text("input\n")
    verdict = launch_isolated.python_func(
        command=command, input_data=StubArtifact(data), backend="policy", policy=FAST_TRACK_NONE, **outputs, **kw
    )
    return verdict, outputs


def test_body_runs_the_step_with_inputs_and_outputs_and_publishes_its_verdict(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEED", "42")
    monkeypatch.setenv("UNNAMED_SECRET", "must-not-reach-the-step")
    script = (
        'cat "$KFP_GATES_INPUTS/x.txt" > "$KFP_GATES_OUTPUTS/copy.txt"; '
        'echo "$SEED$UNNAMED_SECRET" >> "$KFP_GATES_OUTPUTS/copy.txt"'
    )
    verdict, out = _run(tmp_path, ["sh", "-c", script], env_names="SEED", timeout="30s")
    assert (Path(out["output_data"].path) / "copy.txt").read_text() == "input\n42\n"  # only named variables pass
    assert verdict == published_decision(out) == "warn"  # unisolated: a high finding, fast-track warns
    result = json.loads(Path(out["result"].path).read_text())
    assert result["metadata"]["backend"] == "none" and result["metadata"]["step"]["timeout_seconds"] == 30
    assert out["metrics"].logged["exit_status"] == 0 and out["metrics"].logged["isolated"] == 0
    assert "KFPG-ISO-UNISOLATED" in Path(out["markdown_report"].path).read_text()


def test_body_returns_fail_for_a_failing_step(tmp_path: Path) -> None:
    verdict, out = _run(tmp_path, ["sh", "-c", "exit 7"])
    assert verdict == published_decision(out) == "fail"
    assert out["metrics"].logged["exit_status"] == 7 and out["metrics"].logged["blocked"] == 1.0
