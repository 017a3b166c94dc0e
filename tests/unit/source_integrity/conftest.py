"""Compiled pipelines for the lock and check tests: the bundled sample, and edited copies of it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfp_gates.components.common.kfp_ir import CompiledPipeline, parse_pipeline

from .sample_pipeline import BUNDLED

Change = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="session")
def sample_doc() -> dict[str, Any]:
    return yaml.safe_load(BUNDLED.read_text())


@pytest.fixture
def sample() -> CompiledPipeline:
    return parse_pipeline(BUNDLED.read_text(), str(BUNDLED))


@pytest.fixture
def edited(sample_doc: dict[str, Any], tmp_path: Path) -> Callable[[Change], CompiledPipeline]:
    """Apply ``change`` to a deep copy of the sample's IR, write it to a file and parse it back."""
    count = iter(range(1000))

    def make(change: Callable[[dict[str, Any]], None]) -> CompiledPipeline:
        doc = copy.deepcopy(sample_doc)
        change(doc)
        path = tmp_path / f"edited{next(count)}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return parse_pipeline(path.read_text(), str(path))

    return make
