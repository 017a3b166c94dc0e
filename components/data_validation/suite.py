"""Expectation suites: GX's own JSON (``ExpectationSuite.to_json_dict()``) or YAML of the same structure.

A suite is checked completely before any data is read: every expectation type
must be one GX knows and every argument must be one that expectation accepts,
so a typo (``max_vlaue``) is a configuration error naming the expectation, the
argument and the line (exit 2) rather than a check that silently never runs.
Suites written by GX 0.x (``expectation_type``, ``expectation_suite_name``)
are read too.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfp_gates.components.common.digest import sha256_bytes
from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.yamlio import LoadedDocument, parse_document

from ._gx import import_gx

_SUITE_KEYS = {"name", "id", "expectations", "meta", "notes", "expectation_suite_name", "data_asset_type",
               "ge_cloud_id"}
_EXPECTATION_KEYS = {"type", "expectation_type", "kwargs", "meta", "severity", "id", "notes", "description",
                     "rendered_content", "ge_cloud_id", "expectation_context"}
# Arguments the gate controls itself: result size is capped, and an expectation that
# raises must become a finding, never abort the run or be hidden.
_GATE_CONTROLLED = ("result_format", "catch_exceptions", "include_config")
SEVERITIES = ("critical", "warning", "info")
COLUMN_ARGS = ("column", "column_A", "column_B", "column_list")


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation as written in the suite, with where it was written."""

    index: int
    type: str
    kwargs: dict[str, Any]
    severity: str = "critical"
    meta: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    line: int | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the expectation names (empty for table-level expectations)."""
        out: list[str] = []
        for key in COLUMN_ARGS:
            value = self.kwargs.get(key)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list | tuple):
                out.extend(str(v) for v in value)
        return tuple(out)

    @property
    def column(self) -> str | None:
        cols = self.columns
        return ",".join(cols) if cols else None

    @property
    def is_table_level(self) -> bool:
        return self.type.startswith("expect_table_")

    def expected(self) -> dict[str, Any]:
        """The arguments that say what is expected (everything but the column names)."""
        return {k: v for k, v in self.kwargs.items() if k not in COLUMN_ARGS and k not in _GATE_CONTROLLED}

    def to_json_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "kwargs": dict(self.kwargs), "meta": dict(self.meta),
                               "severity": self.severity}
        if self.id:
            out["id"] = self.id
        return out


@dataclass(frozen=True)
class Suite:
    """A validated expectation suite. ``sha256`` is the digest of the suite file's bytes."""

    name: str
    expectations: tuple[ExpectationSpec, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = "<suite>"
    sha256: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        """The suite in GX 1.x ``to_json_dict()`` form."""
        return {"name": self.name, "id": None, "expectations": [e.to_json_dict() for e in self.expectations],
                "meta": dict(self.meta), "notes": None}

    def to_gx(self) -> Any:
        """A ``great_expectations.ExpectationSuite`` with the gate-controlled arguments removed."""
        gx = import_gx()
        return gx.ExpectationSuite(name=self.name, expectations=[_domain_object(e) for e in self.expectations])


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file. Raises InputNotFoundError / ConfigError (exit 2)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputNotFoundError("suite not found", where=str(p)) from None
    except IsADirectoryError:
        raise InputNotFoundError("suite is a directory, expected a JSON or YAML file", where=str(p)) from None
    except PermissionError:
        raise InputNotFoundError("suite is not readable (permission denied)", where=str(p)) from None
    return parse_suite(raw, str(p))


def parse_suite(raw: bytes | str, name: str = "<suite>") -> Suite:
    """Validate suite text (JSON or YAML). Raises ConfigError naming the problem and its line."""
    data_bytes = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"suite is not UTF-8 text (byte {exc.start})", where=name) from None
    doc = parse_document(text, name, what="suite")
    return _from_document(doc, sha256_bytes(data_bytes))


def _where(doc: LoadedDocument, *loc: str | int) -> str:
    line = doc.line_of(tuple(loc))
    return f"{doc.path}:{line}" if line else doc.path


def _from_document(doc: LoadedDocument, digest: str) -> Suite:
    data = doc.data
    hint = "write the suite with ExpectationSuite.to_json_dict(), or start from `kfp-gates suggest-suite`"
    if not isinstance(data, dict):
        raise ConfigError("suite must be a mapping with 'name' and 'expectations'", where=doc.path, hint=hint)
    unknown = sorted(str(k) for k in data if k not in _SUITE_KEYS)
    if unknown:
        raise ConfigError(f"unknown suite key {unknown[0]!r}", where=_where(doc, unknown[0]),
                          hint=f"valid keys: {', '.join(sorted(_SUITE_KEYS))}")
    name = data.get("name", data.get("expectation_suite_name"))
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("suite has no 'name'", where=doc.path, hint=hint)
    items = data.get("expectations")
    if not isinstance(items, list):
        raise ConfigError("suite 'expectations' must be a list", where=_where(doc, "expectations"), hint=hint)
    if not items:
        # An empty suite would pass any data at all: refuse it rather than pass.
        raise ConfigError("suite has no expectations, so it cannot vouch for any data",
                          where=_where(doc, "expectations"), hint=hint)
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise ConfigError("suite 'meta' must be a mapping", where=_where(doc, "meta"))
    specs = tuple(_expectation(doc, i, item) for i, item in enumerate(items))
    return Suite(name=name, expectations=specs, meta=meta, source=doc.path, sha256=digest)


def _expectation(doc: LoadedDocument, index: int, item: Any) -> ExpectationSpec:
    where = _where(doc, "expectations", index)
    label = f"expectations[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{label} must be a mapping with 'type' and 'kwargs'", where=where)
    unknown = sorted(str(k) for k in item if k not in _EXPECTATION_KEYS)
    if unknown:
        raise ConfigError(f"{label}: unknown key {unknown[0]!r}", where=_where(doc, "expectations", index, unknown[0]),
                          hint="an expectation has 'type', 'kwargs', 'meta', 'severity' and optionally 'id'")
    etype = item.get("type", item.get("expectation_type"))
    if not isinstance(etype, str) or not etype:
        raise ConfigError(f"{label} has no 'type'", where=where)
    kwargs = item.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{label} ({etype}): 'kwargs' must be a mapping", where=_where(doc, "expectations", index,
                                                                                         "kwargs"))
    severity = item.get("severity", "critical")
    if severity not in SEVERITIES:
        raise ConfigError(f"{label} ({etype}): unknown severity {severity!r}",
                          where=_where(doc, "expectations", index, "severity"),
                          hint=f"choose one of: {', '.join(SEVERITIES)}")
    meta = item.get("meta") or {}
    if not isinstance(meta, dict):
        raise ConfigError(f"{label} ({etype}): 'meta' must be a mapping", where=where)
    spec = ExpectationSpec(index=index, type=etype, kwargs=kwargs, severity=severity, meta=meta,
                           id=item.get("id") or None, line=doc.line_of(("expectations", index)))
    _check_with_gx(spec, doc)
    return spec


def known_expectation_types() -> list[str]:
    import_gx()
    from great_expectations.expectations.registry import list_registered_expectation_implementations

    return sorted(list_registered_expectation_implementations())


def _domain_object(spec: ExpectationSpec) -> Any:
    import_gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.metadata_types import FailureSeverity

    kwargs = {k: v for k, v in spec.kwargs.items() if k not in _GATE_CONTROLLED}
    config = ExpectationConfiguration(type=spec.type, kwargs=kwargs, meta=dict(spec.meta),
                                      severity=FailureSeverity(spec.severity), id=spec.id)
    return config.to_domain_obj()


def _check_with_gx(spec: ExpectationSpec, doc: LoadedDocument) -> None:
    """Build the GX expectation once so GX's own model rejects unknown types and arguments."""
    import_gx()
    from great_expectations.exceptions import ExpectationNotFoundError, InvalidExpectationConfigurationError

    label = f"expectations[{spec.index}]"
    known = known_expectation_types()
    if spec.type not in known:
        close = difflib.get_close_matches(spec.type, known, n=1, cutoff=0.7)
        raise ConfigError(
            f"{label}: unknown expectation type {spec.type!r}",
            where=_where(doc, "expectations", spec.index, "type"),
            hint=f"did you mean {close[0]!r}?" if close else "see the GX Expectation Gallery for GX Core's types",
        )
    try:
        _domain_object(spec)
    except ExpectationNotFoundError:  # pragma: no cover - the registry check above catches it first
        raise ConfigError(f"{label}: unknown expectation type {spec.type!r}") from None
    except (InvalidExpectationConfigurationError, ValueError, TypeError) as exc:
        raise _argument_error(spec, doc, exc) from None


def _argument_error(spec: ExpectationSpec, doc: LoadedDocument, exc: Exception) -> ConfigError:
    label = f"expectations[{spec.index}] ({spec.type})"
    errors = _pydantic_errors(exc)
    for err in errors:
        loc = err.get("loc") or ()
        arg = str(loc[0]) if loc else ""
        if "extra" in str(err.get("type", "")):
            return ConfigError(f"{label}: unknown argument {arg!r}",
                               where=_where(doc, "expectations", spec.index, "kwargs", arg),
                               hint=f"{spec.type} accepts: {', '.join(_accepted_args(spec.type))}")
    for err in errors:
        loc = err.get("loc") or ()
        arg = str(loc[0]) if loc else ""
        if arg and arg != "__root__":
            return ConfigError(f"{label}: invalid argument {arg!r}: {err.get('msg', 'invalid value')}",
                               where=_where(doc, "expectations", spec.index, "kwargs", arg))
    if errors:
        return ConfigError(f"{label}: {errors[0].get('msg', 'invalid arguments')}",
                           where=_where(doc, "expectations", spec.index, "kwargs"))
    return ConfigError(f"{label}: invalid arguments: {_short(str(exc))}",
                       where=_where(doc, "expectations", spec.index, "kwargs"))


def _pydantic_errors(exc: Exception) -> list[Mapping[str, Any]]:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return list(errors())
        except Exception:  # noqa: BLE001 - any failure here just means "no structured errors"
            return []
    return []


def _accepted_args(etype: str) -> list[str]:
    import_gx()
    from great_expectations.expectations.registry import get_expectation_impl

    impl = get_expectation_impl(etype)
    fields = getattr(impl, "__fields__", {})
    hidden = {"id", "meta", "notes", "result_format", "description", "catch_exceptions", "rendered_content",
              "severity", "windows", "batch_id"}
    return sorted(f for f in fields if f not in hidden) or ["(see GX docs)"]


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dump_suite_json(suite: Suite) -> str:
    return json.dumps(suite.to_json_dict(), indent=2, default=str) + "\n"
