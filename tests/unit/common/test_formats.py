"""Formatters: SARIF structure, Markdown/HTML escaping, table."""

from __future__ import annotations

import json

from kfp_gates.components.common.formats import (
    FORMATS,
    render,
    render_html,
    render_markdown,
    render_sarif,
    render_table,
)
from kfp_gates.components.common.result import AppliedWaiver, Finding, Location

from .test_result import make_result


def test_every_format_renders():
    r = make_result()
    for fmt in FORMATS:
        assert render([r], fmt).strip()


def test_sarif_has_rules_levels_locations_and_suppressions():
    waived = Finding(
        id="PYSEC-9",
        severity="high",
        message="waived one",
        location=Location(path="requirements.txt", line=3),
        waiver=AppliedWaiver(id="PYSEC-9", reason="unreachable", owner="sec", expires="2030-01-01"),
    )
    r = make_result(findings=(*make_result().findings, waived))
    doc = json.loads(render_sarif([r]))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {
        "KFPG-PICKLE-DANGEROUS",
        "PYSEC-2024-1",
        "PYSEC-9",
    }
    levels = {res["ruleId"]: res["level"] for res in run["results"]}
    assert levels == {"KFPG-PICKLE-DANGEROUS": "error", "PYSEC-2024-1": "note", "PYSEC-9": "error"}
    by_id = {res["ruleId"]: res for res in run["results"]}
    assert by_id["PYSEC-9"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert by_id["PYSEC-9"]["suppressions"][0]["kind"] == "external"
    pickle_loc = by_id["KFPG-PICKLE-DANGEROUS"]["locations"][0]
    assert pickle_loc["physicalLocation"]["region"] == {"byteOffset": 42}
    assert pickle_loc["logicalLocations"][0]["name"] == "data.pkl"


def test_markdown_and_html_escape_untrusted_text():
    evil = Finding(id="X", severity="low", message="<script>alert(1)</script> | pipe", location=Location(path="a|b"))
    r = make_result(findings=(evil,))
    html = render_html([r])
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = render_markdown([r])
    assert "\\| pipe" in md and "a\\|b" in md


def test_table_shows_verdict_subject_and_findings_without_color_by_default():
    text = render_table([make_result()])
    assert text.startswith("FAIL  model_scan  model.pkl")
    assert "KFPG-PICKLE-DANGEROUS" in text and "\033[" not in text
    assert "\033[31m" in render_table([make_result()], color=True)


def test_markdown_from_hostile_names_and_messages_renders_no_markup():
    """The KFP UI renders Markdown natively with raw HTML passed through: data must stay text."""
    from kfp_gates.components.common.result import Subject
    from tests.support.markdown_render import render, unexpected_tags

    hostile = "<img src=x onerror=alert(1)> [c](javascript:alert(1)) ![p](http://t.example/p) <b>\n\n# h"
    r = make_result(
        subject=Subject(name="model`<img src=y onerror=alert(2)>`.pkl", digest={"sha256": "ab" * 32}),
        findings=(Finding(id="X<i>", severity="high", message=hostile, location=Location(path="<a href=z>.pkl")),),
    )
    md = render_markdown([r])
    assert unexpected_tags(md) == [], md
    out = render(md)
    assert "<a " not in out and "<h1" not in out
    assert "onerror=alert(1)" in out.replace("&lt;", "<").replace("&gt;", ">")  # still readable, as text
