"""The dependency gate end to end (engine level): decisions, hygiene rules, waivers, staleness, metadata."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision, Severity
from kfp_gates.components.dependency_scan import rules
from kfp_gates.components.dependency_scan.engine import (
    ScanOptions,
    evaluate,
    scan_inputs,
    settings_from_policy,
)
from kfp_gates.components.dependency_scan.parsers import parse_requirements
from tests.support.netguard import no_network

NOW = datetime(2024, 10, 20, tzinfo=UTC)  # ten days after the embedded snapshot


def policy(text: str = "", tier: str = "standard") -> GatePolicy:
    return GatePolicy.parse(f"apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: {tier}\n{text}")


def run(write, text: str, pol: GatePolicy | None = None, now: datetime = NOW, **kw):
    p = write("requirements.txt", text)
    return scan_inputs([p], policy=pol or policy(), now=now, **kw)


def ids(result) -> set[str]:
    return {f.id for f in result.findings}


def test_known_vulnerable_pin_blocks_and_clean_pin_passes(write) -> None:
    bad = run(write, "requests==2.19.0\n")
    assert bad.decision is Decision.FAIL and bad.exit_code == 1
    f = next(f for f in bad.findings if f.id == "PYSEC-2018-28")
    assert f.data["package"] == "requests" and f.data["installed_version"] == "2.19.0"
    assert f.data["fixed_versions"][0] == "2.20.0" and "CVE-2018-18074" in f.data["aliases"]
    assert f.location.line == 1
    good = run(write, "requests==2.32.3\n")
    assert good.decision is Decision.PASS and good.findings == ()


def test_unverifiable_dependency_blocks_instead_of_passing(write) -> None:
    # pip-audit skips what it cannot look up and reports "No known vulnerabilities found"; this gate blocks.
    r = run(write, "git+https://github.com/org/repo@main#egg=thing\n./local-dir\n")
    unver = [f for f in r.findings if f.id == rules.UNVERIFIABLE.id]
    assert len(unver) == 2 and all(f.severity is Severity.HIGH for f in unver)
    assert r.decision is Decision.FAIL
    assert r.metadata["inventory"]["unverifiable"] == 2


def test_aliases_reported_once(write) -> None:
    # distributed: PYSEC-2021-871 and PYSEC-2021-872 share CVE-2021-42343 and GHSA-hwqr-f3v9-hwxr.
    r = run(write, "distributed==2021.9.0\n")
    vulns = [f for f in r.findings if not f.id.startswith("KFPG-")]
    assert len(vulns) == 1
    assert vulns[0].id == "PYSEC-2021-871"
    assert set(vulns[0].data["aliases"]) >= {"PYSEC-2021-872", "CVE-2021-42343", "GHSA-hwqr-f3v9-hwxr"}


def test_related_is_not_an_alias(write) -> None:
    r = run(write, "pillow==10.0.0\n")
    (f,) = [f for f in r.findings if f.id == "PYSEC-2023-175"]
    assert f.data["related"] == ["CVE-2023-4863", "CVE-2023-5129"] and f.data["aliases"] == []
    assert "related: CVE-2023-4863" in f.message


def test_severity_from_cvss_else_high(write) -> None:
    r = run(write, "apache-skywalking==8.0.0\nrequests==2.19.0\n")
    sky = next(f for f in r.findings if f.id == "PYSEC-2020-342")
    assert sky.severity is Severity.CRITICAL and sky.data["cvss_score"] == 9.8
    req = next(f for f in r.findings if f.id == "PYSEC-2018-28")
    assert req.severity is Severity.HIGH and req.data["severity_source"] == "default"


def test_ranges_unpinned_and_admitting_vulnerable_versions(write) -> None:
    r = run(write, "requests>=2.0\nflask==3.0.3\nurllib3>=2.2.2\n")
    by = {(f.id, f.data.get("package")) for f in r.findings}
    assert (rules.UNPINNED.id, "requests") in by and (rules.RANGE_VULNERABLE.id, "requests") in by
    assert (rules.UNPINNED.id, "urllib3") in by and (rules.RANGE_VULNERABLE.id, "urllib3") not in by
    off = run(write, "urllib3>=2.2.2\n", policy("gates:\n  dependency_scan:\n    require_pins: false\n"))
    assert off.findings == ()


def test_hashes_required_by_policy(write) -> None:
    pol = policy("gates:\n  dependency_scan:\n    require_hashes: true\n")
    r = run(write, "requests==2.32.3 --hash=sha256:abcd\nidna==3.7\n", pol)
    assert [f.data["package"] for f in r.findings if f.id == rules.NO_HASH.id] == ["idna"]


def test_index_allowlist_is_the_private_mirror_control(write) -> None:
    pol = policy("gates:\n  dependency_scan:\n    allowed_indexes: [https://mirror.corp.example/simple]\n")
    ok = run(write, "--index-url https://mirror.corp.example/simple/\nrequests==2.32.3\n", pol)
    assert ok.decision is Decision.PASS
    default = run(write, "requests==2.32.3\n", pol)  # no --index-url: public PyPI, not allowed
    (f,) = [f for f in default.findings if f.id == rules.INDEX_NOT_ALLOWED.id]
    assert "pypi.org" in f.message and default.decision is Decision.FAIL
    other = run(write, "-i https://evil.example/simple\nrequests==2.32.3\n", pol)
    assert rules.INDEX_NOT_ALLOWED.id in ids(other)


def test_extra_index_url_and_trusted_host(write) -> None:
    r = run(write, "--extra-index-url https://tok:x@pypi.org/simple\n--trusted-host pypi.org\nrequests==2.32.3\n")
    assert {rules.EXTRA_INDEX.id, rules.TRUSTED_HOST.id} <= ids(r) and r.decision is Decision.FAIL
    assert "tok" not in r.to_json()
    pol = policy("gates:\n  dependency_scan:\n    allow_extra_index_url: true\n    allow_trusted_host: true\n")
    assert run(write, "--extra-index-url https://pypi.org/simple\nrequests==2.32.3\n", pol).findings == ()


def test_waiver_by_alias_and_expired_waiver(write) -> None:
    pol = policy("""gates:
  dependency_scan:
    waivers:
      - {id: CVE-2018-18074, reason: "not reachable in batch jobs", owner: sec@example.com, expires: 2099-01-01}
      - {id: PYSEC-2023-74, reason: "old waiver", owner: sec@example.com, expires: 2020-01-01}
""")
    r = run(write, "requests==2.19.0\n", pol)
    waived = next(f for f in r.findings if f.id == "PYSEC-2018-28")
    assert waived.waived and waived.waiver.owner == "sec@example.com"
    assert not next(f for f in r.findings if f.id == "PYSEC-2023-74").waived  # expired: no longer applies
    assert "KFPG-WAIVER-EXPIRED" in ids(r) and r.decision is Decision.FAIL


def test_stale_advisories_warn_in_standard_and_block_in_critical(write) -> None:
    later = NOW + timedelta(days=400)
    std = run(write, "requests==2.32.3\n", policy("gates:\n  dependency_scan:\n    max_advisory_age: 90d\n"), later)
    (f,) = [f for f in std.findings if f.id == rules.ADV_STALE.id]
    assert f.severity is Severity.LOW and std.decision is Decision.WARN
    crit = run(write, "requests==2.32.3\n", policy(tier="critical"), later)
    (g,) = [f for f in crit.findings if f.id == rules.ADV_STALE.id]
    assert g.severity is Severity.CRITICAL and crit.decision is Decision.FAIL  # default 30d in critical
    fresh = run(write, "requests==2.32.3\n", policy(tier="critical"), NOW)
    assert fresh.decision is Decision.PASS
    assert fresh.metadata["advisory_source"]["age_days"] == pytest.approx(9.3, abs=0.1)
    with pytest.raises(ConfigError):
        ScanOptions.from_policy(policy("gates:\n  dependency_scan:\n    stale_advisories: warn\n", "critical"))


def test_fail_on_flag_may_not_loosen_critical() -> None:
    assert settings_from_policy(policy(), fail_on="critical").fail_on is Severity.CRITICAL
    with pytest.raises(ConfigError):
        settings_from_policy(policy(tier="critical"), fail_on="critical")
    assert settings_from_policy(policy(tier="critical"), fail_on="low").fail_on is Severity.LOW


def test_malformed_advisories_are_a_counted_warning(write, tmp_path, data_dir) -> None:
    import shutil

    adv = tmp_path / "adv"
    shutil.copytree(data_dir / "advisories", adv)
    (adv / "junk.yaml").write_text("{{{{ not yaml")
    r = run(write, "py==1.11.0\n", advisories=str(adv))
    (m,) = [f for f in r.findings if f.id == rules.ADV_MALFORMED.id]
    assert m.data["count"] == 1 and m.severity is Severity.LOW
    assert r.metadata["advisory_source"]["kind"] == "directory"
    assert r.metadata["advisory_source"]["malformed_skipped"] == 1
    assert "PYSEC-2022-42969" in ids(r)


def test_result_records_source_inputs_and_components(write) -> None:
    r = run(write, "requests==2.19.0\nflask\n")
    meta = r.metadata
    assert meta["advisory_source"]["records"] == 2661 and meta["advisory_source"]["attribution"]
    assert meta["inventory"]["inputs"][0]["path"].endswith("requirements.txt")
    assert len(meta["inventory"]["inputs"][0]["sha256"]) == 64 and r.subject.name.endswith("requirements.txt")
    assert meta["components"] == [{"name": "requests", "version": "2.19.0", "purl": "pkg:pypi/requests@2.19.0",
                                   "origin": "requirements"}]
    assert r.policy["fail_on"] == "high"


def test_nothing_to_scan_is_exit_2() -> None:
    with pytest.raises(ConfigError):
        scan_inputs([])


def test_scan_makes_no_network_call(write) -> None:
    p = write("requirements.txt", "--index-url https://pypi.org/simple\nrequests==2.19.0\n")
    with no_network() as attempts:
        r = scan_inputs([p], now=NOW)
    assert attempts == [] and r.decision is Decision.FAIL


def test_evaluate_is_deterministic_for_the_same_input(write, embedded, index) -> None:
    inv = parse_requirements(write("r.txt", "requests==2.19.0\njinja2==2.10\n"))
    kw = dict(settings=settings_from_policy(policy()), options=ScanOptions(), index=index, now=NOW,
              today=date(2024, 10, 20))
    a = evaluate(inv, embedded, **kw)
    b = evaluate(inv, embedded, **kw)
    assert [f.id for f in a.findings] == [f.id for f in b.findings] and a.subject == b.subject
