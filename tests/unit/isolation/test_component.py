"""``launch_isolated`` compiles to a digest-pinned, install-free component with the declared interface."""

# No `from __future__ import annotations`: this file defines a KFP pipeline.
from pathlib import Path

from kfp import compiler, dsl

from kfp_gates.components.common.kfp_ir import is_digest_pinned, load_pipeline


def test_launch_isolated_compiles_pinned_and_without_runtime_installs(tmp_path: Path) -> None:
    from kfp_gates.components import launch_isolated

    @dsl.pipeline(name="iso")
    def pipe(secret_free: str = "x"):
        launch_isolated(command=["python", "train.py"], image="registry.example/t@sha256:" + "a" * 64)

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipe, str(out))
    pipeline = load_pipeline(out)
    (executor,) = [e for e in pipeline.executors.values() if "launch-isolated" in e.label]
    assert executor.image and is_digest_pinned(executor.image)
    assert executor.runtime_pip_installs() == []
    code = executor.embedded_code or ""
    assert "from kfp_gates.components.isolation.gate import" in code
    text = out.read_text()
    for name in ("output_data", "result", "html_report", "markdown_report", "metrics", "input_data"):
        assert name in text
    assert "VAULT" not in text and "TOKEN" not in text
