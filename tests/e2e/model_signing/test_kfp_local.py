"""kfp.local: train -> scan_model -> sign_model -> verify_model passes; a tampered copy is blocked, naming the file.

The scan result bound into the signature is the real scan of the trained model: its subject digest is
the model digest signing checks the binding against.
"""

# No `from __future__ import annotations` here: KFP reads real annotations.

import json
from typing import NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from kfp import dsl

from kfp_gates.components import scan_model, sign_model, verify_model


@dsl.component(base_image="python:3.11-slim")
def _train(model: dsl.Output[dsl.Model]):
    import os
    import pickle

    os.makedirs(model.path)
    with open(os.path.join(model.path, "weights.pkl"), "wb") as fh:
        pickle.dump([i / 7 for i in range(10_000)], fh)
    with open(os.path.join(model.path, "config.json"), "w") as fh:
        fh.write('{"layers": 3}')


@dsl.component(base_image="python:3.11-slim")
def _tamper(model: dsl.Input[dsl.Model], tampered: dsl.Output[dsl.Model]):
    import shutil

    shutil.copytree(model.path, tampered.path)
    with open(tampered.path + "/config.json", "w") as fh:
        fh.write('{"layers": 4}')


class _Verdicts(NamedTuple):
    signed: str
    verified: str
    tampered: str


@dsl.pipeline(name="model-signing-e2e")
def _pipeline(key_file: str, public_key_pem: str) -> _Verdicts:
    trained = _train()
    scan = scan_model(model=trained.outputs["model"])
    signed = sign_model(
        model=trained.outputs["model"], model_scan_result=scan.outputs["result"], private_key_file=key_file
    )
    ok = verify_model(
        model=trained.outputs["model"],
        signature=signed.outputs["signature"],
        public_key_pem=public_key_pem,
        require_gates="model_scan",
    )
    bad_copy = _tamper(model=trained.outputs["model"])
    bad = verify_model(
        model=bad_copy.outputs["tampered"], signature=signed.outputs["signature"], public_key_pem=public_key_pem
    )
    return _Verdicts(signed=signed.outputs["Output"], verified=ok.outputs["Output"], tampered=bad.outputs["Output"])


def test_sign_then_verify_in_kfp_local(kfp_local, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    key_file = tmp_path / "signing-key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    run = _pipeline(key_file=str(key_file), public_key_pem=pem)
    assert run.outputs["signed"] == "pass"
    assert run.outputs["verified"] == "pass"
    assert run.outputs["tampered"] == "fail"

    results = {}
    for f in kfp_local.rglob("result"):
        data = json.loads(f.read_text())
        if data.get("gate") == "model_signing":
            results.setdefault(data["metadata"].get("verifier", {}).get("backend", "signer"), []).append(data)
    findings = [f for r in results["public-key"] for f in r["findings"]]
    assert [(f["id"], f["location"]["path"]) for f in findings] == [("KFPG-SIGN-MODIFIED", "config.json")]
    signer = results["signer"][0]
    assert [g["gate"] for g in signer["metadata"]["bound_gate_results"]] == ["model_scan"]
    sigs = [p for p in kfp_local.rglob("signature") if p.is_file()]
    assert len(sigs) == 1 and "dsseEnvelope" in sigs[0].read_text()
