"""enforce(): only pass/warn pass; a block names the gate and its top findings; a mismatched result blocks."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.enforcement import TOP, enforce, log_summary
from kfp_gates.components.common.errors import GateBlocked
from kfp_gates.components.common.gate import GateSettings, finalize
from kfp_gates.components.common.result import Finding, Subject, Tool, utcnow
from kfp_gates.components.common.severity import Severity

pytestmark = pytest.mark.unit


def _result(n: int = 1):
    findings = [Finding(id=f"X-{i}", severity=Severity.HIGH if i else Severity.CRITICAL, message=f"problem {i}")
                for i in range(n)]
    return finalize(gate="model_scan", subject=Subject(name="model.pkl", digest={"sha256": "ab" * 32}),
                    tool=Tool(name="t", version="1"), findings=findings, settings=GateSettings(), started_at=utcnow())


@pytest.mark.parametrize("verdict", ["fail", "", "PASS", "pass\n", "unknown"])
def test_anything_but_pass_or_warn_blocks(verdict) -> None:
    with pytest.raises(GateBlocked, match="model_scan"):
        enforce("model_scan", verdict)


def test_a_block_names_the_top_findings_most_severe_first(tmp_path) -> None:
    r = _result(8)
    path = tmp_path / "result.json"
    path.write_text(r.to_json())
    with pytest.raises(GateBlocked) as exc:
        enforce("model_scan", "fail", str(path))
    msg = exc.value.message
    assert "model.pkl" in msg and msg.index("X-0") < msg.index("X-1")
    assert sum(f"X-{i}:" in msg for i in range(8)) == TOP and "3 more" in msg


def test_a_verdict_that_is_not_its_results_decision_blocks(tmp_path) -> None:
    path = tmp_path / "result.json"
    path.write_text(_result(1).to_json())
    with pytest.raises(GateBlocked, match="not its result's decision"):
        enforce("model_scan", "pass", str(path))
    path.write_text("{truncated")
    with pytest.raises(GateBlocked, match="could not be read"):
        enforce("model_scan", "pass", str(path))


def test_pass_and_warn_pass() -> None:
    assert enforce("g", "pass") == "pass" and enforce("g", "warn") == "warn"


def test_log_summary_is_one_screen_with_ids_and_reports() -> None:
    text = log_summary(_result(2), {"html report": "/x/report.html", "markdown report": None})
    lines = text.splitlines()
    assert lines[0].startswith("kfp-gates: model_scan verdict fail for model.pkl sha256:")
    assert "1 high" in lines[0] and "1 critical" in lines[0]
    assert lines[1].split()[1] == "X-0:" and "  html report: /x/report.html" in lines
    assert not any("markdown report" in line for line in lines)
