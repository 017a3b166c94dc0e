"""Gate binding: a signed statement carries the gate results *this* model passed, and nothing else binds.

The attack these tests hold off: scan a clean model A (pass), then sign a
poisoned model B with A's passing result bound. It must be refused when
signing, and a statement that binds a result about other bytes must be
refused when verifying.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import model_signing
import pytest

from kfp_gates.components.common.digest import model_digest
from kfp_gates.components.common.errors import UnsafeInputError
from kfp_gates.components.common.evidence import statement_json
from kfp_gates.components.common.gate import GateSettings, finalize, unread_subject_finding
from kfp_gates.components.common.result import Finding, GateResult, Subject, Tool, utcnow
from kfp_gates.components.common.severity import Severity
from kfp_gates.components.model_scan.gate import run_gate as scan_gate
from kfp_gates.components.model_signing import GateBindingError, sign_model, verify_model
from kfp_gates.components.model_signing import errors as E
from kfp_gates.components.model_signing.bundle import read_bundle
from kfp_gates.components.model_signing.gate import run_sign_gate, run_verify_gate
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier
from kfp_gates.components.model_signing.statement import build_payload, parse_payload


class _Payload:
    """A ``__reduce__`` payload: loading the pickle would call os.system (never loaded here)."""

    def __reduce__(self):
        return (os.system, ("echo owned",))


def write_result(path: Path, gate: str, about: Path | str, *, fail: bool = False) -> Path:
    digest = about if isinstance(about, str) else model_digest(about)
    findings = [Finding(id="X-1", severity=Severity.CRITICAL, message="bad")] if fail else []
    r = finalize(
        gate=gate,
        subject=Subject(name="model", digest={"sha256": digest}),
        tool=Tool(name="t", version="1"),
        findings=findings,
        settings=GateSettings(),
        started_at=utcnow(),
    )
    path.write_text(r.to_json())
    return path


@pytest.fixture
def bound(model, keypair, tmp_path):
    scan = write_result(tmp_path / "scan.json", "model_scan", model)
    # the in-toto statement form of a result binds too
    dv = write_result(tmp_path / "dv.json", "data_validation", model)
    data = tmp_path / "dv.intoto.json"
    data.write_text(statement_json(GateResult.from_json(dv.read_text())))
    sig = tmp_path / "m.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig, gate_results=[scan, data])
    return model, sig, PublicKeyVerifier.from_file(keypair.public), scan


@pytest.fixture
def clean_and_poisoned(tmp_path):
    """Model A (clean, its real scan passes) and model B (a pickle payload, its real scan fails)."""
    a = tmp_path / "a" / "model.pkl"
    b = tmp_path / "b" / "model.pkl"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_bytes(pickle.dumps({"weights": [0.1, 0.2]}))
    b.write_bytes(pickle.dumps({"weights": _Payload()}))
    scan_a = scan_gate(a)
    assert scan_a.decision.value == "pass"
    assert scan_gate(b).decision.value == "fail"
    result_a = tmp_path / "scan-a.json"
    result_a.write_text(scan_a.to_json())
    return a, b, result_a


def test_required_gates_present_and_passed_verify(bound) -> None:
    model, sig, v, _ = bound
    result = verify_model(model, sig, v, require_gates=["model_scan", "data_validation"])
    assert {g.gate for g in result.statement.gate_results} == {"model_scan", "data_validation"}
    assert result.statement.model_digest == model_digest(model) == result.actual.model_digest


def test_a_passing_scan_of_another_model_refuses_signing(clean_and_poisoned, keypair, tmp_path) -> None:
    a, b, result_a = clean_and_poisoned
    sig = tmp_path / "b.sig"
    with pytest.raises(GateBindingError) as exc:
        sign_model(b, ECKeySigner.from_file(keypair.private), signature=sig, gate_results=[result_a])
    assert exc.value.finding_id == E.GATE_OTHER_SUBJECT
    # the refusal names both subjects, by digest
    assert model_digest(a) in exc.value.message and model_digest(b) in exc.value.message
    assert not sig.exists()


def test_the_sign_gate_reports_the_refusal_about_the_signed_bytes(clean_and_poisoned, keypair, tmp_path) -> None:
    _, b, result_a = clean_and_poisoned
    result, signing = run_sign_gate(
        b, ECKeySigner.from_file(keypair.private), GateSettings(), signature=tmp_path / "b.sig",
        gate_result_files=[result_a],
    )
    assert signing is None and result.decision.value == "fail"
    assert result.subject.sha256 == model_digest(b)  # the model that was hashed, never a path digest
    assert E.GATE_OTHER_SUBJECT in {f.id for f in result.findings}


def test_a_statement_binding_another_subject_is_refused_at_verification(clean_and_poisoned, keypair, tmp_path):
    """Even a statement signed with the key (e.g. by an older kfp-gates) cannot carry A's scan for B."""
    a, b, result_a = clean_and_poisoned
    from kfp_gates.components.model_signing.hashing import HashingConfig, hash_model
    from kfp_gates.components.model_signing.statement import load_gate_result

    _, bound_a = load_gate_result(result_a)
    manifest = hash_model(b, HashingConfig())
    bundle = ECKeySigner.from_file(keypair.private).sign(build_payload(manifest, (bound_a,)))
    sig = tmp_path / "forged.sig"
    from kfp_gates.components.model_signing.bundle import write_bundle

    write_bundle(bundle, sig)
    v = PublicKeyVerifier.from_file(keypair.public)
    with pytest.raises(GateBindingError) as exc:
        verify_model(b, sig, v, require_gates=["model_scan"])
    assert exc.value.finding_id == E.GATE_OTHER_SUBJECT
    assert model_digest(a) in exc.value.message and model_digest(b) in exc.value.message
    # and the result file itself, offered at verification, is refused for the same reason
    with pytest.raises(GateBindingError, match=r"not about|is about"):
        verify_model(b, sig, v, gate_result_files=[result_a])


def test_honest_path_scan_then_sign_then_verify(clean_and_poisoned, keypair, tmp_path) -> None:
    a, _, result_a = clean_and_poisoned
    sig = tmp_path / "a.sig"
    sign_model(a, ECKeySigner.from_file(keypair.private), signature=sig, gate_results=[result_a])
    v = verify_model(a, sig, PublicKeyVerifier.from_file(keypair.public), require_gates=["model_scan"],
                     gate_result_files=[result_a])
    assert v.statement.gate_results[0].subject_sha256 == model_digest(a)
    # upstream still verifies the kfp-gates signature
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=keypair.public).verify(a, sig)


def test_verify_gate_names_the_model_by_its_model_digest(bound) -> None:
    model, sig, v, _ = bound
    result = run_verify_gate(model, sig, v, GateSettings(), require_gates=["model_scan"])
    assert result.decision.value == "pass" and result.subject.sha256 == model_digest(model)


def test_verify_refused_before_hashing_names_no_digest(model, keypair, other_keypair, tmp_path) -> None:
    sig = tmp_path / "m.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig)
    result = run_verify_gate(model, sig, PublicKeyVerifier.from_file(other_keypair.public), GateSettings())
    assert result.decision.value == "fail"
    assert not result.subject.known and result.subject.sha256 is None
    assert "KFPG-SUBJECT-UNREAD" in {f.id for f in result.findings}


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


def test_failed_gate_result_about_this_model_refuses_signing(model, keypair, tmp_path) -> None:
    bad = write_result(tmp_path / "scan.json", "model_scan", model, fail=True)
    with pytest.raises(GateBindingError, match="model_scan") as exc:
        sign_model(model, ECKeySigner.from_file(keypair.private), signature=tmp_path / "s.sig", gate_results=[bad])
    assert exc.value.finding_id == E.GATE_FAILED
    assert not (tmp_path / "s.sig").exists()


def test_result_that_read_no_subject_refuses_signing(model, keypair, tmp_path) -> None:
    unread = finalize(
        gate="model_scan", subject=Subject.unread("model"), tool=Tool(name="t", version="1"),
        findings=[unread_subject_finding("model", "could not read")], settings=GateSettings(), started_at=utcnow(),
    )
    path = tmp_path / "unread.json"
    path.write_text(unread.to_json())
    with pytest.raises(GateBindingError) as exc:
        sign_model(model, ECKeySigner.from_file(keypair.private), signature=tmp_path / "s.sig", gate_results=[path])
    assert exc.value.finding_id == E.GATE_SUBJECT_UNREAD


@pytest.mark.parametrize("cut", [1, 40, 200])
def test_truncated_gate_result_is_refused(bound, keypair, tmp_path, cut) -> None:
    model, _, _, scan = bound
    text = scan.read_text()
    scan.write_text(text[: len(text) - cut])
    with pytest.raises(UnsafeInputError):
        sign_model(model, ECKeySigner.from_file(keypair.private), signature=tmp_path / "t.sig", gate_results=[scan])


def test_signature_without_binding_cannot_satisfy_required_gates(model, keypair, tmp_path) -> None:
    sig = tmp_path / "up.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keypair.private).sign(model, sig)
    with pytest.raises(GateBindingError, match="no 'model_scan'"):
        verify_model(model, sig, PublicKeyVerifier.from_file(keypair.public), require_gates=["model_scan"])


def test_signed_model_digest_is_in_the_payload(bound) -> None:
    model, sig, v, _ = bound
    payload_type, payload = v.verify(read_bundle(sig))
    assert json.loads(payload)["predicate"]["kfp_gates"]["model_digest"] == {"sha256": model_digest(model)}
    assert parse_payload(payload_type, payload).model_digest == model_digest(model)


def test_garbage_gate_result_is_unsafe_input(model, keypair, tmp_path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"gate": "x"}')
    with pytest.raises(UnsafeInputError):
        sign_model(model, ECKeySigner.from_file(keypair.private), gate_results=[junk])


def test_shard_signatures_name_the_model_digest_with_and_without_a_signed_one(model, keypair, tmp_path) -> None:
    from kfp_gates.components.model_signing.hashing import HashingConfig

    sig = tmp_path / "shards.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig,
               config=HashingConfig(method="shards", shard_size=4096))
    v = PublicKeyVerifier.from_file(keypair.public)
    # kfp-gates signature: the signed model digest is used once every shard matched (no second pass)
    assert verify_model(model, sig, v).actual.model_digest == model_digest(model)
    # upstream shard signature (no kfp-gates binding): the digest is computed from the bytes
    up = tmp_path / "up.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keypair.private).set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=4096)).sign(model, up)
    assert run_verify_gate(model, up, v, GateSettings()).subject.sha256 == model_digest(model)
    # a tampered model is refused; its result never names the signed digest (only the tampered bytes', or none)
    signed = model_digest(model)
    (model / "config.json").write_text('{"layers": 9}')
    r = run_verify_gate(model, sig, v, GateSettings())
    assert r.decision.value == "fail" and r.subject.sha256 != signed
    assert r.subject.sha256 in (None, model_digest(model))
