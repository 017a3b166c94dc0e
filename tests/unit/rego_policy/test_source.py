"""The Rego token scan behind the fail-closed read checks: what it finds, and that no text breaks it."""

from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.rego_policy._source import line_of_offset, scan


def test_reads_are_found_outside_strings_and_comments():
    facts = scan(
        "p.rego",
        "package kfp_gates.promotion\nimport rego.v1\nimport input.gates as g\n"
        "# input.metrics.commented\n"
        'deny contains "input.metrics.quoted" if {\n'
        "  input.metrics.accuracy < data.min_accuracy\n"
        '  input.metrics["f1-score"] < 0.5\n'
        '  g.model_scan.decision == "fail"\n'
        "}\n"
        "warn contains msg if { msg := data.kfp_gates.x }\n",
    )
    assert facts.package == "kfp_gates.promotion"
    assert set(facts.rules) == {"deny", "warn"}
    reads = {(r.root, r.name, r.line) for r in facts.refs}
    assert reads == {
        ("metrics", "accuracy", 6),
        ("data", "min_accuracy", 6),
        ("metrics", "f1-score", 7),
        ("gates", "model_scan", 8),
        ("data", "kfp_gates", 10),
    }


def test_whole_input_with_is_found():
    facts = scan("t.rego", 'package main\ntest_a if {\n  deny with input as {"metrics": {}}\n}\n')
    assert facts.whole_input_with == [3]
    assert scan("t.rego", "package main\ntest_a if { deny with input.metrics as {} }\n").whole_input_with == []


def test_line_of_offset_counts_utf8_bytes():
    assert line_of_offset("ab\ncé\nx", 7) == (3, 1)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_scans_without_error(text):
    facts = scan("f.rego", text)
    assert all(r.line >= 1 for r in facts.refs)
