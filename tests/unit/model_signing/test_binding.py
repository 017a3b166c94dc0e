"""Gate binding: gate results are signed metadata; verification can require named gates passed."""

from __future__ import annotations

import json
from pathlib import Path

import model_signing
import pytest

from kfp_gates.components.common.errors import GateBlocked, UnsafeInputError
from kfp_gates.components.common.evidence import statement_json
from kfp_gates.components.common.gate import GateSettings, finalize
from kfp_gates.components.common.result import Finding, GateResult, Subject, Tool, utcnow
from kfp_gates.components.common.severity import Severity
from kfp_gates.components.model_signing import GateBindingError, sign_model, verify_model
from kfp_gates.components.model_signing import errors as E
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier


def write_result(path: Path, gate: str, *, fail: bool = False) -> Path:
    findings = [Finding(id="X-1", severity=Severity.CRITICAL, message="bad")] if fail else []
    r = finalize(
        gate=gate,
        subject=Subject(name="model", digest={"sha256": "a" * 64}),
        tool=Tool(name="t", version="1"),
        findings=findings,
        settings=GateSettings(),
        started_at=utcnow(),
    )
    path.write_text(r.to_json())
    return path


@pytest.fixture
def bound(model, keypair, tmp_path):
    scan = write_result(tmp_path / "scan.json", "model_scan")
    # the in-toto statement form of a result binds too
    dv = write_result(tmp_path / "dv.json", "data_validation")
    data = tmp_path / "dv.intoto.json"
    data.write_text(statement_json(GateResult.from_json(dv.read_text())))
    sig = tmp_path / "m.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig, gate_results=[scan, data])
    return model, sig, PublicKeyVerifier.from_file(keypair.public), scan


def test_required_gates_present_and_passed_verify(bound) -> None:
    model, sig, v, _ = bound
    result = verify_model(model, sig, v, require_gates=["model_scan", "data_validation"])
    assert {g.gate for g in result.statement.gate_results} == {"model_scan", "data_validation"}


def test_missing_required_gate_blocks_naming_it(bound) -> None:
    model, sig, v, _ = bound
    with pytest.raises(GateBindingError) as exc:
        verify_model(model, sig, v, require_gates=["model_scan", "dependency_scan"])
    assert exc.value.finding_id == E.GATE_MISSING and exc.value.gate == "dependency_scan"


def test_binding_is_ignored_by_upstream_and_still_verifies_there(bound, keypair) -> None:
    model, sig, _, _ = bound
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=keypair.public).verify(model, sig)


def test_result_file_must_be_the_one_that_was_signed(bound, tmp_path) -> None:
    model, sig, v, scan = bound
    verify_model(model, sig, v, gate_result_files=[scan])
    doc = json.loads(scan.read_text())
    doc["metadata"] = {"edited": True}
    scan.write_text(json.dumps(doc))
    with pytest.raises(GateBindingError) as exc:
        verify_model(model, sig, v, gate_result_files=[scan])
    assert exc.value.finding_id == E.GATE_RESULT_UNSIGNED


def test_failed_gate_result_refuses_signing(model, keypair, tmp_path) -> None:
    bad = write_result(tmp_path / "scan.json", "model_scan", fail=True)
    with pytest.raises(GateBlocked, match="model_scan"):
        sign_model(model, ECKeySigner.from_file(keypair.private), signature=tmp_path / "s.sig", gate_results=[bad])
    assert not (tmp_path / "s.sig").exists()


def test_signature_without_binding_cannot_satisfy_required_gates(model, keypair, tmp_path) -> None:
    sig = tmp_path / "up.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keypair.private).sign(model, sig)
    with pytest.raises(GateBindingError, match="no 'model_scan'"):
        verify_model(model, sig, PublicKeyVerifier.from_file(keypair.public), require_gates=["model_scan"])


def test_garbage_gate_result_is_unsafe_input(model, keypair, tmp_path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"gate": "x"}')
    with pytest.raises(UnsafeInputError):
        sign_model(model, ECKeySigner.from_file(keypair.private), gate_results=[junk])
