"""Real data: the CSVs bundled with scikit-learn. Clean data passes; each injected defect blocks,
with a finding that names the column; suggest-suite drafts a suite with the same property."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kfp_gates.components.data_validation import validate_data
from kfp_gates.components.data_validation.suggest import suggest_suite

from .conftest import sklearn_frame


def _nulls(df, num, label):
    df.loc[df.index[3:13], num] = np.nan
    return df, num


def _out_of_range(df, num, label):
    df.loc[df.index[7], num] = float(df[num].max()) * 10 + 100
    return df, num


def _unseen_label(df, num, label):
    df.loc[df.index[11], label] = "unicorn"
    return df, label


def _duplicate_ids(df, num, label):
    df.loc[df.index[5], "sample_id"] = int(df.loc[df.index[4], "sample_id"])
    return df, "sample_id"


def _dropped_column(df, num, label):
    return df.drop(columns=[num]), num


def _too_few_rows(df, num, label):
    return df.head(20), None  # table-level: the finding is the row count


DEFECTS: dict[str, Callable] = {
    "nulls": _nulls,
    "out_of_range": _out_of_range,
    "unseen_label": _unseen_label,
    "duplicate_ids": _duplicate_ids,
    "dropped_column": _dropped_column,
    "too_few_rows": _too_few_rows,
}
DATASETS = {"iris": ("sepal_length", "species"), "wine": ("alcohol", "label"),
            "breast_cancer": ("mean_radius", "label")}


def _assert_blocks_naming(result, column: str | None) -> None:
    assert result.decision.value == "fail", result.to_json()
    assert result.exit_code == 1
    if column is None:
        assert any(f.id == "expect_table_row_count_to_be_between" for f in result.findings)
        return
    named = [f for f in result.findings if f.location is not None and f.location.field == column]
    assert named, f"no finding names column {column!r}: {[f.id for f in result.findings]}"
    assert all(column in f.message for f in named)


@pytest.fixture(scope="module")
def baselines(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Each dataset's clean CSV and the suite suggested from it."""
    root = tmp_path_factory.mktemp("baselines")
    out = {}
    for name in DATASETS:
        csv_path = root / f"{name}.csv"
        sklearn_frame(name).to_csv(csv_path, index=False)
        suite = suggest_suite(csv_path)
        suite_path = root / f"{name}.suite.json"
        from kfp_gates.components.data_validation.suggest import dump

        suite_path.write_text(dump(suite, suite_path))
        out[name] = (csv_path, suite_path)
    return out


def test_clean_iris_passes_the_handwritten_suite(iris_csv, iris_suite):
    result = validate_data(iris_csv, iris_suite)
    assert result.decision.value == "pass", result.to_json()
    assert result.findings == ()
    assert result.metadata["statistics"]["success_percent"] == 100.0
    assert result.metadata["rows"] == 150


@pytest.mark.parametrize("defect", DEFECTS)
def test_each_defect_blocks_the_handwritten_iris_suite(defect, iris_suite, tmp_path):
    df, column = DEFECTS[defect](sklearn_frame("iris"), "sepal_length", "species")
    bad = tmp_path / "iris-bad.csv"
    df.to_csv(bad, index=False)
    _assert_blocks_naming(validate_data(bad, iris_suite), column)


@pytest.mark.parametrize("dataset", DATASETS)
def test_suggested_suite_passes_its_clean_baseline(dataset, baselines):
    csv_path, suite_path = baselines[dataset]
    result = validate_data(csv_path, suite_path)
    assert result.decision.value == "pass", [f.message for f in result.findings]


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("defect", DEFECTS)
def test_suggested_suite_blocks_each_defect(dataset, defect, baselines, tmp_path):
    _, suite_path = baselines[dataset]
    num, label = DATASETS[dataset]
    df, column = DEFECTS[defect](sklearn_frame(dataset), num, label)
    bad = tmp_path / f"{dataset}-{defect}.csv"
    df.to_csv(bad, index=False)
    _assert_blocks_naming(validate_data(bad, suite_path), column)


def test_raw_sklearn_csv_with_its_metadata_line_is_unreadable_at_line_2(iris_suite):
    """sklearn's own wine_data.csv starts with a metadata line ("178,13,class_0,class_1,class_2", 5 fields)
    before 13-feature + target rows: read as a CSV with a header, the data is ragged from line 2 on."""
    import sklearn

    raw = Path(sklearn.__file__).parent / "datasets" / "data" / "wine_data.csv"
    result = validate_data(raw, iris_suite)
    assert result.decision.value == "fail"
    (finding,) = result.findings
    assert finding.id == "DV-UNREADABLE-DATA" and finding.location.line == 2
    assert finding.data["kind"] == "ragged" and "14 fields" in finding.message


def test_raw_sklearn_iris_csv_reads_but_fails_the_suite_naming_columns(iris_suite):
    """sklearn's own iris.csv has a 5-field metadata line as its header: readable, but none of the
    suite's columns exist, and each expectation says which column is missing."""
    import sklearn

    raw = Path(sklearn.__file__).parent / "datasets" / "data" / "iris.csv"
    result = validate_data(raw, iris_suite)
    assert result.decision.value == "fail"
    assert {"sepal_length", "species", "sample_id"} <= set(result.metadata["failing_columns"])
