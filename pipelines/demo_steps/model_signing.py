"""Demo of the model-signing gate: sign a model, verify it, then tamper one file and watch it block.

Everything is generated at demo time in the demo's temp dir: an EC P-256 key
pair, a small model directory (a real safetensors file), and the real model
scan of exactly that directory, whose passing result is bound into the
signature (a result about other bytes would be refused). Runs offline in well
under a second.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.model_scan.gate import run_gate as scan_model
from kfp_gates.components.model_signing.gate import GATE, run_sign_gate, run_verify_gate
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

from ..demo import DemoStep


def _prepare(tmp: Path) -> Path:
    """Key pair, model, a passing scan result and the signature, made once per demo run."""
    root = tmp / "model_signing"
    if (root / "model.sig").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    (root / "signing-key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (root / "signing-key.pub").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    model = root / "model"
    (model / "tokenizer").mkdir(parents=True, exist_ok=True)
    (model / "weights.safetensors").write_bytes(_safetensors(os.urandom(256 * 1024)))
    (model / "config.json").write_text('{"architecture": "demo", "layers": 4}\n')
    (model / "tokenizer" / "vocab.txt").write_text("hello\nworld\n")
    # The real scan of these bytes: its subject is the model digest that signing checks the binding against.
    (root / "model_scan.json").write_text(scan_model(model).to_json())
    return root


def _safetensors(data: bytes) -> bytes:
    """A valid safetensors file holding ``data`` as one float32 tensor."""
    header = json.dumps({"weights": {"dtype": "F32", "shape": [len(data) // 4], "data_offsets": [0, len(data)]}})
    raw = header.encode().ljust(-(-len(header) // 8) * 8)
    return struct.pack("<Q", len(raw)) + raw + data


def _settings(policy: GatePolicy) -> GateSettings:
    return GateSettings.from_effective(policy.gate(GATE))


def _sign(policy: GatePolicy, tmp: Path) -> GateResult:
    root = _prepare(tmp)
    result, _ = run_sign_gate(
        root / "model",
        ECKeySigner.from_file(root / "signing-key.pem"),
        _settings(policy),
        signature=root / "model.sig",
        gate_result_files=[root / "model_scan.json"],
    )
    return result


def _verify(policy: GatePolicy, tmp: Path) -> GateResult:
    root = _prepare(tmp)
    if not (root / "model.sig").exists():
        _sign(policy, tmp)
    return run_verify_gate(
        root / "model",
        root / "model.sig",
        PublicKeyVerifier.from_file(root / "signing-key.pub"),
        _settings(policy),
        require_gates=["model_scan"],
    )


def _tampered(policy: GatePolicy, tmp: Path) -> GateResult:
    root = _prepare(tmp)
    if not (root / "model.sig").exists():
        _sign(policy, tmp)
    copy = root / "model-tampered"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root / "model", copy)
    (copy / "config.json").write_text('{"architecture": "demo", "layers": 4, "backdoor": true}\n')
    return run_verify_gate(
        copy, root / "model.sig", PublicKeyVerifier.from_file(root / "signing-key.pub"), _settings(policy)
    )


STEPS: list[DemoStep] = [
    DemoStep("model signing: sign a generated model (EC key), binding its passing scan result", GATE, _sign, "pass"),
    DemoStep("model signing: verify the signed model, requiring the model_scan gate", GATE, _verify, "pass"),
    DemoStep("model signing: config.json edited after signing", GATE, _tampered, "fail"),
]
