"""The policy file: strict keys with suggestions and lines, tiers, waivers, durations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError, PolicyError
from kfp_gates.components.common.policy import GATES, TIER_DEFAULTS, GatePolicy, parse_duration
from kfp_gates.components.common.severity import Severity

HEAD = "apiVersion: kfp-gates/v1\nkind: GatePolicy\n"


def test_defaults_without_a_file():
    p = GatePolicy.default()
    assert p.tier == "standard"
    assert [g.name for g in p.effective()] == list(GATES)
    assert p.gate("dependency_scan").fail_on is Severity.HIGH
    assert p.gate("source_integrity").required is False


def test_misspelt_top_level_key_is_named_with_line_and_suggestion():
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(HEAD + "tier: standard\ngatez: {}\n", "p.yaml")
    text = exc.value.diagnostics()
    assert "p.yaml:4: gatez: unknown key; did you mean 'gates'?" in text
    assert exc.value.exit_code == 2


def test_misspelt_nested_key_names_its_path():
    doc = HEAD + "gates:\n  model_scan:\n    alow: [numpy.dtype]\n"
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(doc, "p.yaml")
    assert "p.yaml:5: gates.model_scan.alow: unknown key; did you mean 'allow'?" in exc.value.diagnostics()


def test_unknown_gate_lists_valid_names_when_nothing_is_close():
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(HEAD + "gates:\n  frobnicate: {}\n", "p.yaml")
    assert "valid keys: data_validation" in exc.value.diagnostics()


def test_every_problem_is_reported_at_once_in_line_order():
    doc = HEAD + "tier: extreme\ngates:\n  dependency_scan:\n    fail_on: severe\n    typo: 1\n"
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(doc, "p.yaml")
    problems = exc.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("p.yaml:3: tier:")
    assert "fail_on" in problems[1] and "choose one of" in problems[1]
    assert "typo" in problems[2]


def test_duplicate_keys_are_an_error_not_a_silent_override():
    doc = HEAD + "tier: critical\ntier: fast-track\n"
    with pytest.raises(ConfigError) as exc:
        GatePolicy.parse(doc, "p.yaml")
    assert "duplicate key 'tier'" in exc.value.diagnostics()
    assert "p.yaml:4" in exc.value.diagnostics()


def test_not_yaml_and_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        GatePolicy.parse("tier: [unclosed\n", "p.yaml")
    with pytest.raises(PolicyError, match="must be a mapping"):
        GatePolicy.parse("- a\n- b\n", "p.yaml")
    with pytest.raises(InputNotFoundError):
        GatePolicy.load(tmp_path / "missing.yaml")


def test_wrong_api_version_or_kind_is_rejected():
    with pytest.raises(PolicyError, match="apiVersion"):
        GatePolicy.parse("apiVersion: kfp-gates/v2\nkind: GatePolicy\n")
    with pytest.raises(PolicyError, match="kind"):
        GatePolicy.parse("apiVersion: kfp-gates/v1\nkind: Policy\n")


def test_waiver_requires_reason_owner_and_expiry():
    doc = HEAD + "gates:\n  dependency_scan:\n    waivers:\n      - id: PYSEC-1\n        reason: ok\n"
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(doc, "p.yaml")
    text = exc.value.diagnostics()
    assert "waivers[0].owner" in text and "waivers[0].expires" in text and "waivers[0].reason" in text


def test_critical_tier_is_a_floor():
    doc = HEAD + "tier: critical\ngates:\n  image_scan:\n    on_fail: warn\n  secrets:\n    required: false\n"
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(doc)
    text = exc.value.diagnostics()
    assert "gates.image_scan.on_fail" in text and "gates.secrets.required" in text


def test_isolation_none_only_in_fast_track():
    with pytest.raises(PolicyError, match="fast-track"):
        GatePolicy.parse(HEAD + "tier: standard\ngates:\n  isolation:\n    isolation: none\n")
    p = GatePolicy.parse(HEAD + "tier: fast-track\ngates:\n  isolation:\n    isolation: none\n")
    assert p.gates.isolation.isolation == "none"


def test_sections_override_tier_defaults():
    doc = (
        HEAD + "tier: standard\ngates:\n  source_integrity:\n    required: true\n    on_fail: block\n    fail_on: low\n"
    )
    g = GatePolicy.parse(doc).gate("source_integrity")
    assert (g.required, g.on_fail, g.fail_on) == (True, "block", Severity.LOW)


def test_tier_table_covers_every_gate():
    for tier, table in TIER_DEFAULTS.items():
        assert set(table) == set(GATES), tier
    assert all(on_fail == "block" for _, on_fail in TIER_DEFAULTS["critical"].values())


@pytest.mark.parametrize(
    ("text", "seconds"), [("90d", 90 * 86400), ("12h", 43200), ("30m", 1800), ("2w", 1209600), (45, 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_bad_duration_is_named():
    with pytest.raises(PolicyError, match="invalid duration"):
        GatePolicy.parse(HEAD + "gates:\n  dependency_scan:\n    max_advisory_age: soon\n")


def test_yaml_round_trip_of_a_full_policy():
    doc = (
        HEAD
        + "tier: standard\ngates:\n  dependency_scan:\n    max_advisory_age: 30d\n    waivers:\n"
        + "      - {id: PYSEC-1, reason: not reachable, owner: sec@example.com, expires: 2030-01-01}\n"
    )
    p = GatePolicy.parse(doc)
    dumped = p.to_yaml_dict()
    assert dumped["gates"]["dependency_scan"]["max_advisory_age"] == "30d"
    assert GatePolicy.model_validate(dumped) == p


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_any_text_is_a_policy_or_a_config_error(text):
    try:
        GatePolicy.parse(text, "fuzz.yaml")
    except ConfigError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=12,
    )
)
def test_fuzz_structured_documents(gates):
    import yaml

    doc = yaml.safe_dump({"apiVersion": "kfp-gates/v1", "kind": "GatePolicy", "gates": gates})
    try:
        GatePolicy.parse(doc, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.diagnostics()
