"""The advisory data's age is a finding in the result (report and evidence), not only a stderr line (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kfp_gates.components.common.evidence import to_statement
from kfp_gates.components.common.formats import render_markdown
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision, Severity
from kfp_gates.components.dependency_scan import rules
from kfp_gates.components.dependency_scan.engine import scan_inputs

SNAPSHOT = datetime(2024, 10, 10, tzinfo=UTC)  # the embedded PyPA snapshot


def _scan(write, now: datetime, policy_text: str = "", tier: str = "standard"):
    req = write("requirements.txt", "requests==2.32.3\n")
    pol = GatePolicy.parse(f"apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: {tier}\n{policy_text}")
    return scan_inputs([req], policy=pol, now=now)


def test_old_data_without_a_policy_limit_is_a_low_finding_in_report_and_evidence(write) -> None:
    r = _scan(write, SNAPSHOT + timedelta(days=787))
    (f,) = [f for f in r.findings if f.id == rules.ADV_OLD.id]
    assert f.severity is Severity.LOW and r.decision is Decision.WARN
    assert "786 days old" in f.message and "--advisories" in f.message
    assert f.data["age_days"] == r.metadata["advisory_source"]["age_days"]
    assert rules.ADV_OLD.id in render_markdown([r])
    statement = to_statement(r)
    assert rules.ADV_OLD.id in str(statement["predicate"])


def test_fresh_data_or_a_policy_limit_not_exceeded_adds_nothing(write) -> None:
    fresh = _scan(write, SNAPSHOT + timedelta(days=5))
    assert not {rules.ADV_OLD.id, rules.ADV_STALE.id} & {f.id for f in fresh.findings}
    within = _scan(write, SNAPSHOT + timedelta(days=100), "gates:\n  dependency_scan:\n    max_advisory_age: 400d\n")
    assert not {rules.ADV_OLD.id, rules.ADV_STALE.id} & {f.id for f in within.findings}


def test_past_the_policy_limit_it_is_stale_and_blocks_in_critical(write) -> None:
    std = _scan(write, SNAPSHOT + timedelta(days=100), "gates:\n  dependency_scan:\n    max_advisory_age: 30d\n")
    assert [f.severity for f in std.findings if f.id == rules.ADV_STALE.id] == [Severity.LOW]
    crit = _scan(write, SNAPSHOT + timedelta(days=100), tier="critical")
    assert [f.severity for f in crit.findings if f.id == rules.ADV_STALE.id] == [Severity.CRITICAL]
    assert crit.decision is Decision.FAIL and rules.ADV_OLD.id not in {f.id for f in crit.findings}
