"""Fuzzing the CSV reading path: any bytes give a table or a DataUnreadable with a line, never a crash."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfp_gates.components.data_validation.readers import CsvOptions, DataUnreadable, locate_csv_problem, read_table

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
csv_bytes = st.lists(
    st.sampled_from([b"a", b"1", b"2.5", b",", b"\n", b"\r\n", b'"', b'""', b"\xff", b"\xc3\xa9", b" ", b";",
                     b"\x00", b"NaN", b"-"]),
    max_size=60,
).map(b"".join)


def _tmp(content: bytes) -> Path:
    fh = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
    fh.write(content)
    fh.close()
    return Path(fh.name)


@FUZZ
@given(content=st.one_of(csv_bytes, st.binary(max_size=200)))
def test_arbitrary_bytes_never_crash(content):
    path = _tmp(b"a,b\n" + content)
    try:
        table = read_table(path, "csv")
    except DataUnreadable as exc:
        p = exc.problem
        assert p.reason and p.kind
        if p.line is not None:
            assert 1 <= p.line <= content.count(b"\n") + content.count(b"\r") + 2
    else:
        assert table.num_rows >= 1 and table.num_columns >= 1
    finally:
        path.unlink()


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)


@FUZZ
@given(rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=20))
def test_well_formed_csv_keeps_every_row(rows):
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["x", "y", "z"])
    writer.writerows(rows)
    path = _tmp(buf.getvalue().encode("utf-8"))
    try:
        table = read_table(path, "csv", CsvOptions())
    except DataUnreadable as exc:
        # Only a file that is nothing but blank rows may be refused, and then as "no rows".
        assert exc.problem.kind in ("no_rows", "empty"), exc.problem
        assert all(all(c.strip() == "" for c in r) for r in rows)
    else:
        assert table.num_rows == len(rows)
        assert table.column_names == ["x", "y", "z"]
        assert locate_csv_problem(path, CsvOptions()) is None
    finally:
        path.unlink()


@FUZZ
@given(rows=st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=30))
def test_ragged_rows_are_found_at_their_line(rows):
    lines = ["a,b,c"] + [",".join(["1"] * n) for n in rows]
    path = _tmp(("\n".join(lines) + "\n").encode())
    first_bad = next((i + 2 for i, n in enumerate(rows) if n != 3), None)
    try:
        if first_bad is None:
            assert read_table(path, "csv").num_rows == len(rows)
        else:
            try:
                read_table(path, "csv")
            except DataUnreadable as exc:
                assert exc.problem.line == first_bad and exc.problem.kind == "ragged"
            else:
                raise AssertionError(f"ragged row at line {first_bad} was accepted")
    finally:
        path.unlink()


@FUZZ
@given(content=st.one_of(
    st.lists(st.sampled_from([b'{"a": 1}', b'{"a": "x"}', b"{", b"[1]", b"\n", b"\xff", b'{"b": null}', b" "]),
             max_size=20).map(b"\n".join),
    st.binary(max_size=120)))
def test_json_lines_never_crash(content):
    path = _tmp(content)
    try:
        table = read_table(path, "jsonl")
    except DataUnreadable as exc:
        assert exc.problem.reason
        if exc.problem.line is not None:
            assert 1 <= exc.problem.line <= content.count(b"\n") + 1
    else:
        assert table.num_rows >= 1
    finally:
        path.unlink()
