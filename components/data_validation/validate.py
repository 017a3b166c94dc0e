"""The data-validation gate: a dataset file, a suite, a policy in; a GateResult out.

The result's subject is the sha256 of the file's bytes, and the file must be
unchanged (size, inode, mtime and ctime) between hashing and the end of
validation, so the verdict is bound to exactly the bytes that were checked.
Data that cannot be read is a blocking finding naming the line; an
expectation that cannot be evaluated (a column the suite names is missing)
fails; only a usage error (missing file, invalid suite) raises.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kfp_gates.components.common.digest import sha256_file
from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import Clock, GateSettings, finalize
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity

from .engines import EngineRun, ExpectationOutcome, ValidationEngine, make_engine
from .readers import CsvOptions, DataProblem, DataUnreadable, check_readable, default_csv_options, detect_format
from .suite import ExpectationSpec, Suite, load_suite

GATE = "data_validation"
UNREADABLE = "DV-UNREADABLE-DATA"
CHANGED = "DV-DATA-CHANGED"
MAX_VALUES_LIMIT = 20
# GX's own expectation severities, mapped onto the gate's scale. A failed
# "critical" expectation (GX's default) blocks in every tier that blocks.
_SEVERITY = {"critical": Severity.HIGH, "warning": Severity.LOW, "info": Severity.INFO}


@dataclass(frozen=True)
class ValidationOptions:
    """How to run: engine, data format (default: from the file name), CSV options, values kept per finding."""

    engine: str = "pandas"
    data_format: str | None = None
    csv: CsvOptions | None = None
    max_unexpected_values: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.max_unexpected_values <= MAX_VALUES_LIMIT:
            raise ConfigError(f"max_unexpected_values must be between 0 and {MAX_VALUES_LIMIT}",
                              hint="0 keeps no data values in findings and reports")


def _identity(path: Path) -> tuple[int, ...]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def validate_data(
    data: str | os.PathLike[str],
    suite: Suite | str | os.PathLike[str],
    *,
    settings: GateSettings | None = None,
    options: ValidationOptions | None = None,
    engine: ValidationEngine | None = None,
    subject_name: str | None = None,
) -> GateResult:
    """Validate ``data`` against ``suite`` and decide.

    Raises :class:`InputNotFoundError` / :class:`ConfigError` (exit 2) for a
    missing file, an unknown format or an invalid suite. Never raises for bad
    data: that is a finding.
    """
    clock = Clock()
    opts = options or ValidationOptions()
    path = check_readable(Path(data))
    fmt = detect_format(path, opts.data_format)
    csv_options = opts.csv or default_csv_options(path)
    spec = suite if isinstance(suite, Suite) else load_suite(Path(suite))
    runner = engine or make_engine(opts.engine)
    before = _identity(path)
    digest = sha256_file(path)
    name = subject_name or path.name

    run: EngineRun | None = None
    findings: list[Finding]
    try:
        run = runner.run(path, fmt, csv_options, spec, opts.max_unexpected_values)
        findings = [finding_for(o, name) for o in run.outcomes if not o.success]
    except DataUnreadable as exc:
        findings = [_unreadable(exc.problem, name)]
    if _identity(path) != before:
        findings.append(Finding(id=CHANGED, severity=Severity.CRITICAL, location=Location(path=name),
                                message="the file changed while it was being validated; the verdict cannot be "
                                        "bound to its bytes"))
    metadata = _metadata(spec, run, runner.name, fmt, findings)
    extra = {"engine": runner.name, "suite": spec.name, "suite_sha256": spec.sha256,
             "max_unexpected_values": opts.max_unexpected_values}
    base = settings or GateSettings()
    return finalize(
        gate=GATE,
        subject=Subject(name=name, digest={"sha256": digest}),
        tool=Tool(name="great_expectations", version=_gx_version()),
        findings=findings,
        settings=replace(base, extra={**base.extra, **extra}),
        started_at=clock.started_at,
        metadata=metadata,
    )


def _gx_version() -> str:
    from ._gx import gx_version

    return gx_version()


def _unreadable(problem: DataProblem, name: str) -> Finding:
    return Finding(
        id=UNREADABLE,
        severity=Severity.CRITICAL,
        message=f"the data cannot be read, so it cannot be validated: {problem.reason}",
        location=Location(path=name, line=problem.line),
        data={"kind": problem.kind, "line": problem.line},
    )


def finding_id(spec: ExpectationSpec) -> str:
    """Stable id a waiver can name: ``<expectation type>:<column>`` (the type alone for table-level ones)."""
    return f"{spec.type}:{spec.column}" if spec.column else spec.type


def describe_expected(spec: ExpectationSpec, limit: int = 12) -> str:
    """The expectation's arguments as short text (long value sets are cut)."""
    parts = []
    for key, value in spec.expected().items():
        if isinstance(value, list | tuple | set) and len(value) > limit:
            shown = ", ".join(repr(v) for v in list(value)[:limit])
            parts.append(f"{key}=[{shown}, … {len(value) - limit} more]")
        else:
            parts.append(f"{key}={value!r}")
    return ", ".join(parts)


def describe_observed(o: ExpectationOutcome) -> str:
    if o.error:
        return f"not evaluated: {o.error}"
    if o.unexpected_count is not None:
        pct = f" ({o.unexpected_percent:.4g}%)" if o.unexpected_percent is not None else ""
        total = f" of {o.element_count}" if o.element_count is not None else ""
        return f"{o.unexpected_count} unexpected{total}{pct}"
    return f"observed {o.observed_value!r}"


def finding_for(o: ExpectationOutcome, name: str) -> Finding:
    """The finding for a failed (or unevaluable) expectation: type, column, observed, counts, a few values."""
    spec = o.spec
    severity = _SEVERITY[spec.severity]
    if o.error:
        # Not evaluated means not proven: at least high, whatever the suite's severity says.
        severity = max(severity, Severity.HIGH)
    subject = f"column {spec.column!r}" if spec.column else "table"
    if o.error:
        message = f"{subject}: {spec.type} could not be evaluated: {o.error}"
    else:
        message = f"{subject}: {spec.type} failed: {describe_observed(o)}"
    expected = describe_expected(spec)
    if expected:
        message += f"; expected {expected}"
    if o.partial_unexpected:
        message += f"; e.g. {', '.join(repr(v) for v in o.partial_unexpected)}"
    missing, extra = _column_mismatch(o.details)
    field = spec.column
    if missing or extra:
        # A table expectation on the column set: name the columns, so a dropped column is named.
        message += "".join([f"; missing column(s): {', '.join(map(repr, missing))}" if missing else "",
                            f"; unexpected column(s): {', '.join(map(repr, extra))}" if extra else ""])
        field = ",".join(missing + extra)
    data: dict[str, Any] = {
        "expectation_type": spec.type,
        "expectation_index": spec.index,
        "column": spec.column,
        "expected": _json_expected(spec),
        "observed_value": o.observed_value,
        "element_count": o.element_count,
        "unexpected_count": o.unexpected_count,
        "unexpected_percent": o.unexpected_percent,
        "missing_count": o.missing_count,
        "partial_unexpected_values": list(o.partial_unexpected),
        "gx_severity": spec.severity,
    }
    if o.error:
        data["error"] = o.error
    if o.details is not None:
        data["details"] = o.details
    if spec.id:
        data["aliases"] = [spec.id]
    return Finding(id=finding_id(spec), severity=severity, message=message,
                   location=Location(path=name, field=field or None), data=data)


def _column_mismatch(details: Any) -> tuple[list[str], list[str]]:
    """(missing, unexpected) column names from GX's details of a column-set/ordered-list expectation."""
    if not isinstance(details, dict):
        return [], []
    mismatched = details.get("mismatched")
    if isinstance(mismatched, dict):
        return ([str(c) for c in mismatched.get("missing") or []],
                [str(c) for c in mismatched.get("unexpected") or []])
    if isinstance(mismatched, list):  # ordered list: positions; name the expected columns not found there
        return sorted({str(m.get("Expected")) for m in mismatched if isinstance(m, dict) and m.get("Expected")}), []
    return [], []


def _json_expected(spec: ExpectationSpec) -> dict[str, Any]:
    from .engines.interface import json_safe

    return {k: json_safe(v) for k, v in spec.expected().items()}


def _metadata(suite: Suite, run: EngineRun | None, engine: str, fmt: str, findings: list[Finding]) -> dict[str, Any]:
    from .engines.interface import json_safe

    rows: list[dict[str, Any]] = []
    if run is None:
        for spec in suite.expectations:
            rows.append({"index": spec.index, "type": spec.type, "column": spec.column,
                         "expected": describe_expected(spec), "status": "not run", "observed": "",
                         "unexpected_count": None, "unexpected_percent": None, "values": []})
    else:
        for o in run.outcomes:
            status = "error" if o.error else ("pass" if o.success else "fail")
            rows.append({"index": o.spec.index, "type": o.spec.type, "column": o.spec.column,
                         "expected": describe_expected(o.spec), "status": status,
                         "severity": o.spec.severity,
                         "observed": describe_observed(o) if (o.unexpected_count is not None or o.error)
                         else json_safe(o.observed_value),
                         "unexpected_count": o.unexpected_count, "unexpected_percent": o.unexpected_percent,
                         "values": list(o.partial_unexpected)})
    evaluated = sum(1 for r in rows if r["status"] in ("pass", "fail"))
    passed = sum(1 for r in rows if r["status"] == "pass")
    total = len(rows)
    failing_columns = sorted({c for r in rows if r["status"] in ("fail", "error") and r["column"]
                              for c in str(r["column"]).split(",")}
                             | {c for f in findings if f.location and f.location.field and not f.data.get("column")
                                for c in f.location.field.split(",")})
    return {
        "engine": engine,
        "data_format": fmt,
        "rows": run.row_count if run else None,
        "columns": list(run.columns) if run else [],
        "failing_columns": failing_columns,
        "suite": {"name": suite.name, "sha256": suite.sha256, "source": Path(suite.source).name,
                  "expectations": total},
        "statistics": {
            "expectations": total,
            "evaluated": evaluated,
            "successful": passed,
            "failed": total - passed,
            "success_percent": round(100.0 * passed / total, 2) if total else 0.0,
            "unexpected_rows": sum(r["unexpected_count"] or 0 for r in rows if r["status"] == "fail"),
        },
        "expectations": rows,
        "readable": run is not None,
        "blocking_reason": next((f.message for f in findings if f.id == UNREADABLE), None),
    }
