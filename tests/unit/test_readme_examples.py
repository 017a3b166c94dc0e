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


def _blocks(lang: str) -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    out = []
    for m in re.finditer(rf"^( *)```{lang}\n(.*?)^ *```", text, re.S | re.M):
        out.append((text[: m.start()].count("\n") + 1, textwrap.dedent(m.group(2))))
    return out


def _kfp_gates_commands() -> list[tuple[int, list[str]]]:
    """Every `kfp-gates ...` command in the README's bash and yaml blocks, as argv words (continuations joined)."""
    import shlex

    cmds: list[tuple[int, list[str]]] = []
    for lang in ("bash", "yaml"):
        for line_no, block in _blocks(lang):
            joined = re.sub(r"\\\n\s*", " ", block)
            for n, line in enumerate(joined.splitlines()):
                line = re.sub(r"^\s*-?\s*(run:\s*)?", "", line)
                if not line.startswith("kfp-gates ") or " [" in line:
                    continue  # prose, or a usage synopsis ("[--flag X]"), not a command to run
                line = line.split(" # ")[0].split("  #")[0]
                line = re.split(r"\s(?:\||>|&&|;)\s", line)[0]
                words = shlex.split(line, comments=True)
                cmds.append((line_no + n, words[1:]))
    return cmds


def test_every_readme_command_and_flag_exists() -> None:
    """Each `kfp-gates` command line in the README parses with the real CLI parser (no unknown command or flag)."""
    import contextlib
    import io

    from kfp_gates.sdk.cli import _parse, build_parser

    commands = _kfp_gates_commands()
    assert len(commands) >= 20
    bad = []
    for line, argv in commands:
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                _parse(build_parser(), argv)
        except SystemExit as exc:
            if exc.code not in (0, None):
                bad.append(f"README.md:{line}: kfp-gates {' '.join(argv)}\n  {err.getvalue().strip().splitlines()[-1]}")
    assert not bad, "\n".join(bad)


def test_every_python_example_is_valid_python() -> None:
    blocks = _blocks("python")
    assert blocks
    for line, block in blocks:
        compile(block, f"README.md:{line}", "exec")
