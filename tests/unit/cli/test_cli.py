"""The kfp-gates console script: help, version, exit codes, no stack traces, output options."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema

from kfp_gates.components.common.evidence import PREDICATE_TYPE

from ..common.test_result import make_result

GOOD = "apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: critical\n"


def test_help_lists_every_command_and_exit_codes(cli):
    r = cli("--help")
    assert r.code == 0
    for command in ("policy", "schema", "evidence"):
        assert command in r.out
    assert "exit codes:" in r.out and "3  infrastructure error" in r.out


def test_help_does_not_import_heavy_libraries():
    """--help must stay fast: building the parser imports no KFP, GX, pandas, MLflow, Spark or torch."""
    code = (
        "import sys\n"
        "from kfp_gates.sdk.cli import build_parser\n"
        "build_parser()\n"
        "heavy = {'kfp', 'great_expectations', 'pandas', 'mlflow', 'pyspark', 'torch', 'sklearn', 'numpy', 'hvac',"
        " 'kubernetes', 'pydantic'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("kfp-gates ")


def test_no_command_is_a_usage_error(cli):
    assert cli().code == 2


def test_unknown_flag_is_a_usage_error(cli):
    r = cli("policy", "validate", "--frobnicate")
    assert r.code == 2 and "Traceback" not in r.err


def test_policy_validate_ok(cli, tmp_path):
    (tmp_path / "p.yaml").write_text(GOOD)
    r = cli("policy", "validate", "p.yaml")
    assert r.code == 0 and "valid GatePolicy (tier critical)" in r.out


def test_misspelt_key_exits_2_naming_it_without_traceback(cli, tmp_path):
    (tmp_path / "p.yaml").write_text(GOOD + "gatez:\n  model_scan: {}\n")
    r = cli("policy", "validate", "p.yaml")
    assert r.code == 2
    assert "p.yaml:4: gatez: unknown key; did you mean 'gates'?" in r.err
    assert "Traceback" not in r.err


def test_missing_file_exits_2(cli):
    r = cli("policy", "validate", "nope.yaml")
    assert r.code == 2 and "nope.yaml: policy file not found" in r.err and "Traceback" not in r.err


def test_debug_shows_a_trace(cli):
    r = cli("--debug", "policy", "validate", "nope.yaml")
    assert r.code == 2 and "Traceback" in r.err


def test_debug_from_environment(cli):
    r = cli("policy", "validate", "nope.yaml", env={"KFP_GATES_DEBUG": "1"})
    assert "Traceback" in r.err


def test_policy_show_table_and_yaml(cli, tmp_path):
    r = cli("policy", "show", "--tier", "critical")
    assert r.code == 0 and "tier: critical" in r.out
    assert "source_integrity  yes       block" in r.out
    r = cli("policy", "show", "--tier", "fast-track", "--format", "yaml")
    assert r.code == 0 and "tier: fast-track" in r.out
    (tmp_path / "p.yaml").write_text(r.out)
    assert cli("policy", "validate", "p.yaml").code == 0  # what show prints is a valid policy


def test_policy_schema_is_json_schema(cli):
    r = cli("policy", "schema")
    schema = json.loads(r.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "gates" in schema["properties"]


def test_schema_result_validates_a_result(cli):
    r = cli("schema", "result")
    assert r.code == 0
    jsonschema.validate(make_result().to_dict(), json.loads(r.out))


def test_evidence_from_result(cli, tmp_path):
    (tmp_path / "r.json").write_text(make_result().to_json())
    r = cli("evidence", "r.json", "-o", "out/statement.json")
    assert r.code == 0
    st = json.loads((tmp_path / "out" / "statement.json").read_text())
    assert st["predicateType"] == PREDICATE_TYPE
    assert st["subject"][0]["digest"]["sha256"] == make_result().subject.sha256


def test_evidence_rejects_non_result(cli, tmp_path):
    (tmp_path / "r.json").write_text('{"gate": "x"}')
    r = cli("evidence", "r.json")
    assert r.code == 2 and "not a kfp-gates result" in r.err
    assert cli("evidence", "missing.json").code == 2


def test_invalid_format_from_environment_does_not_break_other_commands(cli, tmp_path):
    (tmp_path / "p.yaml").write_text(GOOD)
    r = cli("policy", "validate", "p.yaml", env={"KFP_GATES_FORMAT": "xml"})
    assert r.code == 0, r  # policy validate has no --format: the variable does not concern it
    assert cli("--help", env={"KFP_GATES_FORMAT": "xml"}).code == 0


def test_invalid_format_from_environment_is_a_usage_error_for_report_commands(cli, tmp_path):
    import argparse

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.sdk.cli._common import add_output_options, apply_env_defaults

    parser = argparse.ArgumentParser()
    add_output_options(parser)
    args = parser.parse_args([])
    import os

    old = os.environ.get("KFP_GATES_FORMAT")
    os.environ["KFP_GATES_FORMAT"] = "xml"
    try:
        try:
            apply_env_defaults(args)
        except ConfigError as exc:
            assert exc.exit_code == 2 and "KFP_GATES_FORMAT" in exc.diagnostics()
        else:
            raise AssertionError("an invalid KFP_GATES_FORMAT was accepted")
        os.environ["KFP_GATES_FORMAT"] = "sarif"
        args = parser.parse_args([])
        apply_env_defaults(args)
        assert args.format == "sarif"
        assert parser.parse_args(["--format", "json"]).format == "json"
    finally:
        if old is None:
            os.environ.pop("KFP_GATES_FORMAT", None)
        else:
            os.environ["KFP_GATES_FORMAT"] = old
