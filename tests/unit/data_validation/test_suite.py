"""Suites: GX's own JSON and YAML load unchanged; unknown types and arguments are named (exit 2)."""

from __future__ import annotations

import json

import pytest
import yaml

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.data_validation import load_suite, parse_suite
from kfp_gates.components.data_validation._gx import import_gx


def _gx_written_suite() -> dict:
    gx = import_gx()
    suite = gx.ExpectationSuite(name="written-by-gx", expectations=[
        gx.expectations.ExpectColumnValuesToBeBetween(column="age", min_value=0, max_value=120, mostly=0.99),
        gx.expectations.ExpectColumnValuesToBeInSet(column="label", value_set=["a", "b"], severity="warning"),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
    ])
    return suite.to_json_dict()


def test_suite_written_by_gx_to_json_dict_loads_unchanged(tmp_path):
    data = _gx_written_suite()
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(data))
    suite = load_suite(path)
    assert suite.name == "written-by-gx"
    assert [e.type for e in suite.expectations] == [e["type"] for e in data["expectations"]]
    assert suite.expectations[0].kwargs["mostly"] == 0.99
    assert suite.expectations[1].severity == "warning"
    assert suite.expectations[0].column == "age" and suite.expectations[2].column is None
    # and it survives the round trip back into GX
    assert len(suite.to_gx().expectations) == 3


def test_yaml_of_the_same_structure_loads_the_same(tmp_path):
    data = _gx_written_suite()
    j, y = tmp_path / "s.json", tmp_path / "s.yaml"
    j.write_text(json.dumps(data))
    y.write_text(yaml.safe_dump(data))
    assert load_suite(j).to_json_dict() == load_suite(y).to_json_dict()


def test_gx_0x_suite_keys_are_read():
    text = json.dumps({"expectation_suite_name": "legacy", "data_asset_type": None, "expectations": [
        {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "meta": {}}]})
    suite = parse_suite(text)
    assert suite.name == "legacy" and suite.expectations[0].type == "expect_column_values_to_not_be_null"


def test_unknown_expectation_type_is_named_with_line_and_suggestion():
    text = ('{"name": "s", "expectations": [\n'
            '  {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},\n'
            '  {"type": "expect_column_values_to_be_betwen", "kwargs": {"column": "a"}}\n]}')
    with pytest.raises(ConfigError) as err:
        parse_suite(text, "s.json")
    assert "expect_column_values_to_be_betwen" in err.value.message
    assert err.value.where == "s.json:3"
    assert "expect_column_values_to_be_between" in (err.value.hint or "")
    assert err.value.exit_code == 2


def test_unknown_argument_is_named():
    text = "name: s\nexpectations:\n  - type: expect_column_values_to_be_between\n    kwargs:\n" \
           "      column: a\n      min_value: 1\n      max_vlaue: 3\n"
    with pytest.raises(ConfigError) as err:
        parse_suite(text, "s.yaml")
    assert "unknown argument 'max_vlaue'" in err.value.message
    assert "expect_column_values_to_be_between" in err.value.message
    assert err.value.where == "s.yaml:7"
    assert "max_value" in (err.value.hint or "")


def test_invalid_argument_value_is_named():
    text = json.dumps({"name": "s", "expectations": [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": "ten"}}]})
    with pytest.raises(ConfigError) as err:
        parse_suite(text)
    assert "min_value" in err.value.message


@pytest.mark.parametrize("text, fragment", [
    ("{not json: [", "not valid YAML/JSON"),
    ("just a string", "must be a mapping"),
    ('{"name": "s", "expectations": []}', "no expectations"),
    ('{"name": "s"}', "'expectations' must be a list"),
    ('{"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]}',
     "no 'name'"),
    ('{"name": "s", "expectations": [], "extra": 1}', "unknown suite key 'extra'"),
    ('{"name": "s", "expectations": [{"kind": "x"}]}', "unknown key 'kind'"),
    ('{"name": "s", "expectations": [{"type": "expect_table_row_count_to_be_between", '
     '"kwargs": {"min_value": 1}, "severity": "fatal"}]}', "unknown severity"),
    ('{"name": "s", "name": "t", "expectations": []}', "duplicate key"),
])
def test_malformed_suites_are_config_errors(text, fragment):
    with pytest.raises(ConfigError) as err:
        parse_suite(text)
    assert fragment in str(err.value)


def test_missing_suite_file(tmp_path):
    with pytest.raises(InputNotFoundError):
        load_suite(tmp_path / "nope.json")


def test_gate_controlled_arguments_cannot_turn_off_exception_capture():
    text = json.dumps({"name": "s", "expectations": [
        {"type": "expect_column_values_to_not_be_null",
         "kwargs": {"column": "a", "catch_exceptions": False, "result_format": "COMPLETE"}}]})
    suite = parse_suite(text)
    gx_exp = suite.to_gx().expectations[0]
    assert gx_exp.catch_exceptions is True
    assert "result_format" not in suite.expectations[0].expected()


def test_suggest_refuses_an_unreadable_baseline(tmp_path):
    from kfp_gates.components.data_validation import suggest_suite

    bad = tmp_path / "base.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ConfigError) as err:
        suggest_suite(bad)
    assert "baseline cannot be read" in err.value.message and err.value.where.endswith(":3")
