"""Per-package upgrade advice: the smallest version that fixes every advisory of an installed version.

What pip-audit and Trivy users read first: "upgrade requests 2.19.0 to 2.32.0,
fixes 7 advisories". The candidate versions are the advisories' own ``fixed``
events; each candidate is checked against the same :class:`AdvisoryIndex` that
found the advisories, so a fix on another release branch (fixed in 1.2.5 for
1.2.x and in 1.3.1 for 1.3.x) is judged by the ranges, not by the highest number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .matcher import AdvisoryIndex
from .model import Match
from .versions import parse


@dataclass(frozen=True)
class Upgrade:
    """The upgrade advice for one installed ``package==version``.

    ``fixes`` and ``unfixed`` hold finding ids (one per vulnerability, aliases
    merged) and together cover every advisory of the version. ``fix_version``
    is None when no advisory names a fixed version; when no single version
    clears them all, it is the smallest one that clears the most, and the rest
    are in ``unfixed``. ``introduced`` lists advisories known to affect
    ``fix_version`` that do not affect the installed version.
    """

    package: str
    version: str
    fix_version: str | None
    fixes: tuple[str, ...]
    unfixed: tuple[str, ...]
    introduced: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "fix_version": self.fix_version,
            "fixes": list(self.fixes),
            "unfixed": list(self.unfixed),
            "introduced": list(self.introduced),
        }


def plan(package: str, version: str, groups: Sequence[Sequence[Match]], index: AdvisoryIndex) -> Upgrade:
    """Upgrade advice for ``package==version`` whose advisories are ``groups`` (as the engine merges them).

    A group is fixed by a candidate when none of its advisories matches the
    candidate. Candidates are tried lowest first; the first that fixes every
    group wins. Never raises for data: unparseable fixed versions are skipped.
    """
    ids = [g[0].advisory.id for g in groups]
    current = {m.advisory.id for g in groups for m in g}
    parsed = {(v, f) for g in groups for m in g for f in m.fixed if (v := parse(f)) is not None}
    candidates = [f for _v, f in sorted(parsed)]
    best: tuple[str, list[str], set[str]] | None = None
    for candidate in candidates:
        still = {m.advisory.id for m in index.match(package, candidate)}
        cleared = [gid for gid, g in zip(ids, groups, strict=True) if not {m.advisory.id for m in g} & still]
        if best is None or len(cleared) > len(best[1]):
            best = (candidate, cleared, still)
        if len(cleared) == len(ids):
            break
    if best is None or not best[1]:
        return Upgrade(package, version, None, (), tuple(ids))
    candidate, cleared, still = best
    return Upgrade(
        package,
        version,
        candidate,
        tuple(cleared),
        tuple(i for i in ids if i not in cleared),
        tuple(sorted(still - current)),
    )
