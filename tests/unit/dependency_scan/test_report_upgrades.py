"""The per-package upgrade summary (result metadata ``upgrades``), on the embedded PyPA data and test records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kfp_gates.components.dependency_scan.engine import _groups, scan_inputs, vulnerability_advisories
from kfp_gates.components.dependency_scan.upgrades import plan

NOW = datetime(2024, 10, 20, tzinfo=UTC)


def _upgrades(result) -> dict[tuple[str, str], dict]:
    return {(u["package"], u["version"]): u for u in result.metadata["upgrades"]}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    req = tmp_path_factory.mktemp("req") / "requirements.txt"
    req.write_text("requests==2.19.0\njinja2==2.10\nurllib3==1.24.1\nsix==1.16.0\n")
    return scan_inputs([req], now=NOW)


def test_one_entry_per_vulnerable_package_version_and_none_for_a_clean_one(result) -> None:
    ups = _upgrades(result)
    assert set(ups) == {("requests", "2.19.0"), ("jinja2", "2.10"), ("urllib3", "1.24.1")}
    assert ups[("requests", "2.19.0")] == {
        "package": "requests", "version": "2.19.0", "fix_version": "2.31.0",
        "fixes": ["PYSEC-2018-28", "PYSEC-2023-74"], "unfixed": [], "introduced": [],
    }


def test_fixes_cover_every_finding_of_the_package(result) -> None:
    by_pkg: dict[str, set[str]] = {}
    for f in vulnerability_advisories(result):
        by_pkg.setdefault(f.data["package"], set()).add(f.id)
    for (pkg, _v), u in _upgrades(result).items():
        assert set(u["fixes"]) | set(u["unfixed"]) == by_pkg[pkg]


def test_the_smallest_version_that_fixes_all_not_the_highest_fixed_event(result) -> None:
    # urllib3 advisories are fixed on 1.24.x, 1.25.x and 1.26.x; 1.26.18 clears every one of them, while
    # a later 2.x fixed event would be a major upgrade nobody needs.
    u = _upgrades(result)[("urllib3", "1.24.1")]
    assert u["fix_version"] == "1.26.18" and u["unfixed"] == []
    fixed_events = {v for f in vulnerability_advisories(result) if f.data["package"] == "urllib3"
                    for v in f.data["fixed_versions"]}
    assert any(v.startswith("2.") for v in fixed_events)


def test_branch_fixes_are_judged_by_the_ranges(data_dir, write) -> None:
    # buildbot PYSEC-2019-6: fixed in 1.8.2 for < 1.8.2, and in 2.3.1 for 2.0.1 up to 2.3.1
    adv = data_dir / "advisories"
    old = scan_inputs([write("a.txt", "buildbot==1.0.0\n")], advisories=adv, now=NOW)
    new = scan_inputs([write("b.txt", "buildbot==2.1.0\n")], advisories=adv, now=NOW)
    assert _upgrades(old)[("buildbot", "1.0.0")]["fix_version"] == "1.8.2"
    assert _upgrades(new)[("buildbot", "2.1.0")]["fix_version"] == "2.3.1"


def test_an_advisory_with_no_fix_is_named_unfixed(data_dir, write) -> None:
    # py PYSEC-2022-42969 (ReDoS in svnurl) names no fixed version
    res = scan_inputs([write("r.txt", "py==1.11.0\n")], advisories=data_dir / "advisories", now=NOW)
    assert _upgrades(res)[("py", "1.11.0")] == {
        "package": "py", "version": "1.11.0", "fix_version": None, "fixes": [],
        "unfixed": ["PYSEC-2022-42969"], "introduced": [],
    }


def test_fixable_and_unfixable_advisories_of_one_package(index) -> None:
    # ajenti 0.99.11: two advisories fixed in 1.2.21.7, PYSEC-2018-107 with no fixed version
    u = plan("ajenti", "0.99.11", _groups(index.match("ajenti", "0.99.11")), index)
    assert (u.fix_version, u.fixes, u.unfixed) == ("1.2.21.7", ("PYSEC-2014-98", "PYSEC-2014-99"),
                                                   ("PYSEC-2018-107",))


def test_an_advisory_that_affects_the_fix_version_is_named(index) -> None:
    # apache-airflow 1.10: 2.8.2 fixes every advisory of 1.10, but PYSEC-2024-46 affects 2.8.2 itself
    u = plan("apache-airflow", "1.10", _groups(index.match("apache-airflow", "1.10")), index)
    assert u.fix_version == "2.8.2" and u.unfixed == ()
    assert u.introduced == ("PYSEC-2024-46",)
    assert "PYSEC-2024-46" in {m.advisory.id for m in index.match("apache-airflow", "2.8.2")}
