"""The README's pipeline examples compile (a user copies them first)."""

import re
import runpy
import textwrap
from pathlib import Path

import pytest
from kfp import compiler

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [textwrap.dedent(m.group(1)) for m in re.finditer(r"^ *```python\n(.*?)^ *```", text, re.S | re.M)]


def test_the_import_a_component_example_compiles(tmp_path) -> None:
    [block] = [b for b in _python_blocks() if "def train_gated" in b]
    source = tmp_path / "readme_example.py"  # KFP reads component source from a file
    source.write_text(block)
    namespace = runpy.run_path(str(source))
    out = tmp_path / "train_gated.yaml"
    compiler.Compiler().compile(namespace["train_gated"], str(out))
    text = out.read_text()
    assert "comp-enforce-verdict" in text and "comp-scan-model" in text
