"""Ordered severities and gate decisions."""

from __future__ import annotations

from enum import Enum
from typing import Any

_ORDER = ("info", "low", "medium", "high", "critical")


class Severity(str, Enum):
    """Finding severity, ordered ``info < low < medium < high < critical``.

    Comparison uses this order, not string order.
    """

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _ORDER.index(self.value)

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """Parse a severity name case-insensitively; raises ``ValueError`` naming the choices."""
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r}; choose one of: {', '.join(_ORDER)}") from None

    @classmethod
    def from_cvss_score(cls, score: float) -> Severity:
        """CVSS v3/v4 qualitative rating (FIRST specification)."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0.0:
            return cls.LOW
        return cls.INFO

    def _cmp(self, other: Any) -> int:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank - other.rank

    def __lt__(self, other: Any) -> bool:
        c = self._cmp(other)
        return c if c is NotImplemented else c < 0

    def __le__(self, other: Any) -> bool:
        c = self._cmp(other)
        return c if c is NotImplemented else c <= 0

    def __gt__(self, other: Any) -> bool:
        c = self._cmp(other)
        return c if c is NotImplemented else c > 0

    def __ge__(self, other: Any) -> bool:
        c = self._cmp(other)
        return c if c is NotImplemented else c >= 0

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return self.value


class Decision(str, Enum):
    """A gate's verdict. ``warn`` passes (exit 0) but is shown; ``fail`` blocks."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    FAIL = "fail"

    def __str__(self) -> str:
        return self.value
