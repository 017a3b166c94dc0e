"""The gate layer: refusals become findings (one per file), built with finalize(); errors propagate."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import InputNotFoundError
from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision
from kfp_gates.components.model_signing.gate import run_sign_gate, run_verify_gate
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier


def test_sign_then_verify_gate_results(model, keypair, tmp_path) -> None:
    settings = GateSettings.from_effective(GatePolicy.default().gate("model_signing"))
    signed, signing = run_sign_gate(
        model, ECKeySigner.from_file(keypair.private), settings, signature=tmp_path / "s.sig"
    )
    assert signed.decision is Decision.PASS and signing is not None
    assert signed.metadata["method"] == "files" and signed.metadata["files"] == 4
    ok = run_verify_gate(model, tmp_path / "s.sig", PublicKeyVerifier.from_file(keypair.public), settings)
    assert ok.decision is Decision.PASS and ok.subject.sha256 == signed.subject.sha256
    (model / "config.json").unlink()
    (model / "weights.bin").write_bytes(b"x")
    bad = run_verify_gate(model, tmp_path / "s.sig", PublicKeyVerifier.from_file(keypair.public), settings)
    assert bad.decision is Decision.FAIL
    assert sorted((f.id, f.location.path) for f in bad.findings) == [
        ("KFPG-SIGN-MODIFIED", "weights.bin"),
        ("KFPG-SIGN-REMOVED", "config.json"),
    ]


def test_fast_track_policy_downgrades_to_warn_but_still_names_the_file(model, keypair, tmp_path) -> None:
    run_sign_gate(model, ECKeySigner.from_file(keypair.private), GateSettings(), signature=tmp_path / "s.sig")
    (model / "config.json").write_text("{}")
    settings = GateSettings.from_effective(GatePolicy.default("fast-track").gate("model_signing"))
    r = run_verify_gate(model, tmp_path / "s.sig", PublicKeyVerifier.from_file(keypair.public), settings)
    assert r.decision is Decision.WARN and r.findings[0].location.path == "config.json"


def test_missing_signature_is_an_error_not_a_verdict(model, keypair, tmp_path) -> None:
    with pytest.raises(InputNotFoundError):
        run_verify_gate(model, tmp_path / "none.sig", PublicKeyVerifier.from_file(keypair.public), GateSettings())


def test_policy_section_keys() -> None:
    p = GatePolicy.parse(
        "apiVersion: kfp-gates/v1\nkind: GatePolicy\ngates:\n  model_signing:\n"
        "    require_gates: [model_scan]\n    ignore_paths: [.git, docs]\n"
        "    hashing: shards\n    shard_size: 1048576\n"
    )
    s = p.gate("model_signing").section
    assert s.require_gates == ("model_scan",) and s.hashing == "shards" and s.shard_size == 1 << 20  # type: ignore[attr-defined]
