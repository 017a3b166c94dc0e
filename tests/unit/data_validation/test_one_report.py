"""One report per gate: `validate-data --format html|markdown` prints the same page as --report-dir writes
(one row per expectation), and the CLI says where the reports went."""

from __future__ import annotations

import json

SUITE = json.dumps({"name": "one-report", "expectations": [
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "age"}}]})


def test_format_html_is_the_report_dir_page_and_the_cli_names_the_reports(cli, write, tmp_path):
    suite = write("suite.json", SUITE)
    bad = write("bad.csv", "age\n1\n200\n")
    res = cli("validate-data", str(bad), "--suite", str(suite), "--format", "html", "--output", "page.html",
              "--report-dir", "rep")
    assert res.code == 1, res.err
    page = (tmp_path / "page.html").read_text()
    assert page == (tmp_path / "rep" / "report.html").read_text()
    assert "<h2>Expectations</h2>" in page and "expect_column_values_to_be_between" in page
    assert "report (html) written to page.html" in res.out
    assert "reports written to rep/: report.html, report.md, result.json, evidence.json, metrics.json" in res.out


def test_format_markdown_to_stdout_and_json_stays_parseable(cli, write, tmp_path):
    suite = write("suite.json", SUITE)
    ok = write("ok.csv", "age\n1\n2\n")
    md = cli("validate-data", str(ok), "--suite", str(suite), "--format", "markdown")
    assert md.code == 0, md.err
    assert md.out.startswith("## ✅ Data validation: PASS") and "| status | expectation |" in md.out
    js = cli("validate-data", str(ok), "--suite", str(suite), "--format", "json", "--report-dir", "rep")
    assert js.code == 0, js.err
    json.loads(js.out)  # the note about the reports goes to stderr, not into the JSON
    assert "reports written to rep/" in js.err
