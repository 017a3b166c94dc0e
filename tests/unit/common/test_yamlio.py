"""Strict YAML/JSON loading: hostile shapes are usage errors naming the file, never internal errors."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.yamlio import MAX_DEPTH, MAX_INT_DIGITS, parse_document

DEEP_JSON = "[" * 100_000 + "]" * 100_000  # past the interpreter's recursion limit
NESTED_80 = "gates: " + "[" * 80 + "]" * 80 + "\n"  # under it, over MAX_DEPTH


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        (DEEP_JSON, "nested too deeply", "p.json"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply", "p.json"),
        (NESTED_80, f"nested more than {MAX_DEPTH} levels", "p.json:1"),
        ("a: 1\nb: " + "9" * 5000 + "\n", "integer literal of 5000 digits", "p.json:2"),
        ("a: -0x" + "f" * 200 + "\n", "integer literal", "p.json:1"),
        ("when: 2026-13-45\n", "not valid YAML/JSON", "p.json"),
    ],
)
def test_hostile_documents_are_config_errors_naming_the_file(text: str, message: str, where: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_document(text, "p.json", what="policy")
    assert message in str(exc.value) and exc.value.where == where, exc.value.diagnostics()


def test_ordinary_documents_and_long_but_sane_integers_still_parse() -> None:
    doc = parse_document("a: [[[1]]]\nb: " + "9" * MAX_INT_DIGITS + "\n", "p.yaml")
    assert doc.data["a"] == [[[1]]] and doc.data["b"] == int("9" * MAX_INT_DIGITS)


def test_policy_with_an_absurd_process_limit_is_a_policy_error() -> None:
    with pytest.raises(ConfigError):
        GatePolicy.parse("gates:\n  isolation:\n    max_processes: 99999999999999999999999\n")


def test_cli_exits_2_for_deep_or_huge_policy_and_suite(cli, tmp_path) -> None:
    (tmp_path / "deep.json").write_text(DEEP_JSON)
    (tmp_path / "big.yaml").write_text("gates:\n  isolation:\n    max_processes: " + "9" * 5000 + "\n")
    (tmp_path / "d.csv").write_text("a\n1\n")
    (tmp_path / "suite.json").write_text(
        '{"name": "s", "expectations": [{"type": "expect_column_values_to_be_between", '
        '"kwargs": {"column": "a", "min_value": ' + "9" * 5000 + "}}]}"
    )
    for args, name in (
        (("policy", "validate", "deep.json"), "deep.json"),
        (("policy", "validate", "big.yaml"), "big.yaml"),
        (("validate-data", "d.csv", "--suite", "deep.json"), "deep.json"),
        (("validate-data", "d.csv", "--suite", "suite.json"), "suite.json"),
    ):
        r = cli(*args)
        assert r.code == 2, r
        assert name in r.err and "internal error" not in r.err, r
