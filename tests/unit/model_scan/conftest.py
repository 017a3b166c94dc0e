"""Generated corpora, built once per session (never loaded, only scanned)."""

from __future__ import annotations

import warnings

import pytest

from . import corpus


@pytest.fixture(scope="session")
def malicious_corpus() -> dict[str, bytes]:
    return corpus.malicious()


@pytest.fixture(scope="session")
def benign_corpus() -> dict[str, bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return corpus.benign()
