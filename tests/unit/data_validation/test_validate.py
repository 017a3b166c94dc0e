"""The gate's result: one finding per failed expectation, capped values, sha256 subject, fail closed."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.data_validation import UNREADABLE, ValidationOptions, parse_suite, validate_data
from kfp_gates.components.data_validation.engines.pandas import PandasEngine
from tests.support.netguard import no_network

DATA = "id,age,city,comment\n" + "".join(
    f"{i},{20 + i % 50},{['Oslo', 'Lima', 'Pune'][i % 3]},note {i}\n" for i in range(1, 101))
BAD = DATA + "101,400,Atlantis,secret-row-text\n102,-3,Atlantis,another\n" + "".join(
    f"{i},30,Atlantis,x\n" for i in range(103, 140))


def _suite(*expectations: dict) -> object:
    return parse_suite(json.dumps({"name": "t", "expectations": list(expectations)}))


AGE = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120}}
CITY = {"type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "city", "value_set": ["Oslo", "Lima", "Pune"]}}
ROWS = {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 10}}


def test_finding_per_failed_expectation_with_counts_and_capped_values(write):
    path = write("d.csv", BAD)
    result = validate_data(path, _suite(AGE, CITY, ROWS))
    assert result.decision.value == "fail"
    assert result.subject.sha256 == hashlib.sha256(BAD.encode()).hexdigest()
    assert result.subject.name == "d.csv"
    by_id = {f.id: f for f in result.findings}
    assert set(by_id) == {"expect_column_values_to_be_between:age", "expect_column_values_to_be_in_set:city"}
    age = by_id["expect_column_values_to_be_between:age"].data
    assert age["expectation_type"] == "expect_column_values_to_be_between" and age["column"] == "age"
    assert age["unexpected_count"] == 2 and age["element_count"] == 139
    assert age["unexpected_percent"] == pytest.approx(100 * 2 / 139, rel=1e-6)
    assert sorted(age["partial_unexpected_values"]) == [-3, 400]
    assert age["expected"] == {"min_value": 0, "max_value": 120}
    city = by_id["expect_column_values_to_be_in_set:city"]
    assert city.data["unexpected_count"] == 39
    assert city.data["partial_unexpected_values"] == ["Atlantis"] * 5  # capped at 5 by default
    assert city.location.field == "city" and "city" in city.message
    # values of the checked column only, never whole rows
    text = result.to_json()
    assert "secret-row-text" not in text and "another" not in text
    # the result is a valid GateResult after a JSON round trip
    assert GateResult.from_json(text) == result


def test_value_cap_is_configurable_and_zero_keeps_no_values(write):
    path = write("d.csv", BAD)
    none = validate_data(path, _suite(CITY), options=ValidationOptions(max_unexpected_values=0))
    assert none.findings[0].data["partial_unexpected_values"] == []
    assert "Atlantis" not in none.to_json().replace('"value_set"', "")
    two = validate_data(path, _suite(CITY), options=ValidationOptions(max_unexpected_values=2))
    assert len(two.findings[0].data["partial_unexpected_values"]) == 2
    with pytest.raises(ConfigError):
        ValidationOptions(max_unexpected_values=21)


def test_long_unexpected_values_are_truncated(write):
    path = write("d.csv", "id,city\n1," + "A" * 5000 + "\n2,Oslo\n")
    result = validate_data(path, _suite(CITY))
    (value,) = result.findings[0].data["partial_unexpected_values"]
    assert len(value) <= 80


def test_clean_data_passes(write):
    result = validate_data(write("d.csv", DATA), _suite(AGE, CITY, ROWS))
    assert result.decision.value == "pass" and result.findings == ()
    assert result.metadata["statistics"] == {"expectations": 3, "evaluated": 3, "successful": 3, "failed": 0,
                                             "success_percent": 100.0, "unexpected_rows": 0}


def test_missing_column_is_a_blocking_finding_naming_it(write):
    suite = _suite({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "salary"}}, AGE)
    result = validate_data(write("d.csv", DATA), suite)
    assert result.decision.value == "fail"
    (finding,) = result.findings
    assert finding.location.field == "salary" and "'salary' is not in the data" in finding.message
    assert finding.severity.value == "high"
    assert result.metadata["failing_columns"] == ["salary"]


def test_missing_column_blocks_even_when_the_suite_says_warning(write):
    suite = _suite({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "salary"},
                    "severity": "warning"})
    assert validate_data(write("d.csv", DATA), suite).decision.value == "fail"


def test_warning_severity_expectation_warns_instead_of_blocking(write):
    suite = _suite({**CITY, "severity": "warning"})
    result = validate_data(write("d.csv", BAD), suite)
    assert result.decision.value == "warn" and result.exit_code == 0


def test_unreadable_data_is_a_blocking_finding_naming_the_line(write):
    result = validate_data(write("d.csv", "id,age\n1,2\n3\n"), _suite(AGE))
    assert result.decision.value == "fail"
    (finding,) = result.findings
    assert finding.id == UNREADABLE and finding.severity.value == "critical"
    assert finding.location.line == 3 and "line 3" in finding.message
    assert result.metadata["readable"] is False
    assert all(r["status"] == "not run" for r in result.metadata["expectations"])


@pytest.mark.parametrize("content", [b"", b"id,age\n", b"id,age\n1,\xff\n", b'id,age\n1,"2\n'])
def test_every_kind_of_unreadable_data_blocks(write, content):
    result = validate_data(write("d.csv", content), _suite(AGE))
    assert result.decision.value == "fail" and result.findings[0].id == UNREADABLE
    assert result.findings[0].location.line is not None


def test_waiver_accepts_a_failed_expectation(write):
    policy = GatePolicy.parse(
        "apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  data_validation:\n    waivers:\n"
        "      - {id: 'expect_column_values_to_be_in_set:city', reason: new city onboarding, owner: data@x.org, "
        f"expires: {(date.today() + timedelta(days=30)).isoformat()}}}\n")
    settings = GateSettings.from_effective(policy.gate("data_validation"))
    result = validate_data(write("d.csv", BAD), _suite(CITY), settings=settings)
    assert result.decision.value == "pass"
    assert result.findings[0].waived


def test_fast_track_tier_downgrades_to_warn(write):
    settings = GateSettings.from_effective(GatePolicy.default("fast-track").gate("data_validation"))
    assert validate_data(write("d.csv", BAD), _suite(AGE), settings=settings).decision.value == "warn"


def test_usage_errors_raise(write, tmp_path):
    with pytest.raises(InputNotFoundError):
        validate_data(tmp_path / "nope.csv", _suite(AGE))
    with pytest.raises(InputNotFoundError):
        validate_data(write("d.csv", DATA), tmp_path / "nope.json")
    with pytest.raises(ConfigError):
        validate_data(write("d.csv", DATA), _suite(AGE), options=ValidationOptions(engine="dask"))


def test_no_network_connection_is_attempted_during_validation(write):
    path = write("d.csv", BAD)
    suite = _suite(AGE, CITY, ROWS)
    with no_network() as attempts:
        result = validate_data(path, suite)
    assert attempts == []
    assert result.decision.value == "fail"


class _TamperingEngine(PandasEngine):
    """Validates, then rewrites the file: the verdict no longer matches the bytes."""

    def run(self, path, fmt, csv_options, suite, max_values):
        run = super().run(path, fmt, csv_options, suite, max_values)
        path.write_text(DATA.replace("Oslo", "Evil"))
        return run


def test_file_changed_during_validation_blocks(write):
    result = validate_data(write("d.csv", DATA), _suite(AGE), engine=_TamperingEngine())
    assert result.decision.value == "fail"
    assert [f.id for f in result.findings] == ["DV-DATA-CHANGED"]


def test_column_set_expectation_names_the_dropped_column(write):
    suite = _suite({"type": "expect_table_columns_to_match_set",
                    "kwargs": {"column_set": ["id", "age", "city", "comment", "salary"], "exact_match": True}})
    result = validate_data(write("d.csv", DATA.replace(",comment", ",remark")), suite)
    (finding,) = result.findings
    assert finding.id == "expect_table_columns_to_match_set"
    assert "missing column(s): 'comment', 'salary'" in finding.message
    assert "unexpected column(s): 'remark'" in finding.message
    assert finding.location.field == "comment,salary,remark"
    assert result.metadata["failing_columns"] == ["comment", "remark", "salary"]


def test_demo_steps_reach_their_expected_verdicts(tmp_path):
    from kfp_gates.pipelines.demo import SAMPLES
    from kfp_gates.pipelines.demo_steps.data_validation import STEPS

    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    assert [s.expect for s in STEPS] == ["pass", "fail"]
    for step in STEPS:
        result = step.run(policy, tmp_path)
        assert result.decision.value == step.expect, [f.message for f in result.findings]
    assert {f.location.field for f in result.findings} == {"sepal_length", "species", "sample_id"}


def test_credentials_in_unexpected_values_are_redacted(write):
    from kfp_gates.components.data_validation.report import render_html, render_markdown

    leaked = "AKIAIOSFODNN7EXAMPLE"
    result = validate_data(write("d.csv", f"id,city\n1,Oslo\n2,{leaked}\n"), _suite(CITY))
    assert result.decision.value == "fail"
    for text in (result.to_json(), render_html(result), render_markdown(result)):
        assert leaked not in text
    assert result.findings[0].data["partial_unexpected_values"] == ["[REDACTED]"]
