"""Turning a gate's findings into a decision, the same way for every gate.

An engine produces findings; :func:`finalize` applies the policy's waivers and
threshold and returns the :class:`GateResult`. Keeping this in one place is
what makes "warn" and "fail" mean the same thing in every gate.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .policy import EffectiveGate, OnFail, Waiver
from .result import SUBJECT_UNREAD, AppliedWaiver, Finding, GateResult, Subject, Tool, utcnow
from .severity import Decision, Severity

WAIVER_EXPIRED = "KFPG-WAIVER-EXPIRED"
WAIVER_UNUSED = "KFPG-WAIVER-UNUSED"


@dataclass(frozen=True)
class GateSettings:
    """What :func:`finalize` needs from a policy: threshold, block-or-warn, waivers."""

    fail_on: Severity = Severity.HIGH
    on_fail: OnFail = "block"
    waivers: tuple[Waiver, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_effective(cls, gate: EffectiveGate, **extra: Any) -> GateSettings:
        return cls(fail_on=gate.fail_on, on_fail=gate.on_fail, waivers=gate.waivers, extra=extra)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fail_on": self.fail_on.value, "on_fail": self.on_fail}
        out["waivers"] = [w.model_dump(mode="json") for w in self.waivers]
        out.update(self.extra)
        return out


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: date) -> list[Finding]:
    """Mark findings covered by an active waiver; report expired and unused waivers as findings.

    An expired waiver no longer suppresses anything and is itself reported
    (severity low); an active waiver that matched nothing is reported as info,
    so stale waivers get cleaned up.
    """
    active = {w.id: w for w in waivers if w.active(today)}
    expired = [w for w in waivers if not w.active(today)]
    used: set[str] = set()
    out: list[Finding] = []
    for f in findings:
        # A missing subject cannot be waived: the result would then pass about nothing.
        match = None if f.id == SUBJECT_UNREAD else next((active[i] for i in sorted(f.ids()) if i in active), None)
        if match is not None:
            used.add(match.id)
            applied = AppliedWaiver(id=match.id, reason=match.reason, owner=match.owner, expires=str(match.expires))
            f = f.model_copy(update={"waiver": applied})
        out.append(f)
    for w in expired:
        out.append(
            Finding(
                id=WAIVER_EXPIRED,
                severity=Severity.LOW,
                message=f"waiver for {w.id} (owner {w.owner}) expired on {w.expires} and no longer applies",
                data={"waiver": w.model_dump(mode="json")},
            )
        )
    for wid, w in active.items():
        if wid not in used:
            out.append(
                Finding(
                    id=WAIVER_UNUSED,
                    severity=Severity.INFO,
                    message=f"waiver for {wid} (owner {w.owner}) matched no finding; remove it",
                    data={"waiver": w.model_dump(mode="json")},
                )
            )
    return out


def unread_subject_finding(name: str, why: str) -> Finding:
    """The blocking finding of a result whose subject could not be read (see ``Subject.unread``)."""
    return Finding(
        id=SUBJECT_UNREAD,
        severity=Severity.CRITICAL,
        message=f"{name}: {why}; this result names no digest and proves nothing about any bytes",
        data={"subject": name},
    )


def decide(findings: Iterable[Finding], fail_on: Severity) -> Decision:
    """fail if a non-waived finding is at or above ``fail_on``; warn if any non-info remains."""
    active = [f for f in findings if not f.waived]
    if any(f.severity >= fail_on for f in active):
        return Decision.FAIL
    if any(f.severity > Severity.INFO for f in active):
        return Decision.WARN
    return Decision.PASS


class Clock:
    """Start/stop timestamps for a gate run (wall clock in UTC, duration from a monotonic clock)."""

    def __init__(self) -> None:
        self.started_at = utcnow()
        self._t0 = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._t0


def finalize(
    *,
    gate: str,
    subject: Subject,
    tool: Tool,
    findings: Iterable[Finding],
    settings: GateSettings,
    started_at: datetime,
    metadata: dict[str, Any] | None = None,
    today: date | None = None,
) -> GateResult:
    """Apply waivers and threshold, downgrade to warn when the policy says so, build the result."""
    today = today or datetime.now(UTC).date()
    final = apply_waivers(findings, settings.waivers, today)
    decision = decide(final, settings.fail_on)
    policy = settings.describe()
    if not subject.known:
        # Fail closed: a result about no bytes is never a pass or a warning, whatever the policy says.
        if not any(f.id == SUBJECT_UNREAD for f in final):
            final.append(unread_subject_finding(subject.name, "the gate did not read its subject"))
        decision = Decision.FAIL
    elif decision is Decision.FAIL and settings.on_fail == "warn":
        decision = Decision.WARN
        policy["downgraded_to_warn"] = True
    return GateResult(
        gate=gate,
        decision=decision,
        subject=subject,
        tool=tool,
        findings=tuple(final),
        policy=policy,
        started_at=started_at,
        finished_at=max(utcnow(), started_at),
        metadata=metadata or {},
    )
