"""``launch_isolated`` in a real kfp.local run, with the local namespaces backend."""

# No `from __future__ import annotations`: this file defines a KFP component.

import json
from pathlib import Path

from kfp import dsl


def test_launch_isolated_runs_a_step_isolated_and_publishes_its_outputs(kfp_local: Path) -> None:
    from kfp_gates.components import enforce_verdict, launch_isolated

    script = (
        'cat "$KFP_GATES_INPUTS" > "$KFP_GATES_OUTPUTS/copy.txt"; '
        'if (exec 3<>/dev/tcp/1.1.1.1/53) 2>/dev/null; then echo net >> "$KFP_GATES_OUTPUTS/copy.txt"; fi; '
        'echo "token=${VAULT_TOKEN:-absent}" >> "$KFP_GATES_OUTPUTS/copy.txt"'
    )

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def make_data(data: dsl.Output[dsl.Artifact]) -> None:
        with open(data.path, "w") as fh:
            fh.write("rows\n")

    @dsl.pipeline(name="isolated-step")
    def pipe() -> dsl.Artifact:
        d = make_data()
        step = launch_isolated(command=["bash", "-c", script], input_data=d.outputs["data"], backend="namespaces")
        enforce_verdict(gate="isolation", verdict=step.outputs["Output"])
        return step.outputs["output_data"]

    import os

    os.environ["VAULT_TOKEN"] = "hvs.neverinsidethesandbox0123456789"
    try:
        run = pipe()
    finally:
        del os.environ["VAULT_TOKEN"]
    out = Path(run.output.path)
    text = (out / "copy.txt").read_text()
    assert text.splitlines() == ["rows", "token=absent"]
    results = list(kfp_local.rglob("result"))
    assert results, "the result artifact was published"
    result = json.loads(results[0].read_text())
    assert result["gate"] == "isolation" and result["decision"] == "pass"
    assert result["metadata"]["isolated"] is True
