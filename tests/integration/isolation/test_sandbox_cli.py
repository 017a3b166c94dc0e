"""``kfp-gates sandbox`` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

from kfp_gates.components.common.result import GateResult

SECRET = "hvs.CAESIsandboxclisecretvalue0123456789"


def test_runs_the_command_and_writes_outputs(cli, tmp_path: Path) -> None:
    # Launched as root, the step runs as nobody: pytest's 0700 tmp dir must be opened up.
    tmp_path.chmod(0o755)
    (tmp_path / "in.txt").write_text("hello\n")
    r = cli(
        "sandbox", "--input", "in.txt", "--output", "out", "--report", "result.json",
        "--", "sh", "-c", "tr a-z A-Z < in.txt > out/up.txt; echo done",
    )  # fmt: skip
    assert r.code == 0, r
    assert r.out == "done\n"  # stdout belongs to the command
    assert (tmp_path / "out" / "up.txt").read_text() == "HELLO\n"
    result = GateResult.from_json((tmp_path / "result.json").read_text())
    assert result.gate == "isolation" and result.decision.value == "pass"
    assert result.metadata["exit_code"] == 0 and result.metadata["isolated"] is True
    assert "isolation PASS" in r.err


def test_exit_status_is_propagated(cli) -> None:
    r = cli("sandbox", "--", "sh", "-c", "exit 42")
    assert r.code == 42, r
    assert "KFPG-ISO-STEP-FAILED" in r.err


def test_secrets_never_reach_the_command_or_the_report(cli, tmp_path: Path) -> None:
    r = cli(
        "sandbox", "--report", "r.json", "--format", "json", "--", "sh", "-c", "env",
        env={"VAULT_TOKEN": SECRET, "AWS_SECRET_ACCESS_KEY": "x" * 40},
    )  # fmt: skip
    assert r.code == 0, r
    assert "VAULT_TOKEN" not in r.out and SECRET not in r.out and "AWS_SECRET" not in r.out
    assert SECRET not in (tmp_path / "r.json").read_text()


def test_env_passes_named_variables_and_flags_secret_looking_ones(cli, tmp_path: Path) -> None:
    r = cli(
        "sandbox", "--env", "SEED", "--env", "VAULT_TOKEN", "--tier", "critical", "--report", "r.json",
        "--", "sh", "-c", 'echo "$SEED"',
        env={"SEED": "1234", "VAULT_TOKEN": SECRET},
    )  # fmt: skip
    # critical tier: a credential passed in on request blocks, decided before the command starts
    assert r.code == 1, r
    assert r.out == "", r
    assert "not run" in r.err
    data = json.loads((tmp_path / "r.json").read_text())
    assert [f["id"] for f in data["findings"]] == ["KFPG-ISO-NOT-RUN", "KFPG-ISO-SECRET-ENV"]
    assert data["metadata"]["ran"] is False
    assert SECRET not in (tmp_path / "r.json").read_text() + r.err
    # standard tier: reported, not blocking, so the command runs with it
    r = cli(
        "sandbox", "--env", "SEED", "--env", "VAULT_TOKEN", "--report", "r.json",
        "--", "sh", "-c", 'echo "$SEED"',
        env={"SEED": "1234", "VAULT_TOKEN": SECRET},
    )  # fmt: skip
    assert r.code == 0 and r.out == "1234\n", r
    assert [f["id"] for f in json.loads((tmp_path / "r.json").read_text())["findings"]] == ["KFPG-ISO-SECRET-ENV"]


def test_timeout_exits_3(cli) -> None:
    r = cli("sandbox", "--timeout", "1", "--", "sleep", "60", timeout=30)
    assert r.code == 3, r
    assert "KFPG-ISO-TIMEOUT" in r.err


def test_bad_input_and_usage_exit_2(cli) -> None:
    assert cli("sandbox", "--input", "missing.bin", "--", "true").code == 2
    r = cli("sandbox")
    assert r.code == 2 and "no command given" in r.err
    assert cli("sandbox", "--timeout", "soon", "--", "true").code == 2
    assert cli("sandbox", "--memory", "lots", "--", "true").code == 2
    assert cli("sandbox", "--workdir", "no/such/dir", "--", "true").code == 2


def test_unknown_command_inside_is_refused_before_running(cli) -> None:
    r = cli("sandbox", "--", "definitely-not-a-command-kfpg")
    assert r.code == 3, r
    assert "command not found inside the sandbox" in r.err


def test_isolation_none_only_in_fast_track(cli, tmp_path: Path) -> None:
    (tmp_path / "ft.yaml").write_text("tier: fast-track\ngates:\n  isolation:\n    isolation: none\n")
    r = cli("sandbox", "--policy", "ft.yaml", "--", "true")
    assert r.code == 0, r
    assert "KFPG-ISO-UNISOLATED" in r.err and "WITHOUT isolation" in r.err
    (tmp_path / "std.yaml").write_text("tier: standard\ngates:\n  isolation:\n    isolation: none\n")
    r = cli("sandbox", "--policy", "std.yaml", "--", "true")
    assert r.code == 2 and "fast-track" in r.err
