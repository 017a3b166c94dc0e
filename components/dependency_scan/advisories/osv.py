"""Read one OSV record (JSON or YAML, already loaded) into an :class:`Advisory`.

Matching needs: id, aliases, related, modified/published/withdrawn, severity,
and each PyPI ``affected`` entry's ECOSYSTEM ranges and ``versions`` list.
GIT ranges are dropped (they name commits, not releases). A record that lacks
what matching needs raises :class:`MalformedRecord`; the caller skips and
counts it. A version inside a range that is not PEP 440 is kept as written
and reported in ``notes`` (the matcher treats that bound as unknown, which
widens the range: fail closed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..model import Advisory, AffectedPackage, Event, normalize_name
from ..versions import canonical, parse

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class MalformedRecord(ValueError):
    """An advisory record cannot be used for matching."""


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 text (or a YAML datetime) to an aware UTC datetime; None when absent or unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if type(value) is list:
        kinds = set(map(type, value))  # one C-level pass: versions lists hold ~150k strings in total
        if kinds <= {str}:
            return tuple(value)
        if kinds <= {str, int, float}:
            return tuple(str(v) for v in value)
    raise MalformedRecord(f"{what} is not a list of strings")


def _summary(record: dict[str, Any]) -> str:
    text = record.get("summary") or record.get("details") or ""
    text = " ".join(str(text).split())
    first = text.split(". ")[0]
    return first if len(first) <= 200 else first[:197] + "..."


def _events(raw: Any, notes: list[str] | None, rid: str) -> tuple[Event, ...]:
    if not isinstance(raw, list) or not raw:
        raise MalformedRecord("ECOSYSTEM range has no events list")
    out: list[Event] = []
    for ev in raw:
        if not isinstance(ev, dict) or len(ev) != 1:
            raise MalformedRecord("range event is not a single-key mapping")
        ((kind, value),) = ev.items()
        if kind not in EVENT_KINDS:
            raise MalformedRecord(f"unknown range event {kind!r}")
        text = str(value).strip()
        if not text:
            raise MalformedRecord(f"empty {kind} version")
        # notes is None for a compact snapshot, which recorded these notes when it was built.
        if notes is not None and not (kind == "introduced" and text == "0") and parse(text) is None:
            notes.append(f"{rid}: {kind} version {text!r} is not PEP 440; that bound is treated as unknown")
        out.append(Event(kind, text))
    if not any(e.kind == "introduced" for e in out):
        raise MalformedRecord("ECOSYSTEM range has no introduced event")
    return tuple(out)


def _affected(entry: Any, notes: list[str], rid: str, canonical_versions: bool) -> AffectedPackage | None:
    if not isinstance(entry, dict):
        raise MalformedRecord("affected entry is not a mapping")
    pkg = entry.get("package")
    if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or not pkg["name"].strip():
        raise MalformedRecord("affected entry has no package name")
    if str(pkg.get("ecosystem", "")).split(":")[0].lower() != "pypi":
        return None
    ranges_raw = entry.get("ranges") or []
    if not isinstance(ranges_raw, list):
        raise MalformedRecord("ranges is not a list")
    ranges: list[tuple[Event, ...]] = []
    for r in ranges_raw:
        if not isinstance(r, dict) or "type" not in r:
            raise MalformedRecord("range without a type")
        if r["type"] == "ECOSYSTEM":
            ranges.append(_events(r.get("events"), None if canonical_versions else notes, rid))
        elif r["type"] not in ("GIT", "SEMVER"):
            raise MalformedRecord(f"unknown range type {r['type']!r}")
    listed = _strings(entry.get("versions"), "versions")
    versions = listed if canonical_versions else tuple(canonical(v) for v in listed)
    if not ranges and not versions:
        raise MalformedRecord(f"{pkg['name']}: no ECOSYSTEM range and no versions list")
    return AffectedPackage(name=normalize_name(pkg["name"]), ranges=tuple(ranges), versions=versions)


def parse_record(record: Any, *, canonical_versions: bool = False) -> tuple[Advisory, list[str]]:
    """Parse one OSV record. Returns the advisory (PyPI entries only) and notes on unparseable versions.

    ``canonical_versions`` says the ``versions`` lists are already in canonical
    PEP 440 form (the compact snapshot format), which saves re-normalising them.

    Raises :class:`MalformedRecord` when the record cannot be used.
    """
    if not isinstance(record, dict):
        raise MalformedRecord("record is not a mapping")
    rid = record.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise MalformedRecord("record has no id")
    notes: list[str] = []
    withdrawn = parse_time(record.get("withdrawn"))
    if record.get("withdrawn") and withdrawn is None:
        # An unreadable withdrawal date must not hide an advisory: keep reporting it.
        notes.append(f"{rid}: withdrawn value {record.get('withdrawn')!r} is not a date; record kept")
    affected_raw = record.get("affected")
    if withdrawn is not None:
        # A withdrawn record never matches; it is kept only to be counted, whatever its affected list holds.
        affected_raw = affected_raw if isinstance(affected_raw, list) else []
        try:
            affected = tuple(a for a in (_affected(e, [], rid, canonical_versions) for e in affected_raw) if a)
        except MalformedRecord:
            affected = ()
    else:
        if not isinstance(affected_raw, list) or not affected_raw:
            raise MalformedRecord("record has no affected list")
        affected = tuple(
            a for a in (_affected(e, notes, rid, canonical_versions) for e in affected_raw) if a is not None
        )
    severity: list[tuple[str, str]] = []
    for s in record.get("severity") or []:
        if isinstance(s, dict) and isinstance(s.get("type"), str) and isinstance(s.get("score"), str):
            severity.append((s["type"], s["score"]))
    db_sev = record.get("database_specific")
    db_severity = db_sev.get("severity") if isinstance(db_sev, dict) else None
    return (
        Advisory(
            id=rid.strip(),
            aliases=_strings(record.get("aliases"), "aliases"),
            related=_strings(record.get("related"), "related"),
            summary=_summary(record),
            modified=parse_time(record.get("modified")),
            published=parse_time(record.get("published")),
            withdrawn=withdrawn,
            severity=tuple(severity),
            database_severity=str(db_severity) if isinstance(db_severity, str) else None,
            affected=affected,
        ),
        notes,
    )
