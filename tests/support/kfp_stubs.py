"""Stand-ins for the KFP artifacts a component's ``python_func`` receives, to run its body directly.

Running the function body (rather than only compiling the component) is what
shows that it calls the engine, publishes the result and returns the verdict it
published. The stubs have exactly what KFP's artifact classes give a body:
``path``, ``uri``, ``name``, ``metadata`` and, for metrics, ``log_metric``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class StubArtifact:
    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.uri = "file://" + self.path
        self.name = Path(path).name
        self.metadata: dict[str, Any] = {}


class StubMetrics(StubArtifact):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.logged: dict[str, float] = {}

    def log_metric(self, metric: str, value: float) -> None:
        self.logged[metric] = value


REPORT_OUTPUTS = ("result", "html_report", "markdown_report", "metrics")


def gate_outputs(tmp_path: Path, *extra: str) -> dict[str, Any]:
    """Fresh output artifacts for every gate's common outputs (``result``, reports, ``metrics``) plus ``extra``."""
    out: dict[str, Any] = {}
    for name in (*REPORT_OUTPUTS, *extra):
        cls = StubMetrics if name == "metrics" else StubArtifact
        out[name] = cls(tmp_path / "outputs" / name)
    (tmp_path / "outputs").mkdir(parents=True, exist_ok=True)
    return out


def published_decision(outputs: dict[str, Any]) -> str:
    """The decision in the result artifact the body wrote."""
    return json.loads(Path(outputs["result"].path).read_text())["decision"]
