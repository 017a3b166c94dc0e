"""The gate's decision under each tier and policy setting."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from kfp_gates.components.common.errors import ConfigError, PolicyError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan import scanner as s

from .corpus import _call, _evil

UNKNOWN = _call("mypkg.features", "Tokenizer", "x")


def _policy(text: str) -> GatePolicy:
    return GatePolicy.parse("apiVersion: kfp-gates/v1\nkind: GatePolicy\n" + text)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {"evil": tmp_path / "evil.pkl", "unknown": tmp_path / "unknown.pkl", "ok": tmp_path / "ok.pkl",
           "truncated": tmp_path / "trunc.pkl"}
    out["evil"].write_bytes(_evil())
    out["unknown"].write_bytes(UNKNOWN)
    out["ok"].write_bytes(b"\x80\x04]\x94(K\x01K\x02e.")
    out["truncated"].write_bytes(b"\x80\x04]\x94(K\x01K\x02e")
    return out


@pytest.mark.parametrize("tier", ["critical", "standard", "fast-track"])
def test_dangerous_unknown_and_truncated_block_in_every_tier(files: dict[str, Path], tier: str) -> None:
    policy = GatePolicy.default(tier)
    assert run_gate(files["evil"], policy).decision.value == "fail"
    assert run_gate(files["unknown"], policy).decision.value == "fail"
    assert run_gate(files["truncated"], policy).decision.value == "fail"
    assert run_gate(files["ok"], policy).decision.value == "pass"


def test_fast_track_may_downgrade_unknown_but_not_dangerous(files: dict[str, Path]) -> None:
    policy = _policy("tier: fast-track\ngates:\n  model_scan:\n    unknown_globals: warn\n    on_fail: warn\n")
    assert run_gate(files["unknown"], policy).decision.value == "warn"
    result = run_gate(files["evil"], policy)
    assert result.decision.value == "fail"
    with pytest.raises(PolicyError):
        _policy("tier: standard\ngates:\n  model_scan:\n    unknown_globals: warn\n")


def test_allow_from_policy_and_argument(files: dict[str, Path]) -> None:
    policy = _policy("gates:\n  model_scan:\n    allow: [mypkg.features.Tokenizer]\n")
    result = run_gate(files["unknown"], policy)
    assert result.decision.value == "pass"
    assert result.policy["allow"] == ["mypkg.features.Tokenizer"]
    assert run_gate(files["unknown"], allow=["mypkg.features.*"]).decision.value == "pass"
    with pytest.raises(ConfigError):
        run_gate(files["evil"], allow=["posix.system"])


def test_unknown_global_can_be_waived_by_alias_dangerous_cannot(files: dict[str, Path]) -> None:
    expires = (date.today() + timedelta(days=30)).isoformat()
    waiver = "{id: %s, reason: reviewed tokenizer, owner: ml@example.com, expires: %s}"
    alias = "KFPG-MS-UNKNOWN-GLOBAL:mypkg.features.Tokenizer"
    policy = _policy(f"gates:\n  model_scan:\n    waivers: [{waiver % (alias, expires)}]\n")
    result = run_gate(files["unknown"], policy)
    assert result.decision.value == "pass"
    assert result.findings[0].waived
    policy = _policy(f"gates:\n  model_scan:\n    waivers: [{waiver % ('KFPG-MS-DANGEROUS-GLOBAL', expires)}]\n")
    with pytest.raises(ConfigError, match="cannot be waived"):
        run_gate(files["evil"], policy)


def test_result_carries_subject_digest_files_and_globals(files: dict[str, Path]) -> None:
    import hashlib

    result = run_gate(files["evil"])
    assert result.gate == "model_scan"
    assert result.subject.sha256 == hashlib.sha256(files["evil"].read_bytes()).hexdigest()
    assert result.metadata["globals"]["posix.system"] == "dangerous"
    assert result.metadata["files"][0]["format"] == "pickle"
    f = next(f for f in result.findings if f.id == s.DANGEROUS)
    assert f.location.path == str(files["evil"]) and f.location.offset is not None
    assert f.data["global"] == "posix.system"


def test_explicit_fail_on_is_respected(files: dict[str, Path]) -> None:
    policy = _policy("tier: fast-track\ngates:\n  model_scan:\n    fail_on: critical\n")
    assert run_gate(files["unknown"], policy).decision.value == "warn"
    assert run_gate(files["evil"], policy).decision.value == "fail"


def test_unresolvable_operands_block_even_when_unknown_globals_warn(tmp_path: Path) -> None:
    p = tmp_path / "ext.pkl"
    p.write_bytes(b"\x80\x02\x82\x01N\x85R.")
    policy = _policy("tier: fast-track\ngates:\n  model_scan:\n    unknown_globals: warn\n")
    assert run_gate(p, policy).decision.value == "fail"
