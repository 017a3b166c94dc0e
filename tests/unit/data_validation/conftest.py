"""Fixtures for the data-validation tests: real scikit-learn CSVs and suites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# The reviewed iris suite bundled with the demo (GX to_json_dict structure), written for ``iris_csv``.
IRIS_SUITE_PATH = Path(__file__).resolve().parents[3] / "pipelines" / "samples" / "data_validation" / "iris.suite.json"


def sklearn_frame(name: str):
    """A scikit-learn bundled dataset (read by sklearn from its CSV in sklearn/datasets/data/) as a DataFrame
    with an id column and the class as a string label."""
    from sklearn import datasets

    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer}[name]
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [c.replace(" (cm)", "").replace(" ", "_").replace("/", "_") for c in frame.columns]
    frame.insert(0, "sample_id", range(1, len(frame) + 1))
    names = list(bunch.target_names)
    frame["species" if name == "iris" else "label"] = [str(names[int(t)]) for t in frame.pop("target")]
    return frame


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dv-data")


@pytest.fixture(scope="session")
def iris_csv(data_dir: Path) -> Path:
    path = data_dir / "iris.csv"
    sklearn_frame("iris").to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def iris_suite() -> Path:
    return IRIS_SUITE_PATH


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write bytes or text to a file in the test's temp dir and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return p

    return _write
