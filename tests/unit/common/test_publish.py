"""publish(): the one way every gate component writes its result, reports and metrics."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.publish import publish, standard_metrics
from kfp_gates.components.common.result import AppliedWaiver, Finding, GateResult
from kfp_gates.components.common.severity import Decision

from .test_result import make_result

SEVERITIES = ("critical", "high", "medium", "low", "info")


class FakeMetrics:
    """Stands in for kfp.dsl.Metrics: records log_metric calls in order."""

    def __init__(self) -> None:
        self.logged: list[tuple[str, float]] = []

    def log_metric(self, metric: str, value: float) -> None:
        self.logged.append((metric, value))


def _paths(tmp_path):
    return {
        "result_path": str(tmp_path / "result"),
        "html_path": str(tmp_path / "html_report"),
        "markdown_path": str(tmp_path / "markdown_report"),
    }


def test_writes_result_reports_metrics_and_returns_verdict(tmp_path, capsys):
    r = make_result()
    sink = FakeMetrics()
    meta: dict = {}
    verdict = publish(r, **_paths(tmp_path), metrics=sink, extra_metrics={"files_scanned": 3}, result_metadata=meta)

    assert verdict == "fail"
    assert GateResult.from_json((tmp_path / "result").read_text()) == r
    html = (tmp_path / "html_report").read_text()
    assert "<title>kfp-gates: model scan</title>" in html and "KFPG-PICKLE-DANGEROUS" in html
    md = (tmp_path / "markdown_report").read_text()
    assert md.startswith("## ❌ model_scan: FAIL") and "PYSEC-2024-1" in md
    assert sink.logged == [
        ("findings_info", 0.0),
        ("findings_low", 1.0),
        ("findings_medium", 0.0),
        ("findings_high", 0.0),
        ("findings_critical", 1.0),
        ("blocked", 1.0),
        ("files_scanned", 3.0),
    ]
    assert all(isinstance(v, float) for _, v in sink.logged)
    assert meta == {"decision": "fail", "subject_sha256": r.subject.sha256}
    out = capsys.readouterr().out
    first, *rest = out.splitlines()
    assert first.startswith("kfp-gates: model_scan verdict fail for ") and f"sha256:{r.subject.sha256}" in first
    # the top findings, most severe first, with their ids, then where the reports went
    ids = [line.split()[1].rstrip(":") for line in rest if line.startswith("  ") and ":" in line.split()[1]]
    assert ids[0] == "KFPG-PICKLE-DANGEROUS" and "PYSEC-2024-1" in ids
    assert f"  result: {tmp_path / 'result'}" in rest


def test_pass_is_not_blocked_and_waived_findings_are_not_counted(tmp_path):
    waived = Finding(
        id="X-1",
        severity="critical",
        message="waived",
        waiver=AppliedWaiver(id="X-1", reason="accepted", owner="sec", expires="2030-01-01"),
    )
    r = make_result(decision=Decision.PASS, findings=(waived,))
    sink = FakeMetrics()
    assert publish(r, result_path=str(tmp_path / "result"), metrics=sink) == "pass"
    logged = dict(sink.logged)
    assert logged["blocked"] == 0.0
    assert logged["findings_critical"] == 0.0
    assert set(logged) == {*(f"findings_{s}" for s in SEVERITIES), "blocked"}


def test_warn_is_not_blocked(tmp_path):
    r = make_result(decision=Decision.WARN)
    assert standard_metrics(r)["blocked"] == 0.0
    assert publish(r, result_path=str(tmp_path / "result")) == "warn"


def test_only_the_result_is_required(tmp_path):
    r = make_result()
    publish(r, result_path=str(tmp_path / "result"))
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def test_title_and_gate_specific_renderers(tmp_path):
    r = make_result()
    publish(r, **_paths(tmp_path), title="kfp-gates image scan")
    assert "<title>kfp-gates image scan</title>" in (tmp_path / "html_report").read_text()

    publish(
        r,
        **_paths(tmp_path),
        html_renderer=lambda res: f"<p>{res.gate}</p>",
        markdown_renderer=lambda res: f"# {res.decision.value}",
    )
    assert (tmp_path / "html_report").read_text() == "<p>model_scan</p>"
    assert (tmp_path / "markdown_report").read_text() == "# fail"


def test_extra_metric_may_not_shadow_a_standard_one(tmp_path):
    with pytest.raises(ValueError, match="blocked"):
        publish(
            make_result(), result_path=str(tmp_path / "result"), metrics=FakeMetrics(), extra_metrics={"blocked": 0}
        )
    assert not (tmp_path / "result").exists(), "nothing is written when the call is invalid"


def test_kfp_metrics_artifact_is_accepted(tmp_path):
    from kfp import dsl

    m = dsl.Metrics(name="metrics", uri=str(tmp_path / "metrics"), metadata={})
    publish(make_result(), result_path=str(tmp_path / "result"), metrics=m, extra_metrics={"dependencies": 7})
    assert m.metadata["blocked"] == 1.0
    assert m.metadata["findings_critical"] == 1.0
    assert m.metadata["dependencies"] == 7.0
