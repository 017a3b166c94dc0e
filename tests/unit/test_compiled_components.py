"""components/compiled/*.yaml: generated from the Python definitions, loadable by kfp, never stale."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kfp import components

import kfp_gates.components as C

pytestmark = pytest.mark.unit

COMPILED = Path(__file__).resolve().parents[2] / "components" / "compiled"


def test_compiled_component_files_are_up_to_date() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KFP_GATES_")}
    args = [] if os.environ.get("KFP_GATES_UPDATE_GOLDEN") == "1" else ["--check"]
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "kfp_gates.sdk.tools.compile_components", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr + "\n(regenerate with KFP_GATES_UPDATE_GOLDEN=1)"


@pytest.mark.parametrize("name", sorted(C._COMPONENTS))
def test_each_compiled_file_loads_with_the_same_interface(name: str) -> None:
    loaded = components.load_component_from_file(str(COMPILED / f"{name}.yaml"))
    original = getattr(C, name).component_spec
    assert set(loaded.component_spec.inputs or {}) == set(original.inputs or {})
    assert set(loaded.component_spec.outputs or {}) == set(original.outputs or {})
    text = (COMPILED / f"{name}.yaml").read_text()
    assert "pip install" not in text  # no install at pod start
