"""One decision function for every gate: thresholds, waivers, warn downgrades."""

from __future__ import annotations

from datetime import date, timedelta

from kfp_gates.components.common.digest import sha256_bytes
from kfp_gates.components.common.gate import (
    WAIVER_EXPIRED,
    WAIVER_UNUSED,
    GateSettings,
    apply_waivers,
    decide,
    finalize,
)
from kfp_gates.components.common.policy import GatePolicy, Waiver
from kfp_gates.components.common.result import Finding, Subject, Tool, utcnow
from kfp_gates.components.common.severity import Decision, Severity

TODAY = date(2026, 11, 26)


def f(id_: str, sev: Severity, **data) -> Finding:
    return Finding(id=id_, severity=sev, message=id_, data=data)


def w(id_: str, expires: date) -> Waiver:
    return Waiver(id=id_, reason="accepted risk", owner="sec@example.com", expires=expires)


def test_decide_thresholds():
    assert decide([], Severity.HIGH) is Decision.PASS
    assert decide([f("a", Severity.INFO)], Severity.HIGH) is Decision.PASS
    assert decide([f("a", Severity.MEDIUM)], Severity.HIGH) is Decision.WARN
    assert decide([f("a", Severity.HIGH)], Severity.HIGH) is Decision.FAIL
    assert decide([f("a", Severity.LOW)], Severity.LOW) is Decision.FAIL


def test_active_waiver_matches_by_alias_and_suppresses():
    out = apply_waivers([f("PYSEC-1", Severity.CRITICAL, aliases=["CVE-2024-9"])], [w("CVE-2024-9", TODAY)], TODAY)
    assert out[0].waived and out[0].waiver.owner == "sec@example.com"
    assert decide(out, Severity.HIGH) is Decision.PASS


def test_expired_waiver_stops_applying_and_is_reported():
    out = apply_waivers([f("PYSEC-1", Severity.CRITICAL)], [w("PYSEC-1", TODAY - timedelta(days=1))], TODAY)
    assert not out[0].waived
    assired = [x for x in out if x.id == WAIVER_EXPIRED]
    assert len(assired) == 1 and "expired on 2026-11-25" in assired[0].message
    assert decide(out, Severity.HIGH) is Decision.FAIL


def test_unused_waiver_is_reported_as_info():
    out = apply_waivers([], [w("PYSEC-9", TODAY)], TODAY)
    assert [x.id for x in out] == [WAIVER_UNUSED]
    assert decide(out, Severity.HIGH) is Decision.PASS


def test_finalize_downgrades_to_warn_when_policy_says_warn():
    policy = GatePolicy.parse("apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: fast-track\n")
    settings = GateSettings.from_effective(policy.gate("dependency_scan"), advisories="embedded")
    r = finalize(
        gate="dependency_scan",
        subject=Subject(name="requirements.txt", digest={"sha256": sha256_bytes(b"x")}),
        tool=Tool(name="kfp-gates", version="test"),
        findings=[f("PYSEC-1", Severity.CRITICAL)],
        settings=settings,
        started_at=utcnow(),
        today=TODAY,
    )
    assert r.decision is Decision.WARN
    assert r.policy["downgraded_to_warn"] is True
    assert r.policy["fail_on"] == "critical" and r.policy["advisories"] == "embedded"


def test_finalize_blocks_on_threshold_with_block_policy():
    r = finalize(
        gate="g",
        subject=Subject(name="s", digest={"sha256": sha256_bytes(b"s")}),
        tool=Tool(name="t", version="1"),
        findings=[f("X", Severity.HIGH)],
        settings=GateSettings(fail_on=Severity.HIGH, on_fail="block"),
        started_at=utcnow(),
    )
    assert r.decision is Decision.FAIL and r.exit_code == 1
    assert r.finished_at >= r.started_at
