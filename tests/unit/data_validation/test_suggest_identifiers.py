"""suggest-suite: an identifier column gets uniqueness and not-null, never a closed range or value set,
so the next batch (with higher ids) passes while a duplicate or missing id still blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfp_gates.components.data_validation import validate_data
from kfp_gates.components.data_validation.suggest import suggest_suite

from .conftest import sklearn_frame


def _kinds(suite, column: str) -> set[str]:
    return {e.type for e in suite.expectations if e.kwargs.get("column") == column}


def _csv(tmp_path: Path, name: str, frame) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def baseline(tmp_path):
    """iris with a row counter 0..149 and a named, shuffled integer id."""
    frame = sklearn_frame("iris").drop(columns=["sample_id"])
    frame.insert(0, "row", range(len(frame)))
    frame.insert(1, "customer_id", [(i * 37) % 1000 + 5000 for i in range(len(frame))])
    return frame


def test_identifier_columns_get_uniqueness_and_not_null_only(baseline, tmp_path):
    suite = suggest_suite(_csv(tmp_path, "base.csv", baseline))
    for column in ("row", "customer_id"):
        kinds = _kinds(suite, column)
        assert "expect_column_values_to_be_unique" in kinds, column
        assert "expect_column_values_to_not_be_null" in kinds, column
        assert "expect_column_values_to_be_between" not in kinds, column
        assert "expect_column_values_to_be_in_set" not in kinds, column


def test_the_next_batch_with_higher_ids_passes(baseline, tmp_path):
    suite_path = tmp_path / "s.json"
    from kfp_gates.components.data_validation.suggest import dump

    suite_path.write_text(dump(suggest_suite(_csv(tmp_path, "base.csv", baseline)), suite_path))
    nxt = baseline.copy()
    nxt["row"] = nxt["row"] + len(nxt)
    nxt["customer_id"] = nxt["customer_id"] + 10_000
    result = validate_data(_csv(tmp_path, "next.csv", nxt), suite_path)
    assert result.decision.value == "pass", [f.message for f in result.findings]

    dup = nxt.copy()
    dup.loc[dup.index[3], "customer_id"] = int(dup.loc[dup.index[2], "customer_id"])
    result = validate_data(_csv(tmp_path, "dup.csv", dup), suite_path)
    assert result.decision.value == "fail"
    assert any(f.location is not None and f.location.field == "customer_id" for f in result.findings)


def test_string_ids_by_name_get_no_value_set(tmp_path):
    frame = sklearn_frame("iris").head(12)
    frame.insert(0, "uuid", [f"u-{i:04d}" for i in range(len(frame))])
    suite = suggest_suite(_csv(tmp_path, "s.csv", frame))
    assert _kinds(suite, "uuid") >= {"expect_column_values_to_be_unique", "expect_column_values_to_not_be_null"}
    assert "expect_column_values_to_be_in_set" not in _kinds(suite, "uuid")


def test_unique_measurements_that_are_not_ids_keep_their_range(tmp_path):
    """Distinct integers that neither are named as ids nor count up by one (a shuffled measurement) keep a range."""
    frame = sklearn_frame("iris").drop(columns=["sample_id"])
    frame.insert(0, "weight_g", [(i * 37) % 1000 + 5000 for i in range(len(frame))])
    suite = suggest_suite(_csv(tmp_path, "m.csv", frame))
    assert "expect_column_values_to_be_between" in _kinds(suite, "weight_g")


def test_a_column_with_nulls_or_repeats_is_not_an_identifier(tmp_path):
    frame = sklearn_frame("iris")
    frame["batch_id"] = [i // 10 for i in range(len(frame))]  # repeats: a grouping code with a closed set
    suite = suggest_suite(_csv(tmp_path, "r.csv", frame))
    assert "expect_column_values_to_be_unique" not in _kinds(suite, "batch_id")
    assert "expect_column_values_to_be_in_set" in _kinds(suite, "batch_id")
