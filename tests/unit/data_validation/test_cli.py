"""The real console script: validate-data and suggest-suite exit codes, reports, formats."""

from __future__ import annotations

import json

SUITE = json.dumps({"name": "cli", "expectations": [
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "age"}}]})


def test_pass_fail_and_reports(cli, write, tmp_path):
    suite = write("suite.json", SUITE)
    ok = cli("validate-data", str(write("ok.csv", "age\n1\n2\n")), "--suite", str(suite))
    assert ok.code == 0, ok
    assert "PASS" in ok.out
    bad = write("bad.csv", "age\n1\n200\n\n")
    res = cli("validate-data", str(bad), "--suite", str(suite), "--report-dir", str(tmp_path / "rep"),
              "--format", "json", "--output", str(tmp_path / "out.json"))
    assert res.code == 1, res
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["decision"] == "fail"
    assert {f["id"] for f in result["findings"]} == {"expect_column_values_to_be_between:age"}
    for name in ("report.html", "report.md", "result.json", "metrics.json", "evidence.json"):
        assert (tmp_path / "rep" / name).stat().st_size > 0
    statement = json.loads((tmp_path / "rep" / "evidence.json").read_text())
    assert statement["subject"][0]["digest"]["sha256"] == result["subject"]["digest"]["sha256"]
    assert json.loads((tmp_path / "rep" / "metrics.json").read_text())["expectations_failed"] == 1


def test_missing_files_exit_2(cli, write, tmp_path):
    suite = write("suite.json", SUITE)
    res = cli("validate-data", str(tmp_path / "nope.csv"), "--suite", str(suite))
    assert res.code == 2 and "not found" in res.err and "Traceback" not in res.err
    res = cli("validate-data", str(write("ok.csv", "age\n1\n")), "--suite", str(tmp_path / "nope.json"))
    assert res.code == 2 and "suite not found" in res.err
    res = cli("validate-data", str(write("ok2.csv", "age\n1\n")))
    assert res.code == 2 and "no suite" in res.err


def test_invalid_suite_exit_2_naming_the_expectation(cli, write):
    data = str(write("ok.csv", "age\n1\n"))
    bad_type = write("t.yaml", "name: s\nexpectations:\n  - type: expect_colum_values_to_be_unique\n"
                               "    kwargs: {column: age}\n")
    res = cli("validate-data", data, "--suite", str(bad_type))
    assert res.code == 2 and "expect_colum_values_to_be_unique" in res.err and "t.yaml:3" in res.err
    bad_arg = write("a.json", json.dumps({"name": "s", "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "age", "strict": True}}]}))
    res = cli("validate-data", data, "--suite", str(bad_arg))
    assert res.code == 2 and "unknown argument 'strict'" in res.err
    res = cli("validate-data", data, "--suite", str(write("x.txt", "\x00\x01 not a suite [")))
    assert res.code == 2 and "not valid YAML/JSON" in res.err


def test_unreadable_data_exits_1_with_the_line(cli, write):
    suite = write("suite.json", SUITE)
    # (each kind of unreadable data is covered in-process in test_validate.py)
    res = cli("validate-data", str(write("d.csv", b"age,x\n1,2\n3\n")), "--suite", str(suite))
    assert res.code == 1, res
    assert "DV-UNREADABLE-DATA" in res.out and "d.csv:3" in res.out and "Traceback" not in res.err


def test_csv_options_and_policy_suite(cli, write):
    suite = write("suite.json", SUITE)
    data = write("d.tsv", "1\n2\n")
    res = cli("validate-data", str(data), "--suite", str(suite), "--no-header", "--column-names", "age")
    assert res.code == 0, res
    semi = write("s.txt", "id;age\n1;5\n")
    policy = write("policy.yaml", "apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  data_validation:\n"
                                  f"    suite: {suite}\n    max_unexpected_values: 0\n")
    res = cli("validate-data", str(semi), "--delimiter", ";", "--data-format", "csv", "--policy", str(policy))
    assert res.code == 0, res


def test_suggest_suite_round_trip(cli, write, tmp_path):
    data = write("base.csv", "id,kind,x\n" + "".join(f"{i},{'ab'[i % 2]},{i / 10}\n" for i in range(1, 60)))
    out = tmp_path / "draft.yaml"
    res = cli("suggest-suite", str(data), "-o", str(out))
    assert res.code == 0, res
    assert "review" in res.out
    assert cli("validate-data", str(data), "--suite", str(out)).code == 0
    defective = write("bad.csv", "id,kind,x\n1,a,0.1\n1,c,99\n" + "".join(f"{i},a,1\n" for i in range(3, 40)))
    res = cli("validate-data", str(defective), "--suite", str(out), "--format", "json")
    assert res.code == 1
    ids = {f["id"] for f in json.loads(res.out)["findings"]}
    assert {"expect_column_values_to_be_unique:id", "expect_column_values_to_be_in_set:kind",
            "expect_column_values_to_be_between:x"} <= ids
    assert cli("suggest-suite", str(tmp_path / "nope.csv"), "-o", str(out)).code == 2


def test_spark_engine_without_java_is_an_infrastructure_error(cli, write):
    suite = write("suite.json", SUITE)
    res = cli("validate-data", str(write("ok.csv", "age\n1\n")), "--suite", str(suite), "--engine", "spark",
              env={"JAVA_HOME": "/nonexistent-java", "PATH": "/usr/local/bin:/bin"})
    assert res.code == 3, res
    assert "cannot start or reach Spark" in res.err and "Traceback" not in res.err
