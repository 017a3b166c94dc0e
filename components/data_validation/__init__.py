"""Data-validation gate: Great Expectations suites on CSV, Parquet and JSON Lines, before training.

Public API (the engine; the KFP component is in :mod:`.component`)::

    from kfp_gates.components.data_validation import validate_data, load_suite, suggest_suite

Great Expectations is imported lazily, with analytics and every network
feature off (:mod:`._gx`); importing this package is cheap.
"""

from __future__ import annotations

from .readers import DATA_FORMATS, CsvOptions, DataProblem, DataUnreadable, detect_format
from .suite import ExpectationSpec, Suite, load_suite, parse_suite
from .validate import GATE, UNREADABLE, ValidationOptions, finding_id, validate_data

__all__ = [
    "DATA_FORMATS",
    "GATE",
    "UNREADABLE",
    "CsvOptions",
    "DataProblem",
    "DataUnreadable",
    "ExpectationSpec",
    "Suite",
    "ValidationOptions",
    "detect_format",
    "finding_id",
    "load_suite",
    "parse_suite",
    "suggest_suite",
    "validate_data",
]


def suggest_suite(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`kfp_gates.components.data_validation.suggest.suggest_suite`."""
    from .suggest import suggest_suite as _suggest

    return _suggest(*args, **kwargs)
