"""What every engine returns: one outcome per expectation of the suite, in suite order.

Engines differ in how they read data and where GX computes (pandas in this
process, Spark in a JVM); they share how a GX validation result becomes
outcomes, so the same suite on the same data gives the same findings on both.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp_gates.components.common.redact import redact

from ..readers import CsvOptions, DataFormat
from ..suite import ExpectationSpec, Suite

INDEX_META_KEY = "kfp_gates_index"
_MAX_TEXT = 80  # characters kept of one unexpected value


@dataclass(frozen=True)
class ExpectationOutcome:
    """How one expectation fared. ``error`` is set when it could not be evaluated at all."""

    spec: ExpectationSpec
    success: bool
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    missing_count: int | None = None
    partial_unexpected: tuple[Any, ...] = ()
    error: str | None = None
    details: Any = None  # GX's "details" (e.g. missing/unexpected columns of a table expectation)


@dataclass(frozen=True)
class EngineRun:
    outcomes: tuple[ExpectationOutcome, ...]
    row_count: int
    columns: tuple[str, ...]


class ValidationEngine(ABC):
    """Runs a suite on a dataset file. Raises ``DataUnreadable`` when the data cannot be read."""

    name: str

    @abstractmethod
    def run(self, path: Path, fmt: DataFormat, csv_options: CsvOptions, suite: Suite,
            max_values: int) -> EngineRun:
        """Validate the file at ``path``; ``max_values`` caps the unexpected values kept per expectation."""


def result_format(max_values: int) -> dict[str, Any]:
    # BASIC: counts and a short list of unexpected *values* of the expectation's own
    # columns. Never COMPLETE (every unexpected index) and never unexpected rows.
    return {"result_format": "BASIC", "partial_unexpected_count": max(max_values, 1)}


def json_safe(value: Any, depth: int = 0) -> Any:
    """A JSON-serializable, size-bounded copy of a value GX returned (numpy, pandas, Spark types)."""
    if depth > 4:
        return _clip(repr(value))
    if value is None or isinstance(value, bool | int | str):
        # Values come from the data: credentials in them are redacted before they reach a report.
        return _clip(redact(value)) if isinstance(value, str) else value
    if isinstance(value, float):
        return None if math.isnan(value) else (str(value) if math.isinf(value) else value)
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return _clip(value.hex())  # hex cannot carry a credential's text shape; keep it short
    if isinstance(value, dict):
        items = list(value.items())[:50]
        return {str(k): json_safe(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        seq = list(value)
        return [json_safe(v, depth + 1) for v in seq[:50]]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return json_safe(item(), depth + 1)
        except (ValueError, TypeError):
            pass
    as_dict = getattr(value, "asDict", None)  # pyspark Row
    if callable(as_dict):
        return json_safe(as_dict(), depth + 1)
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return isoformat()
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return json_safe(tolist(), depth + 1)
    return _clip(str(value))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def outcomes_from_gx(suite: Suite, gx_result: Any, columns: Sequence[str], max_values: int) -> tuple[
        ExpectationOutcome, ...]:
    """Turn a GX ``ExpectationSuiteValidationResult`` into outcomes, in suite order.

    Each GX expectation carries its suite index in ``meta`` (set by
    :func:`gx_suite`), so results are matched exactly even when GX reorders
    them or two expectations are identical. An expectation GX did not report
    is an error outcome (fail closed), never a silent pass.
    """
    by_index: dict[int, Any] = {}
    for res in gx_result.results:
        meta = res.expectation_config.meta or {}
        if INDEX_META_KEY in meta:
            by_index[int(meta[INDEX_META_KEY])] = res
    present = set(columns)
    out: list[ExpectationOutcome] = []
    for spec in suite.expectations:
        res = by_index.get(spec.index)
        if res is None:
            out.append(ExpectationOutcome(spec=spec, success=False, error="the engine returned no result"))
            continue
        missing = [c for c in spec.columns if c not in present]
        info = res.exception_info or {}
        raised = bool(info.get("raised_exception")) if isinstance(info, dict) else False
        if missing:
            out.append(ExpectationOutcome(
                spec=spec, success=False,
                error=f"column {', '.join(map(repr, missing))} is not in the data"))
            continue
        if raised:
            message = str(info.get("exception_message") or "exception").splitlines()[0]
            out.append(ExpectationOutcome(spec=spec, success=False, error=_clip(message)))
            continue
        r = dict(res.result or {})
        partial = r.get("partial_unexpected_list") or []
        pct = r.get("unexpected_percent")
        out.append(ExpectationOutcome(
            spec=spec,
            success=bool(res.success),
            observed_value=json_safe(r.get("observed_value")),
            element_count=_int(r.get("element_count")),
            unexpected_count=_int(r.get("unexpected_count")),
            unexpected_percent=None if pct is None else round(float(pct), 6),
            missing_count=_int(r.get("missing_count")),
            partial_unexpected=tuple(json_safe(v) for v in list(partial)[:max_values]) if max_values else (),
            details=json_safe(r.get("details")) if r.get("details") is not None else None,
        ))
    return tuple(out)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def gx_suite(suite: Suite) -> Any:
    """The GX suite with each expectation tagged with its index (see :func:`outcomes_from_gx`)."""
    gx_s = suite.to_gx()
    for spec, exp in zip(suite.expectations, gx_s.expectations, strict=True):
        exp.meta = {**(exp.meta or {}), INDEX_META_KEY: spec.index}
    return gx_s
