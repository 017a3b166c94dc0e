"""Shared fixtures: a real OpenBao dev server, kfp.local runs, tier markers, CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.openbao import OpenBaoServer

ROOT = Path(__file__).resolve().parent.parent
TIER_DIRS = {"unit": "unit", "integration": "integration", "e2e": "e2e", "cluster": "cluster"}

# Third-party telemetry off for every test process and the subprocesses it starts.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier from its folder; cluster tests need KUBECONFIG."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in TIER_DIRS:
            item.add_marker(getattr(pytest.mark, TIER_DIRS[parts[0]]))
        if item.get_closest_marker("cluster") and not os.environ.get("KUBECONFIG"):
            item.add_marker(pytest.mark.skip(reason="cluster tier: set KUBECONFIG to a real cluster to run"))


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    """One real OpenBao dev server for the session (do not stop or seal it; use ``openbao_factory``)."""
    server = OpenBaoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openbao_factory() -> Iterator:
    """Start private OpenBao servers a test may stop or seal; all are stopped afterwards."""
    started: list[OpenBaoServer] = []

    def start() -> OpenBaoServer:
        s = OpenBaoServer().start()
        started.append(s)
        return s

    try:
        yield start
    finally:
        for s in started:
            s.stop()


@pytest.fixture
def kfp_local(tmp_path: Path) -> Iterator[Path]:
    """kfp.local with SubprocessRunner(use_venv=False) and a temporary pipeline root.

    Components run in this interpreter's environment, where kfp-gates is
    installed, exactly as they would in the kfp-gates image.
    """
    from kfp import local

    root = tmp_path / "pipeline-root"
    root.mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # kfp.local writes a few files relative to the working directory
    try:
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
        yield root
    finally:
        os.chdir(cwd)


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-500:]!r}, err={self.err[-500:]!r})"


@pytest.fixture
def cli(tmp_path: Path):
    """Run the real ``kfp-gates`` console script in a subprocess and capture its output."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300) -> CliResult:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("KFP_GATES_")}
        full_env.update(env or {})
        exe = Path(sys.executable).with_name("kfp-gates")
        proc = subprocess.run(
            [str(exe), *args], capture_output=True, text=True, env=full_env, cwd=cwd or tmp_path, timeout=timeout
        )
        return CliResult(proc)

    return run
