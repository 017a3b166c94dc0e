"""`make demo` (python -m kfp_gates.pipelines.demo): every step as expected, reports kept where it says."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_every_step_and_keeps_its_reports(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kfp_gates.pipelines.demo", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 unexpected verdict(s)" in proc.stdout
    reports = sorted((tmp_path / "out" / "reports").iterdir())
    assert len(reports) >= 10 and str(tmp_path / "out" / "reports") in proc.stdout
    for r in reports:
        assert json.loads((r / "result.json").read_text())["decision"] in ("pass", "warn", "fail")
        assert "<html" in (r / "report.html").read_text().lower()
    # findings name files that still exist after the demo (kept under --out, not a deleted temp dir)
    assert "/tmp/kfp-gates-demo-" not in proc.stdout
    # every heading comes before the step's own output (flushed), so piped output reads in order
    lines = proc.stdout.splitlines()
    first_heading = next(i for i, line in enumerate(lines) if line.startswith("== "))
    assert not any(line.startswith(("PASS ", "FAIL ", "WARN ")) for line in lines[:first_heading])
