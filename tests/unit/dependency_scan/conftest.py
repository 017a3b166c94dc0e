"""Fixtures of the dependency/image gate tests: the embedded advisories, test data paths, file writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kfp_gates.components.dependency_scan.advisories import AdvisorySet, EmbeddedSource
from kfp_gates.components.dependency_scan.matcher import AdvisoryIndex

DATA = Path(__file__).resolve().parents[2] / "data" / "dependency_scan"


@pytest.fixture(scope="session")
def embedded() -> AdvisorySet:
    return EmbeddedSource().load()


@pytest.fixture(scope="session")
def index(embedded: AdvisorySet) -> AdvisoryIndex:
    return AdvisoryIndex(embedded.advisories)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``tmp_path/name`` (creating folders) and return the path."""

    def _write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p

    return _write
