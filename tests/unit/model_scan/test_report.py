"""The Markdown report escapes every value taken from the model (issue 17: the KFP UI renders Markdown itself)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan.report import md_text, render_markdown

from ._attack import SYSTEM_TRUE_P4

HOSTILE = "<img src=x onerror=alert(1)>[click](javascript:alert(2))`x`|*b*.pkl"


def _hostile_zip(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(HOSTILE, SYSTEM_TRUE_P4)
    path = tmp_path / "<b>model<i>.zip"
    path.write_bytes(buf.getvalue())
    return path


def _assert_inert(md: str) -> None:
    assert "<img" not in md and "<b>" not in md
    assert "](javascript" not in md and "[click]" not in md
    for line in md.splitlines():
        if line.startswith("| ") and "KFPG" in line:
            assert line.count(" | ") == 3, line  # no pipe from the data splits a cell


def test_markdown_report_escapes_file_and_member_names(tmp_path: Path) -> None:
    result = run_gate(_hostile_zip(tmp_path))
    assert result.decision.value == "fail"
    md = render_markdown(result)
    _assert_inert(md)
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in md  # still readable


def test_component_publishes_the_escaped_report(tmp_path: Path) -> None:
    from kfp_gates.components.common.publish import publish

    class _Metrics:
        def log_metric(self, name: str, value: float) -> None:
            pass

    result = run_gate(_hostile_zip(tmp_path))
    out = tmp_path / "report.md"
    publish(result, result_path=str(tmp_path / "result.json"), markdown_path=str(out),
            markdown_renderer=render_markdown, metrics=_Metrics())
    _assert_inert(out.read_text("utf-8"))


def test_cli_markdown_is_escaped(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    r = cli("scan-model", str(_hostile_zip(tmp_path)), "--format", "markdown", "-o", str(out))
    assert r.code == 1
    _assert_inert(out.read_text("utf-8"))


@pytest.mark.parametrize("value", ["a\nb", "<script>", "**bold**", "[x](y)", "a|b", "&amp;", "# h"])
def test_md_text_is_inert(value: str) -> None:
    text = md_text(value)
    assert "\n" not in text and "<" not in text and "|" not in text.replace("\\|", "")
    assert os.linesep not in text
