"""One local SparkSession for the whole session (starting Spark is the expensive part)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from kfp_gates.components.data_validation.engines.spark import local_session

    session = local_session("local[2]")
    try:
        yield session
    finally:
        session.stop()
