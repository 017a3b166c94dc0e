"""Tier rules (the critical floor, fast-track-only settings): one problem per key, at its line, with the rest."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import PolicyError
from kfp_gates.components.common.policy import GatePolicy

HEAD = "apiVersion: kfp-gates/v1\nkind: GatePolicy\n"
LOOSENED = (  # lines 3-9
    "tier: critical\ngates:\n  image_scan:\n    on_fail: warn\n    required: false\n  secrets:\n    required: no\n"
)


def _problems(doc: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(doc, "p.yaml")
    assert exc.value.exit_code == 2
    return list(exc.value.problems)


def test_each_loosened_key_is_its_own_problem_at_its_own_line():
    problems = _problems(HEAD + LOOSENED)
    assert problems == [
        "p.yaml:6: gates.image_scan.on_fail: the critical tier does not allow 'warn'",
        "p.yaml:7: gates.image_scan.required: the critical tier requires every gate",
        "p.yaml:9: gates.secrets.required: the critical tier requires every gate",
    ]


def test_the_floor_is_reported_together_with_other_errors():
    doc = HEAD + LOOSENED + "  model_scan:\n    alow: [numpy.dtype]\n  dependency_scan:\n    fail_on: severe\n"
    problems = _problems(doc)
    assert len(problems) == 5, problems
    assert [p.split(":")[1] for p in problems] == ["6", "7", "9", "11", "13"]
    assert "gates.model_scan.alow: unknown key; did you mean 'allow'?" in problems[3]
    assert "gates.dependency_scan.fail_on" in problems[4]


def test_the_count_matches_the_problems_listed():
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(HEAD + LOOSENED, "p.yaml")
    assert "invalid policy (3 problems)" in exc.value.diagnostics()


def test_fast_track_only_settings_are_reported_at_their_lines_with_other_errors():
    doc = (
        HEAD
        + "tier: standard\ngates:\n  isolation:\n    isolation: none\n    memory: lots\n"
        + "  model_scan:\n    unknown_globals: warn\n"
    )
    problems = _problems(doc)
    assert problems == [
        "p.yaml:6: gates.isolation.isolation: 'none' is only allowed in the fast-track tier",
        "p.yaml:7: gates.isolation.memory: invalid size 'lots'; use e.g. 512Mi, 4Gi or a number of bytes",
        "p.yaml:9: gates.model_scan.unknown_globals: 'warn' is only allowed in the fast-track tier",
    ]


def test_an_unknown_tier_is_the_only_tier_problem():
    problems = _problems(HEAD + "tier: extreme\ngates:\n  secrets:\n    required: false\n")
    assert len(problems) == 1 and problems[0].startswith("p.yaml:3: tier:")


def test_validating_without_a_document_still_enforces_the_floor():
    with pytest.raises(ValueError, match=r"gates\.secrets\.required: the critical tier requires every gate"):
        GatePolicy.model_validate({"tier": "critical", "gates": {"secrets": {"required": False}}})


def test_policy_validate_lists_every_problem_and_exits_2(cli, tmp_path):
    (tmp_path / "p.yaml").write_text(HEAD + LOOSENED + "  model_scan:\n    alow: [numpy.dtype]\n")
    r = cli("policy", "validate", "p.yaml")
    assert r.code == 2, r.err
    assert "invalid policy (4 problems)" in r.err
    for line in (
        "p.yaml:6: gates.image_scan.on_fail",
        "p.yaml:7: gates.image_scan.required",
        "p.yaml:9: gates.secrets.required",
        "p.yaml:11: gates.model_scan.alow",
    ):
        assert line in r.err
    assert "(top level)" not in r.err and "Traceback" not in r.err
