"""OSV matching on the real PyPA snapshot: known pairs, boundaries, names, and the reference matcher."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.dependency_scan.matcher import AdvisoryIndex, naive_match, spans_of
from kfp_gates.components.dependency_scan.model import Advisory, AffectedPackage, Event

# Pairs checked by hand against the YAML records of the snapshot (events listed in each record).
KNOWN = [
    ("requests", "2.19.0", {"PYSEC-2018-28", "PYSEC-2023-74"}),
    ("requests", "2.31.0", set()),
    ("jinja2", "2.10", {"PYSEC-2019-217", "PYSEC-2021-66"}),
    ("jinja2", "2.11.3", set()),
    ("pyyaml", "5.3.1", {"PYSEC-2021-142"}),
    ("pyyaml", "5.4", set()),
    ("redis", "4.5.3", {"PYSEC-2023-46"}),  # PYSEC-2023-73 (introduced 0, no fix) is withdrawn
    ("redis", "4.5.4", set()),
    ("pillow", "10.0.0", {"PYSEC-2023-175"}),
    ("pillow", "10.0.1", set()),
    ("distributed", "2021.9.0", {"PYSEC-2021-871", "PYSEC-2021-872"}),
    ("distributed", "2021.10.0", set()),
]


def ids(matches) -> set[str]:
    return {m.advisory.id for m in matches}


@pytest.mark.parametrize(("name", "version", "expected"), KNOWN)
def test_known_pairs_report_exactly_their_advisories(index: AdvisoryIndex, name: str, version: str,
                                                     expected: set[str]) -> None:
    assert ids(index.match(name, version)) == expected


@pytest.mark.parametrize("name", ["PyYAML", "pyyaml", "PYYAML"])
def test_mixed_case_names_match(index: AdvisoryIndex, name: str) -> None:
    assert ids(index.match(name, "5.3.1")) == {"PYSEC-2021-142"}


@pytest.mark.parametrize("name", ["apache-skywalking", "Apache_SkyWalking", "apache.skywalking", "APACHE__SKYWALKING"])
def test_underscore_and_dot_names_match(index: AdvisoryIndex, name: str) -> None:
    assert "PYSEC-2020-342" in ids(index.match(name, "1.0.1"))
    assert ids(index.match("pyyaml_", "5.3.1")) == set()  # a different project, not a prefix match


def test_last_affected_boundary_is_inclusive_and_exclusive_above(index: AdvisoryIndex) -> None:
    # py PYSEC-2022-42969: introduced 0, last_affected 1.11.0
    assert "PYSEC-2022-42969" in ids(index.match("py", "1.11.0"))
    assert "PYSEC-2022-42969" in ids(index.match("py", "1.10.0"))
    assert "PYSEC-2022-42969" not in ids(index.match("py", "1.11.1"))
    assert "PYSEC-2022-42969" not in ids(index.match("py", "1.12"))


def test_pep440_equal_spellings_match_the_same(index: AdvisoryIndex) -> None:
    assert ids(index.match("requests", "2.19")) == ids(index.match("requests", "2.19.0"))
    assert ids(index.match("requests", "2.20.0")) == ids(index.match("requests", "2.20"))
    assert "PYSEC-2018-28" not in ids(index.match("requests", "2.20"))


def test_prerelease_of_the_fix_is_still_affected(index: AdvisoryIndex) -> None:
    assert "PYSEC-2018-28" in ids(index.match("requests", "2.20.0rc1"))


def test_fixed_versions_are_reported_lowest_first(index: AdvisoryIndex) -> None:
    (m,) = [m for m in index.match("pyyaml", "5.3") if m.advisory.id == "PYSEC-2020-96"]
    assert m.fixed[0] == "5.3.1"


def test_withdrawn_records_never_match(embedded, index: AdvisoryIndex) -> None:
    withdrawn = [a for a in embedded.advisories if a.withdrawn is not None]
    assert len(withdrawn) == 10
    assert index.size == len(embedded.advisories) - 10
    assert "PYSEC-2023-73" not in ids(index.match("redis", "3.0.0"))


def test_fixed_event_wins_over_a_sloppy_versions_list(index: AdvisoryIndex) -> None:
    # gevent PYSEC-2023-177 lists "23.9" while its range says fixed in 23.9.0 (PEP 440-equal).
    assert ids(index.match("gevent", "23.9.0")) == set()
    assert ids(index.match("gevent", "23.8.0")) == {"PYSEC-2023-177"}


def test_out_of_order_pairs_keep_every_stated_span(index: AdvisoryIndex) -> None:
    # pyspark PYSEC-2022-236: [0, 3.1.1), [3.2.0, 3.2.2), [3.1.1, 3.1.3) written in that order.
    for v, hit in [("3.1.1", True), ("3.1.2", True), ("3.1.3", False), ("3.2.1", True), ("3.2.2", False)]:
        assert ("PYSEC-2022-236" in ids(index.match("pyspark", v))) is hit, v
    # wagtail PYSEC-2021-114 lists 2.11.6 and has a pair [2.11, 2.11.7): 2.11.6 is affected.
    assert "PYSEC-2021-114" in ids(index.match("wagtail", "2.11.6"))
    assert "PYSEC-2021-114" not in ids(index.match("wagtail", "2.11.7"))


def test_unparseable_fixed_bound_widens_the_range(index: AdvisoryIndex, embedded) -> None:
    # binderhub PYSEC-2021-371: fixed "0.2.0-n653" is not PEP 440: every version stays affected (fail closed).
    assert "PYSEC-2021-371" in ids(index.match("binderhub", "99.0"))
    assert any("0.2.0-n653" in n for n in embedded.notes)


def test_legacy_versions_match_the_versions_list(index: AdvisoryIndex) -> None:
    # buildbot PYSEC-2019-6 lists legacy versions such as 0.8.4p1.
    assert "PYSEC-2019-6" in ids(index.match("buildbot", "0.8.4p1"))
    assert index.ranges_unverifiable("buildbot", "0.8.4p1")
    assert not index.ranges_unverifiable("buildbot", "0.8.4")


def test_versions_list_and_range_are_unioned() -> None:
    adv = Advisory(id="X-1", affected=(AffectedPackage(
        name="demo", ranges=((Event("introduced", "2.0"), Event("fixed", "2.5")),), versions=("1.5",)),))
    idx = AdvisoryIndex([adv])
    assert ids(idx.match("demo", "1.5")) == {"X-1"}  # only in the list
    assert ids(idx.match("demo", "2.1")) == {"X-1"}  # only in the range
    assert ids(idx.match("demo", "2.5")) == set()
    assert ids(idx.match("demo", "1.6")) == set()


def test_spans_sorted_reading() -> None:
    spans = spans_of((Event("introduced", "0"), Event("fixed", "1.0"), Event("introduced", "2.0"),
                      Event("last_affected", "2.3")))
    assert [(str(s.lo) if s.lo else None, str(s.hi), s.hi_inclusive) for s in spans] == [
        (None, "1.0", False), ("2.0", "2.3", True)]


def test_range_admission(index: AdvisoryIndex) -> None:
    admitted = {a.id for a, _ in index.admitted("requests", ">=2.0,<2.21")}
    assert "PYSEC-2018-28" in admitted
    assert index.admitted("requests", ">=2.32") == []
    assert {a.id for a, _ in index.admitted("pyyaml", "")} >= {"PYSEC-2021-142"}


def test_index_agrees_with_the_naive_matcher_on_listed_versions(embedded, index: AdvisoryIndex) -> None:
    rnd = random.Random(4)
    pairs = []
    for adv in rnd.sample(list(embedded.advisories), 80):
        for aff in adv.affected:
            pairs.extend((aff.name, v) for v in rnd.sample(aff.versions, min(3, len(aff.versions))))
            pairs.extend((aff.name.upper(), e.version) for r in aff.ranges for e in r if e.version != "0")
    assert len(pairs) > 150
    for name, version in pairs:
        assert ids(index.match(name, version)) == {a.id for a in naive_match(embedded.advisories, name, version)}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["django", "requests", "pyspark", "wagtail", "py", "gevent", "pillow", "nonexistent"]),
    version=st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,3}((a|b|rc)[0-9])?\Z", fullmatch=True),
)
def test_index_agrees_with_the_naive_matcher_on_any_version(embedded, index, name: str, version: str) -> None:
    assert ids(index.match(name, version)) == {a.id for a in naive_match(embedded.advisories, name, version)}
