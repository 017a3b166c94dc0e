"""HTML and Markdown reports and metrics: readable, escaped, failing columns highlighted."""

from __future__ import annotations

import json

from kfp_gates.components.data_validation import parse_suite, validate_data
from kfp_gates.components.data_validation.report import metrics, render_html, render_markdown

SUITE = parse_suite(json.dumps({"name": "r", "expectations": [
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": ["a", "b"]}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "n", "min_value": 0, "max_value": 9}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "gone"}},
]}))


def _result(write):
    return validate_data(write("d.csv", 'label,n\na,1\n"<img src=x onerror=alert(1)>",2\nb|`x`,3\n'), SUITE)


def test_html_is_escaped_and_highlights_failing_columns(write):
    page = render_html(_result(write))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "class='verdict v-fail'" in page
    assert "<span class='bad'>label</span>" in page and "<span class=''>n</span>" in page
    assert "gone (missing)" in page
    assert page.count("<tr class='fail'>") == 1 and page.count("<tr class='error'>") == 1
    assert page.count("<tr class='pass'>") == 1


def test_markdown_summary_lists_failures_first(write):
    text = render_markdown(_result(write))
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    assert lines[1].startswith("| **FAIL**") and lines[-1].startswith("| PASS")
    assert "**label**" in text and "**gone**" in text
    assert "b\\|'x'" in text  # pipes and backticks from the data cannot break the table


def test_metrics(write):
    m = metrics(_result(write))
    assert m["expectations_evaluated"] == 2.0  # the missing-column one could not be evaluated
    assert m["expectations_failed"] == 2.0
    assert m["success_percent"] == 33.33
    assert m["unexpected_rows"] == 2.0 and m["rows"] == 3.0
