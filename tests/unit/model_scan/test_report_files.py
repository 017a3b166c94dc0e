"""A model-scan report lists the files it scanned (path, format, size), also when the verdict is pass."""

from __future__ import annotations

import pickle
from pathlib import Path

from kfp_gates.components.common.publish import publish
from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan.report import render_html, render_markdown


def _model_dir(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    root.mkdir()
    (root / "weights.pkl").write_bytes(pickle.dumps({"w": [0.5] * 700}, protocol=4))
    (root / "<b>notes.pkl").write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    return root


def test_passing_markdown_report_lists_every_scanned_file(tmp_path: Path) -> None:
    result = run_gate(_model_dir(tmp_path))
    assert result.decision.value == "pass"
    md = render_markdown(result)
    assert "### Scanned files (2)" in md
    weights = next(line for line in md.splitlines() if "weights.pkl" in line)
    size = (tmp_path / "model" / "weights.pkl").stat().st_size
    assert "| pickle |" in weights and f"{size:,} bytes" in weights
    assert "<b>" not in md and "&lt;b&gt;notes.pkl" in md


def test_passing_html_report_lists_every_scanned_file(tmp_path: Path) -> None:
    result = run_gate(_model_dir(tmp_path))
    page = render_html(result)
    assert "<h3>Scanned files (2)</h3>" in page
    assert "weights.pkl</code></td><td>pickle</td>" in page
    assert "<b>notes" not in page and "&lt;b&gt;notes.pkl" in page
    assert page.rstrip().endswith("</body></html>")


def test_the_component_publishes_the_file_listing(tmp_path: Path) -> None:
    """publish() with the model scan's renderers, as components/model_scan/component.py calls it."""
    result = run_gate(_model_dir(tmp_path))
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    publish(result, result_path=tmp_path / "r.json", html_path=html, markdown_path=md,
            html_renderer=render_html, markdown_renderer=render_markdown)
    assert "weights.pkl" in html.read_text() and "weights.pkl" in md.read_text()
    component = (Path(__file__).resolve().parents[3] / "components" / "model_scan" / "component.py").read_text()
    assert "html_renderer=render_html" in component


def test_cli_html_report_lists_the_scanned_file(cli, tmp_path: Path) -> None:
    (tmp_path / "m.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=4))
    r = cli("scan-model", "m.pkl", "--format", "html", "--output", "r.html")
    assert r.code == 0, r.err
    page = (tmp_path / "r.html").read_text()
    assert "Scanned files (1)" in page and "m.pkl</code></td><td>pickle</td>" in page
