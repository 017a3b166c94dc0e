"""Match dependencies against advisories, following the OSV specification.

An affected entry applies to a version when the version is in its
``versions`` list or inside one of its ECOSYSTEM ranges (both are used: the
two disagree in some real records). Ranges are evaluated with PEP 440
ordering: events sorted by version, ``introduced`` opens an affected span,
``fixed`` (exclusive) and ``last_affected`` (inclusive) close it; a span
left open is affected to infinity. At equal versions a closing event is
applied before an opening one, so "fixed in X, re-introduced in X" keeps X
affected. Some records list several introduced/fixed pairs out of order in
one range (pyspark, wagtail); when a range is such a list of pairs, each pair
is also applied as written, and the union is used: reading a record two ways
never hides a version either reading says is affected.

One exception protects fixed releases from sloppy lists: a listed version
that is PEP 440-equal to a ``fixed`` event of the same entry and lies in no
span is not affected (gevent lists ``23.9`` while its fix is ``23.9.0``).
Withdrawn records never match. Names compare after PEP 503 normalisation.

:class:`AdvisoryIndex` precomputes each package's spans once;
:func:`naive_match` evaluates the raw events of every record for every query
and exists as the reference the index is tested (and benchmarked) against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from .model import Advisory, AffectedPackage, Event, Match, normalize_name
from .versions import canonical, parse

# Closing events sort before an opening event at the same version (see the module docstring).
_KIND_ORDER = {"last_affected": 0, "fixed": 1, "limit": 2, "introduced": 3}


@dataclass(frozen=True)
class Span:
    """Affected versions ``lo <= v`` and ``v < hi`` (``v <= hi`` when ``hi_inclusive``); None is unbounded."""

    lo: Version | None
    hi: Version | None
    hi_inclusive: bool = False

    def contains(self, v: Version) -> bool:
        if self.lo is not None and v < self.lo:
            return False
        if self.hi is None:
            return True
        return v <= self.hi if self.hi_inclusive else v < self.hi


def _keyed(events: Iterable[Event]) -> list[tuple[Version | None, str]]:
    """Events with parsed versions. A bound that is not PEP 440 is unknown, which widens the span:
    an unreadable ``introduced`` means "from the first release", an unreadable closing event is dropped."""
    out: list[tuple[Version | None, str]] = []
    for e in events:
        if e.kind == "introduced":
            out.append((None if e.version == "0" else parse(e.version), e.kind))
        elif (v := parse(e.version)) is not None:
            out.append((v, e.kind))
    return out


def _walk(keyed: list[tuple[Version | None, str]]) -> list[Span]:
    spans: list[Span] = []
    open_lo: Version | None = None
    is_open = False
    for v, kind in keyed:
        if kind == "introduced":
            if not is_open:
                open_lo, is_open = v, True
        elif is_open:
            spans.append(Span(open_lo, v, hi_inclusive=(kind == "last_affected")))
            is_open = False
    if is_open:
        spans.append(Span(open_lo, None))
    return spans


def _pairs(keyed: list[tuple[Version | None, str]]) -> bool:
    """True when events are written as (introduced, closing) pairs, each pair ascending."""
    body = keyed[:-1] if len(keyed) % 2 else keyed
    if len(keyed) % 2 and keyed[-1][1] != "introduced":
        return False
    for (lo, k1), (hi, k2) in zip(body[::2], body[1::2], strict=True):
        if k1 != "introduced" or k2 == "introduced" or (lo is not None and hi is not None and hi < lo):
            return False
    return True


def spans_of(events: Iterable[Event]) -> tuple[Span, ...]:
    """The affected spans of one ECOSYSTEM range (sorted reading, plus the pairwise reading when it applies)."""
    keyed = _keyed(events)
    # None (introduced "0" or unknown) sorts before every version.
    ordered = sorted(keyed, key=lambda k: (k[0] is not None, k[0] or Version("0"), _KIND_ORDER[k[1]]))
    spans = _walk(ordered)
    if keyed != ordered and _pairs(keyed):
        for i in range(0, len(keyed), 2):
            spans.extend(s for s in _walk(keyed[i : i + 2]) if s not in spans)
    return tuple(spans)


@dataclass(frozen=True)
class _Entry:
    advisory: Advisory
    spans: tuple[Span, ...]
    versions: frozenset[str]
    fixed: tuple[Version, ...]  # every parseable fixed event, ascending
    fixed_canon: frozenset[str]
    has_ranges: bool

    def affects(self, v: Version | None, canon: str) -> str | None:
        in_range = v is not None and any(s.contains(v) for s in self.spans)
        in_list = canon in self.versions and (in_range or canon not in self.fixed_canon)
        if in_list and in_range:
            return "both"
        if in_range:
            return "range"
        if in_list:
            return "versions"
        return None


def _entry(adv: Advisory, aff: AffectedPackage) -> _Entry:
    spans: list[Span] = []
    fixed: set[Version] = set()
    for events in aff.ranges:
        spans.extend(spans_of(events))
        for e in events:
            if e.kind == "fixed" and (v := parse(e.version)) is not None:
                fixed.add(v)
    fixed_canon = frozenset(canonical(str(f)) for f in fixed)
    return _Entry(adv, tuple(spans), frozenset(aff.versions), tuple(sorted(fixed)), fixed_canon, bool(aff.ranges))


class AdvisoryIndex:
    """Advisories by normalised package name. Build once, query many times.

    A package's spans are compiled (versions parsed, events walked) the first
    time it is queried, so loading costs little and a scan pays only for the
    packages it touches; :meth:`compile_all` compiles everything up front.
    """

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        raw: dict[str, list[tuple[Advisory, AffectedPackage]]] = defaultdict(list)
        count = 0
        for adv in advisories:
            if adv.withdrawn is not None:
                continue
            count += 1
            for aff in adv.affected:
                raw[aff.name].append((adv, aff))
        self._raw = dict(raw)
        self._compiled: dict[str, list[_Entry]] = {}
        self.size = count

    def _entries(self, key: str) -> list[_Entry] | None:
        entries = self._compiled.get(key)
        if entries is None:
            pairs = self._raw.get(key)
            if pairs is None:
                return None
            entries = self._compiled[key] = [_entry(adv, aff) for adv, aff in pairs]
        return entries

    def compile_all(self) -> AdvisoryIndex:
        for key in self._raw:
            self._entries(key)
        return self

    def __contains__(self, name: str) -> bool:
        return normalize_name(name) in self._raw

    def packages(self) -> list[str]:
        return sorted(self._raw)

    def advisories_for(self, name: str) -> list[Advisory]:
        return [adv for adv, _ in self._raw.get(normalize_name(name), ())]

    def match(self, name: str, version: str) -> list[Match]:
        """Every advisory affecting ``name`` at ``version`` (exact version text, PEP 440 or legacy)."""
        entries = self._entries(normalize_name(name))
        if not entries:
            return []
        v = parse(version)
        canon = canonical(version)
        out: list[Match] = []
        for e in entries:
            via = e.affects(v, canon)
            if via is not None:
                fixes = tuple(str(f) for f in e.fixed if v is None or f > v)
                out.append(Match(e.advisory, fixes, via))  # type: ignore[arg-type]
        return out

    def ranges_unverifiable(self, name: str, version: str) -> bool:
        """True when ``version`` is not PEP 440 and some advisory of ``name`` has ranges it cannot be placed in."""
        if parse(version) is not None:
            return False
        return any(e.has_ranges for e in self._entries(normalize_name(name)) or ())

    def admitted(self, name: str, specifier: str) -> list[tuple[Advisory, str]]:
        """Advisories with an affected version that ``specifier`` admits, with one such version as evidence.

        Candidates are the advisory's listed versions and its range bounds
        (``introduced``, ``last_affected``); an unconstrained specifier admits
        every advisory.
        """
        entries = self._entries(normalize_name(name))
        if not entries:
            return []
        try:
            spec = SpecifierSet(specifier)
        except InvalidSpecifier:
            spec = SpecifierSet()
        out: list[tuple[Advisory, str]] = []
        for e in entries:
            if not str(spec):
                out.append((e.advisory, "any version"))
                continue
            candidates = set(e.versions)
            for s in e.spans:
                if s.lo is not None:
                    candidates.add(str(s.lo))
                if s.hi is not None and s.hi_inclusive:
                    candidates.add(str(s.hi))
            for c in sorted(candidates):
                v = parse(c)
                if v is not None and spec.contains(v, prereleases=True) and e.affects(v, canonical(c)):
                    out.append((e.advisory, c))
                    break
        return out


def naive_match(advisories: Iterable[Advisory], name: str, version: str) -> list[Advisory]:
    """Reference matcher: every record, every affected entry, every range evaluated for each query.

    No index and no precomputation (versions are parsed and events walked on
    every call), with the same semantics as :class:`AdvisoryIndex`; used to
    check the index and as the benchmark baseline.
    """
    key = normalize_name(name)
    v = parse(version)
    canon = canonical(version)
    out: list[Advisory] = []
    for adv in advisories:
        if adv.withdrawn is not None:
            continue
        for aff in adv.affected:
            if normalize_name(aff.name) != key:
                continue
            in_range = v is not None and any(s.contains(v) for r in aff.ranges for s in spans_of(r))
            fixed = {canonical(e.version) for r in aff.ranges for e in r if e.kind == "fixed"}
            in_list = canon in aff.versions and (in_range or canon not in fixed)
            if in_range or in_list:
                out.append(adv)
                break
    return out
