"""CVSS base scores from vectors, per the FIRST specifications.

v3.0/v3.1 and v2 are computed here (short formulas). v4.0 scores come from the
specification's macro-vector lookup tables, which are not worth re-typing: they
are computed by the maintained ``cvss`` library (Red Hat Product Security),
imported only when an advisory carries a v4 vector.
"""

from __future__ import annotations

import math

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.severity import Severity

from .model import Advisory

_V3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_V2 = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}
# Used when an advisory has no usable score: a known vulnerability of unknown severity is not "low".
DEFAULT_SEVERITY = Severity.HIGH
_QUALITATIVE = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


def _metrics(vector: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in vector.strip().split("/"):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k] = v
    return out


def _roundup(x: float) -> float:
    i = round(x * 100000)
    return i / 100000.0 if i % 10000 == 0 else (math.floor(i / 10000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float:
    """Base score of a ``CVSS:3.x/...`` vector. Raises ValueError on a vector missing a base metric."""
    m = _metrics(vector)
    if not m.get("CVSS", "").startswith("3"):
        raise ValueError(f"not a CVSS v3 vector: {vector!r}")
    try:
        scope = m["S"]
        av, ac, ui = _V3["AV"][m["AV"]], _V3["AC"][m["AC"]], _V3["UI"][m["UI"]]
        pr = _V3_PR[scope][m["PR"]]
        c, i, a = _V3["C"][m["C"]], _V3["I"][m["I"]], _V3["A"][m["A"]]
    except KeyError as exc:
        raise ValueError(f"CVSS v3 vector lacks or misspells {exc}: {vector!r}") from None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    impact = 6.42 * iss if scope == "U" else 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    if scope == "U":
        return _roundup(min(impact + exploitability, 10))
    return _roundup(min(1.08 * (impact + exploitability), 10))


def cvss2_base_score(vector: str) -> float:
    """Base score of a CVSS v2 vector (``AV:N/AC:L/Au:N/C:P/I:P/A:P``). Raises ValueError."""
    m = _metrics(vector.removeprefix("(").removesuffix(")"))
    try:
        av, ac, au = _V2["AV"][m["AV"]], _V2["AC"][m["AC"]], _V2["Au"][m["Au"]]
        c, i, a = _V2["C"][m["C"]], _V2["I"][m["I"]], _V2["A"][m["A"]]
    except KeyError as exc:
        raise ValueError(f"CVSS v2 vector lacks or misspells {exc}: {vector!r}") from None
    impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a))
    exploitability = 20 * av * ac * au
    f = 0.0 if impact == 0 else 1.176
    return round(((0.6 * impact) + (0.4 * exploitability) - 1.5) * f, 1)


def cvss4_base_score(vector: str) -> float:
    """Base score of a ``CVSS:4.0/...`` vector, computed by the ``cvss`` library.

    Raises ValueError on a malformed vector, and :class:`ConfigError` when the
    ``cvss`` package (a declared dependency of kfp-gates) is not installed: a
    v4-only advisory must not silently lose its score.
    """
    if not vector.strip().startswith("CVSS:4"):
        raise ValueError(f"not a CVSS v4 vector: {vector!r}")
    try:
        from cvss import CVSS4
        from cvss.exceptions import CVSSError
    except ImportError:  # pragma: no cover - declared dependency
        raise ConfigError(
            "scoring a CVSS v4 advisory needs the 'cvss' package, which is not installed",
            hint="pip install 'cvss>=3.2,<4' (a dependency of kfp-gates; reinstall kfp-gates)",
        ) from None
    try:
        return float(CVSS4(vector.strip()).base_score)
    except CVSSError as exc:
        raise ValueError(f"invalid CVSS v4 vector {vector!r}: {exc}") from None


def score(kind: str, vector: str) -> float | None:
    """Base score for an OSV ``severity`` entry, None when it cannot be computed (garbage, unknown kind)."""
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return cvss4_base_score(vector)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return cvss3_base_score(vector)
        if kind == "CVSS_V2":
            return cvss2_base_score(vector)
    except ValueError:
        return None
    return None


def advisory_severity(adv: Advisory) -> tuple[Severity, float | None, str | None, str]:
    """(severity, score, vector, source) of an advisory.

    The highest computable CVSS score wins; else the database's qualitative
    severity; else :data:`DEFAULT_SEVERITY` (source ``"default"``).
    """
    best: tuple[float, str] | None = None
    for kind, vector in adv.severity:
        s = score(kind, vector)
        if s is not None and (best is None or s > best[0]):
            best = (s, vector)
    if best is not None:
        return Severity.from_cvss_score(best[0]), best[0], best[1], "cvss"
    if adv.database_severity and adv.database_severity.upper() in _QUALITATIVE:
        return _QUALITATIVE[adv.database_severity.upper()], None, None, "database"
    return DEFAULT_SEVERITY, None, None, "default"


def severity_reason(severity: Severity, score: float | None, vector: str | None, source: str) -> str:
    """Why a vulnerability finding has its severity, in words for reports (``severity_source`` as a sentence)."""
    if source == "cvss":
        return f"CVSS base score {score} ({vector})"
    if source == "database":
        return f"the advisory database rates it {severity.value} (no CVSS vector)"
    return (f"the advisory carries no CVSS vector and no severity rating (PyPA advisories usually do not), "
            f"so the gate treats it as {severity.value} to fail closed")


def severity_label(severity: str, source: object) -> str:
    """The severity as reports show it: ``unknown (treated as high)`` when it is the fail-closed default."""
    return f"unknown (treated as {severity})" if source == "default" else severity
