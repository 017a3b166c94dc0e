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
    assert "b\\|\\`x\\`" in text  # pipes and backticks from the data cannot break the table


def test_metrics(write):
    m = metrics(_result(write))
    assert m["expectations_evaluated"] == 2.0  # the missing-column one could not be evaluated
    assert m["expectations_failed"] == 2.0
    assert m["success_percent"] == 33.33
    assert m["unexpected_rows"] == 2.0 and m["rows"] == 3.0


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![t](http://tracker.example/p.png)",
    "<https://evil.example>",
    "**bold** ~~gone~~ `code`",
    "a\n\n# heading\n<details open>",
]


def test_markdown_renders_no_html_links_or_images_from_data(write, tmp_path):
    """Rendered as the KFP UI renders Markdown (raw HTML passes through), data stays text."""
    from tests.support.markdown_render import render, unexpected_tags

    rows = "\n".join('"' + v.replace('"', '""') + '",1' for v in HOSTILE)
    path = write("d.csv", "label,n\n" + rows + "\n")
    bad_name = tmp_path / "<img src=x onerror=alert(2)>.csv"
    bad_name.write_text(path.read_text())
    text = render_markdown(validate_data(bad_name, SUITE))
    assert unexpected_tags(text) == [], text
    html_out = render(text)
    assert "onerror=alert(1)" in html_out.replace("&lt;", "<")  # shown, as text
    assert "<a " not in html_out and "<script" not in html_out and "<h1" not in html_out
