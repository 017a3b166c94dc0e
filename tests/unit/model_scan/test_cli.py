"""``kfp-gates scan-model`` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .corpus import _call, _evil


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    out = {
        "ok": tmp_path / "ok.pkl",
        "evil": tmp_path / "evil.bin",
        "unknown": tmp_path / "unknown.pkl",
        "truncated": tmp_path / "truncated.pkl",
    }
    out["ok"].write_bytes(b"\x80\x04]\x94(K\x01K\x02e.")
    out["evil"].write_bytes(_evil())
    out["unknown"].write_bytes(_call("mypkg.features", "Tokenizer", "x"))
    out["truncated"].write_bytes(_evil()[:-3])
    return out


def test_exit_codes(cli, models: dict[str, Path], tmp_path: Path) -> None:
    assert cli("scan-model", str(models["ok"])).code == 0
    r = cli("scan-model", str(models["evil"]))
    assert r.code == 1
    assert "KFPG-MS-DANGEROUS-GLOBAL" in r.out and "posix.system" in r.out
    assert cli("scan-model", str(models["truncated"])).code == 1
    assert cli("scan-model", str(models["unknown"])).code == 1
    assert cli("scan-model", str(models["unknown"]), "--allow", "mypkg.features.Tokenizer").code == 0
    r = cli("scan-model", str(tmp_path / "missing.pkl"))
    assert r.code == 2 and "not found" in r.err and "Traceback" not in r.err
    r = cli("scan-model", str(models["evil"]), "--allow", "posix.system")
    assert r.code == 2 and "cannot allow" in r.err


def test_invalid_policy_is_exit_2(cli, models: dict[str, Path], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  model_scan:\n    alow: [x.y]\n")
    r = cli("scan-model", str(models["ok"]), "--policy", str(policy))
    assert r.code == 2 and "allow" in r.err


def test_fast_track_policy_downgrades_unknown(cli, models: dict[str, Path], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: fast-track\n"
                      "gates:\n  model_scan:\n    unknown_globals: warn\n")
    assert cli("scan-model", str(models["unknown"]), "--policy", str(policy)).code == 0
    assert cli("scan-model", str(models["evil"]), "--policy", str(policy)).code == 1


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown", "html"])
def test_formats_and_output_file(cli, models: dict[str, Path], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    r = cli("scan-model", str(models["evil"]), "--format", fmt, "--output", str(out))
    assert r.code == 1
    text = out.read_text()
    assert "posix.system" in text
    if fmt == "json":
        data = json.loads(text)
        assert data["decision"] == "fail"
        assert data["findings"][0]["location"]["offset"] is not None
    if fmt == "sarif":
        assert json.loads(text)["runs"][0]["results"][0]["ruleId"] == "KFPG-MS-DANGEROUS-GLOBAL"


def test_directory(cli, models: dict[str, Path]) -> None:
    r = cli("scan-model", str(models["ok"].parent), "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    paths = {f["location"]["path"] for f in data["findings"]}
    assert paths == {str(models["evil"]), str(models["unknown"]), str(models["truncated"])}
