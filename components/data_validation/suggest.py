"""Draft a suite from a trusted baseline dataset (GX 1.0 removed its profilers; this is the replacement).

The draft states what the baseline shows, widened by margins, for a person
to review before it guards anything:

* the set of columns, and the type of each non-string column (a type list both engines accept);
* null proportions: ``not_be_null`` (with ``mostly`` when the baseline has nulls);
* numeric ranges, widened by ``margin`` of the observed span (never below 0 for non-negative data);
* value sets for low-cardinality columns (at most ``max_categories`` distinct values);
* uniqueness of columns whose values are all distinct (integers, strings);
* identifiers: no range and no value set, only uniqueness and not-null. An identifier is a column without
  nulls whose values are all distinct and whose name says so (``id``, ``*_id``, ``*Id``, ``uuid``, ``key``)
  or whose integers count up one by one (a row number): the next batch's ids lie beyond the baseline's;
* row-count bounds (``row_count_margin`` either side of the baseline's count).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp_gates.components.common.digest import sha256_file
from kfp_gates.components.common.errors import ConfigError

from .readers import CsvOptions, DataUnreadable, check_readable, default_csv_options, detect_format, read_table
from .suite import ExpectationSpec, Suite, parse_suite

# pandas dtype names (pandas engine) and Spark type names (Spark engine) per kind.
TYPE_LISTS: dict[str, list[str]] = {
    "int": ["int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8", "Int64",
            "IntegerType", "LongType", "ShortType", "ByteType"],
    "float": ["float64", "float32", "Float64", "DoubleType", "FloatType"],
    "bool": ["bool", "boolean", "BooleanType"],
    "datetime": ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]", "datetime64[ns, UTC]",
                 "datetime64[us, UTC]", "TimestampType", "TimestampNTZType", "DateType", "object"],
}
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key)$|^(id|uuid)_|Id$", re.IGNORECASE)


@dataclass(frozen=True)
class SuggestOptions:
    margin: float = 0.1
    max_categories: int = 20
    row_count_margin: float = 0.5
    name: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.margin <= 10:
            raise ConfigError("margin must be between 0 and 10 (a fraction of the observed range)")
        if not 1 <= self.max_categories <= 1000:
            raise ConfigError("max_categories must be between 1 and 1000")
        if not 0 <= self.row_count_margin < 1:
            raise ConfigError("row_count_margin must be in [0, 1)")


def _kind(arrow_type: Any) -> str | None:
    import pyarrow.types as pt

    if pt.is_boolean(arrow_type):
        return "bool"
    if pt.is_integer(arrow_type):
        return "int"
    if pt.is_floating(arrow_type) or pt.is_decimal(arrow_type):
        return "float"
    if pt.is_string(arrow_type) or pt.is_large_string(arrow_type) or pt.is_dictionary(arrow_type):
        return "string"
    if pt.is_timestamp(arrow_type) or pt.is_date(arrow_type):
        return "datetime"
    return None


def _outward(value: float, up: bool) -> float:
    """Round to 6 significant digits, away from the data (so the bound never cuts a baseline value)."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 6 - math.floor(math.log10(abs(value))) - 1
    rounded = round(value, digits)
    if up and rounded < value:
        rounded += 10.0 ** -digits
    elif not up and rounded > value:
        rounded -= 10.0 ** -digits
    return round(rounded, max(digits, 0))


def _range(lo: float, hi: float, kind: str, margin: float) -> tuple[float, float]:
    span = hi - lo
    pad = span * margin if span > 0 else (abs(lo) * margin or 1.0)
    new_lo, new_hi = lo - pad, hi + pad
    if lo >= 0:
        new_lo = max(0.0, new_lo)  # non-negative in the baseline: stay non-negative
    if kind == "int":
        return float(math.floor(new_lo)), float(math.ceil(new_hi))
    return _outward(new_lo, up=False), _outward(new_hi, up=True)


def _num(v: float, kind: str) -> int | float:
    return int(v) if kind == "int" else v


def _is_identifier(name: str, col: Any, kind: str, rows: int, distinct: int) -> bool:
    """All values present and distinct, and the name says identifier or the integers count up by one."""
    import pyarrow.compute as pc

    if kind not in ("int", "string") or col.null_count or rows < 2 or distinct != rows:
        return False
    if _ID_NAME.search(name):
        return True
    if kind != "int":
        return False
    mm = pc.min_max(col).as_py()
    if mm["max"] - mm["min"] != rows - 1:
        return False
    values = col.to_numpy() if col.num_chunks == 1 else col.combine_chunks().to_numpy()
    return bool((values[1:] > values[:-1]).all())  # monotonic: a row counter, not a shuffled code


def suggest_suite(
    data: str | Path,
    *,
    options: SuggestOptions | None = None,
    data_format: str | None = None,
    csv_options: CsvOptions | None = None,
) -> Suite:
    """Profile ``data`` and return a draft suite (validated by GX like any loaded suite).

    Raises ConfigError for unusable options or a baseline that cannot be read
    (a baseline is trusted input; one that does not parse cannot define a suite).
    """
    import pyarrow.compute as pc

    opts = options or SuggestOptions()
    path = check_readable(data)
    fmt = detect_format(path, data_format)
    try:
        table = read_table(path, fmt, csv_options or default_csv_options(path))
    except DataUnreadable as exc:
        raise ConfigError(f"the baseline cannot be read: {exc.problem.reason}",
                          where=f"{path}:{exc.problem.line}" if exc.problem.line else str(path),
                          hint="a suite can only be suggested from clean, trusted data") from None
    rows = table.num_rows
    items: list[dict[str, Any]] = [
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": list(table.column_names), "exact_match": True}},
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": max(1, math.floor(rows * (1 - opts.row_count_margin))),
                    "max_value": math.ceil(rows * (1 + opts.row_count_margin))}},
    ]
    for name in table.column_names:
        col = table.column(name)
        kind = _kind(col.type)
        nulls = col.null_count
        valid = rows - nulls
        # No type check for strings: GX 1.24 cannot match pandas 3's `str` dtype by
        # any type name; value sets and uniqueness constrain string columns instead.
        if kind is not None and kind != "string":
            types = list(TYPE_LISTS[kind])
            if nulls and kind == "int":
                types.append("float64")  # pandas stores an integer column with missing values as float64
            if nulls and kind == "bool":
                types.append("object")
            items.append({"type": "expect_column_values_to_be_in_type_list",
                          "kwargs": {"column": name, "type_list": types}})
        if nulls == 0:
            items.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": name}})
        elif valid > 0:
            null_share = nulls / rows
            mostly = max(0.0, math.floor((1 - null_share * (1 + opts.margin) - 1e-9) * 1000) / 1000)
            items.append({"type": "expect_column_values_to_not_be_null",
                          "kwargs": {"column": name, "mostly": mostly},
                          "meta": {"baseline_null_percent": round(100 * null_share, 3)}})
        if valid == 0 or kind is None:
            continue
        distinct = pc.count_distinct(col, mode="only_valid").as_py()
        if _is_identifier(name, col, kind, rows, distinct):
            # A range or value set would fail the next batch, whose ids lie beyond the baseline's.
            items.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": name},
                          "meta": {"identifier": True}})
            continue
        if kind in ("int", "string", "bool") and distinct <= opts.max_categories and distinct < max(valid, 2):
            values = sorted(v for v in pc.unique(col.drop_null()).to_pylist())
            items.append({"type": "expect_column_values_to_be_in_set",
                          "kwargs": {"column": name, "value_set": values}})
        elif kind in ("int", "float"):
            mm = pc.min_max(col).as_py()
            lo, hi = _range(float(mm["min"]), float(mm["max"]), kind, opts.margin)
            items.append({"type": "expect_column_values_to_be_between",
                          "kwargs": {"column": name, "min_value": _num(lo, kind), "max_value": _num(hi, kind)},
                          "meta": {"baseline_min": mm["min"], "baseline_max": mm["max"]}})
        if nulls == 0 and distinct == rows and rows > 1 and (
                _ID_NAME.search(name) or kind in ("int", "string")):
            items.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": name}})
    doc = {
        "name": opts.name or f"{path.stem}-suggested",
        "expectations": items,
        "meta": {"kfp_gates": {"generated_by": "kfp-gates suggest-suite", "status": "draft: review before use",
                               "baseline": path.name, "baseline_sha256": sha256_file(path), "baseline_rows": rows,
                               "margin": opts.margin, "max_categories": opts.max_categories}},
    }
    import json

    # Round-trip through the loader: the draft is held to the same checks as a hand-written suite.
    return parse_suite(json.dumps(doc), name=f"<suggested from {path.name}>")


def dump(suite: Suite, target: str | Path) -> str:
    """Suite text for ``target``: YAML for .yaml/.yml, GX JSON otherwise."""
    import json

    data = suite.to_json_dict()
    if Path(target).suffix.lower() in (".yaml", ".yml"):
        import yaml

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


__all__ = ["TYPE_LISTS", "ExpectationSpec", "SuggestOptions", "dump", "suggest_suite"]
