"""The Spark engine: same suite, same findings, same result shape as pandas on the same data."""

from __future__ import annotations

import json

import pytest

from kfp_gates.components.data_validation import UNREADABLE, parse_suite, validate_data
from kfp_gates.components.data_validation.engines.pandas import PandasEngine
from kfp_gates.components.data_validation.engines.spark import SparkEngine
from tests.support.netguard import no_network

SUITE = parse_suite(json.dumps({"name": "parity", "expectations": [
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 100, "max_value": 1000}},
    {"type": "expect_table_columns_to_match_set",
     "kwargs": {"column_set": ["id", "age", "income", "city", "label"], "exact_match": True}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 18, "max_value": 90}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "income", "mostly": 0.99}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "city", "value_set": ["Oslo", "Lima"]}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": [0, 1]}},
    {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "age", "min_value": 30, "max_value": 60}},
    {"type": "expect_column_max_to_be_between", "kwargs": {"column": "income", "max_value": 100000}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "dropped"}},
]}))


def _defective_csv(path):
    rows = ["id,age,income,city,label"]
    for i in range(1, 201):
        age = 200 if i in (7, 8) else 20 + i % 50
        income = "" if i % 20 == 0 else str(1000 * i)
        city = "Atlantis" if i == 13 else ("Oslo", "Lima")[i % 2]
        ident = 5 if i == 6 else i
        rows.append(f"{ident},{age},{income},{city},{i % 2}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _shape(result):
    return sorted((f.id, f.severity.value, f.data.get("unexpected_count"), f.data.get("element_count"),
                   f.location.field if f.location else None) for f in result.findings)


def test_same_suite_same_findings_same_shape(spark, tmp_path):
    path = _defective_csv(tmp_path / "d.csv")
    by_pandas = validate_data(path, SUITE, engine=PandasEngine())
    with no_network() as attempts:
        by_spark = validate_data(path, SUITE, engine=SparkEngine(spark))
    assert attempts == []
    assert by_pandas.decision == by_spark.decision
    assert by_pandas.decision.value == "fail"
    assert _shape(by_pandas) == _shape(by_spark)
    assert {f.id for f in by_spark.findings} == {
        "expect_column_values_to_be_unique:id", "expect_column_values_to_be_between:age",
        "expect_column_values_to_not_be_null:income", "expect_column_values_to_be_in_set:city",
        "expect_column_max_to_be_between:income", "expect_column_values_to_not_be_null:dropped"}
    assert by_pandas.subject == by_spark.subject
    assert by_spark.metadata["engine"] == "spark" and by_pandas.metadata["engine"] == "pandas"
    for a, b in zip(by_pandas.metadata["expectations"], by_spark.metadata["expectations"], strict=True):
        assert (a["index"], a["status"], a["unexpected_count"]) == (b["index"], b["status"], b["unexpected_count"])
    # observed aggregates agree too
    pandas_max = next(f for f in by_pandas.findings if f.id == "expect_column_max_to_be_between:income")
    spark_max = next(f for f in by_spark.findings if f.id == "expect_column_max_to_be_between:income")
    assert pandas_max.data["observed_value"] == pytest.approx(spark_max.data["observed_value"])
    assert sorted(by_spark.findings[0].data.keys()) == sorted(by_pandas.findings[0].data.keys())


@pytest.mark.parametrize("content, line", [
    (b"id,age\n1,20\n2\n3,40\n", 3),
    (b"id,age\n1,20\n2,\xff\xfe\n", 3),
    (b"id,age\n", 2),
])
def test_unreadable_data_is_a_finding_on_spark_too(spark, tmp_path, content, line):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = validate_data(path, SUITE, engine=SparkEngine(spark))
    assert result.decision.value == "fail"
    assert [f.id for f in result.findings] == [UNREADABLE]
    assert result.findings[0].location.line == line


def test_parquet_on_spark(spark, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"id": list(range(150)), "age": [30] * 150, "income": [5.0] * 150,
                             "city": ["Oslo"] * 150, "label": [0, 1] * 75, "dropped": [1] * 150}), path)
    suite = parse_suite(json.dumps({"name": "p", "expectations": SUITE.to_json_dict()["expectations"][2:]}))
    result = validate_data(path, suite, engine=SparkEngine(spark))
    assert result.decision.value == "pass", [f.message for f in result.findings]


def test_cli_engine_spark_exit_code_and_findings(cli, tmp_path):
    path = _defective_csv(tmp_path / "d.csv")
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(SUITE.to_json_dict()))
    res = cli("validate-data", str(path), "--suite", str(suite), "--engine", "spark", "--format", "json",
              "--report-dir", str(tmp_path / "rep"), env={"KFP_GATES_SPARK_MASTER": "local[1]"})
    assert res.code == 1, res
    result = json.loads(res.out)
    assert result["metadata"]["engine"] == "spark"
    assert "expect_column_values_to_be_unique:id" in {f["id"] for f in result["findings"]}
    assert (tmp_path / "rep" / "report.html").exists()
