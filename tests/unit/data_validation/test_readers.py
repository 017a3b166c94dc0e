"""Reading CSV / Parquet / JSON Lines: good files load; bad files are DataUnreadable naming the line."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.data_validation import readers
from kfp_gates.components.data_validation.readers import CsvOptions, DataUnreadable, detect_format, read_table


def _problem(path, fmt="csv", options=None):
    with pytest.raises(DataUnreadable) as err:
        read_table(path, fmt, options)
    return err.value.problem


def test_reads_csv_with_types_nulls_and_quoted_newlines(write):
    p = write("a.csv", 'id,name,score\n1,"Smith, J.",0.5\n2,"two\nlines",\n3,,1.5\n')
    t = read_table(p, "csv")
    assert t.num_rows == 3 and t.column_names == ["id", "name", "score"]
    assert t.column("name").to_pylist() == ["Smith, J.", "two\nlines", None]  # empty string is missing
    assert t.column("score").null_count == 1


def test_delimiter_encoding_and_headerless_options(write):
    p = write("a.csv", "1;café\n2;naïve\n".encode("latin-1"))
    t = read_table(p, "csv", CsvOptions(delimiter=";", header=False, encoding="latin-1"))
    assert t.column_names == ["_c0", "_c1"]
    assert t.column("_c1").to_pylist() == ["café", "naïve"]
    named = read_table(p, "csv", CsvOptions(delimiter=";", header=False, encoding="latin-1",
                                            column_names=("id", "word")))
    assert named.column_names == ["id", "word"]


def test_empty_file(write):
    assert _problem(write("e.csv", "")).kind == "empty"
    assert _problem(write("e2.csv", "\n\n  \n")).kind == "empty"


def test_header_only_file(write):
    problem = _problem(write("h.csv", "id,age\n"))
    assert problem.kind == "no_rows" and "no data rows" in problem.reason


def test_ragged_row_names_its_line(write):
    problem = _problem(write("r.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n"))
    assert problem.kind == "ragged" and problem.line == 4
    assert "line 4" in problem.reason and "2 fields" in problem.reason
    assert "7" not in problem.reason.replace("line 4", "")  # no row content in the message


def test_row_with_too_many_fields(write):
    problem = _problem(write("r.csv", "a,b\n1,2\n3,4,5\n"))
    assert problem.line == 3 and problem.kind == "ragged"


def test_unterminated_quote_names_its_line(write):
    problem = _problem(write("q.csv", 'a,b\n1,2\n3,"unterminated\n5,6\n7,8\n'))
    assert problem.line == 3
    assert problem.kind in ("quoting", "ragged")


def test_undecodable_bytes_name_their_line(write):
    problem = _problem(write("u.csv", b"a,b\n1,ok\n2,\xff\xfe bad\n3,fine\n"))
    assert problem.kind == "encoding" and problem.line == 3
    assert "utf-8" in problem.reason


def test_duplicate_header_names(write):
    problem = _problem(write("d.csv", "a,b,a\n1,2,3\n"))
    assert problem.kind == "header" and "'a'" in problem.reason


def test_type_change_after_the_first_block_widens_instead_of_failing(write, monkeypatch):
    monkeypatch.setattr(readers, "_BLOCK", 64)  # tiny blocks: the float appears after the first one
    rows = "".join(f"{i},{i}\n" for i in range(50)) + "50,1.5\n"
    t = read_table(write("w.csv", "id,value\n" + rows), "csv")
    assert t.num_rows == 51 and pa.types.is_floating(t.column("value").type)


def test_parquet_and_corrupt_parquet(tmp_path, write):
    p = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", None]}), p)
    assert read_table(p, "parquet").num_rows == 2
    assert _problem(write("bad.parquet", b"PAR1 not really"), "parquet").kind == "unreadable"


def test_json_lines_and_bad_json_line(write):
    t = read_table(write("d.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n'), "jsonl")
    assert t.num_rows == 2
    problem = _problem(write("b.jsonl", '{"a": 1}\n{"a": 2}\n{"a": \n'), "jsonl")
    assert problem.line == 3 and problem.kind == "json"
    assert _problem(write("n.jsonl", '{"a": 1}\n[1, 2]\n'), "jsonl").line == 2
    assert _problem(write("e.jsonl", ""), "jsonl").kind == "empty"


def test_format_detection_and_bad_options(tmp_path):
    assert detect_format("x.CSV") == "csv" and detect_format("x.tsv") == "csv"
    assert detect_format("x.parquet") == "parquet" and detect_format("x.ndjson") == "jsonl"
    assert detect_format("noext", "jsonl") == "jsonl"
    with pytest.raises(ConfigError):
        detect_format("data.bin")
    with pytest.raises(ConfigError):
        CsvOptions(encoding="no-such-codec")
    with pytest.raises(ConfigError):
        CsvOptions(delimiter=";;")
    with pytest.raises(InputNotFoundError):
        read_table(tmp_path / "missing.csv", "csv")
    with pytest.raises(InputNotFoundError):
        read_table(tmp_path, "csv")
