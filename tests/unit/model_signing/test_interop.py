"""Interop both ways with upstream OpenSSF model_signing 1.x: library API and its CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import model_signing
import pytest

from kfp_gates.components.model_signing import HashingConfig, ModelIntegrityError, sign_model, verify_model
from kfp_gates.components.model_signing.signers.certificate import CertificateSigner, CertificateVerifier
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

UPSTREAM_CLI = str(Path(sys.executable).with_name("model_signing"))


def _upstream_verify_key(model: Path, sig: Path, pub: Path) -> None:
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, sig)


@pytest.mark.parametrize(
    "config",
    [HashingConfig(method="files"), HashingConfig(method="shards", shard_size=1 << 16)],
    ids=["files", "shards"],
)
def test_kfp_gates_signature_verifies_with_upstream_library(model, keypair, tmp_path, config) -> None:
    sig = tmp_path / "m.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig, config=config)
    _upstream_verify_key(model, sig, keypair.public)
    (model / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"config\.json"):
        _upstream_verify_key(model, sig, keypair.public)


def test_kfp_gates_signature_verifies_with_upstream_cli(model, keypair, tmp_path) -> None:
    sig = tmp_path / "m.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig)  # auto -> files for a small model
    ok = subprocess.run(
        [UPSTREAM_CLI, "verify", "key", str(model), "--signature", str(sig), "--public_key", str(keypair.public)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Verification succeeded" in ok.stdout
    (model / "weights.bin").write_bytes(b"tampered")
    bad = subprocess.run(
        [UPSTREAM_CLI, "verify", "key", str(model), "--signature", str(sig), "--public_key", str(keypair.public)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "weights.bin" in bad.stderr


@pytest.mark.parametrize("shards", [None, 1 << 16], ids=["files", "shards"])
def test_upstream_key_signature_verifies_in_kfp_gates(model, keypair, tmp_path, shards) -> None:
    sig = tmp_path / "up.sig"
    hcfg = model_signing.hashing.Config()
    if shards:
        hcfg.use_shard_serialization(shard_size=shards)
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keypair.private).set_hashing_config(hcfg).sign(
        model, sig
    )
    v = verify_model(model, sig, PublicKeyVerifier.from_file(keypair.public))
    assert v.statement.has_binding is False and v.manifest.method == ("shards" if shards else "files")
    (model / "tokenizer" / "vocab.txt").write_text("evil")
    with pytest.raises(ModelIntegrityError, match=r"tokenizer/vocab\.txt"):
        verify_model(model, sig, PublicKeyVerifier.from_file(keypair.public))


def test_upstream_cli_signature_verifies_in_kfp_gates(model, keypair, tmp_path) -> None:
    sig = tmp_path / "cli.sig"
    r = subprocess.run(
        [UPSTREAM_CLI, "sign", "key", str(model), "--signature", str(sig), "--private_key", str(keypair.private)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    verify_model(model, sig, PublicKeyVerifier.from_file(keypair.public))


def test_certificate_signatures_interoperate_both_ways(model, chain, tmp_path) -> None:
    ours = tmp_path / "ours.sig"
    sign_model(
        model, CertificateSigner.from_files(chain.leaf_key, chain.leaf_cert, [chain.intermediate_cert]), signature=ours
    )
    model_signing.verifying.Config().use_certificate_verifier(certificate_chain=[chain.root_cert]).verify(model, ours)
    theirs = tmp_path / "theirs.sig"
    model_signing.signing.Config().use_certificate_signer(
        private_key=chain.leaf_key, signing_certificate=chain.leaf_cert, certificate_chain=[chain.intermediate_cert]
    ).sign(model, theirs)
    for sig in (ours, theirs):
        verify_model(model, sig, CertificateVerifier.from_files([chain.root_cert]))


def test_upstream_signature_that_allows_symlinks_follows_links_inside_the_model_only(model, keypair, tmp_path) -> None:
    (model / "latest.json").symlink_to("config.json")
    sig = tmp_path / "links.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keypair.private).set_hashing_config(
        model_signing.hashing.Config().set_allow_symlinks(True)
    ).sign(model, sig)
    verifier = PublicKeyVerifier.from_file(keypair.public)
    verify_model(model, sig, verifier)
    (model / "latest.json").unlink()
    (model / "latest.json").symlink_to("tokenizer/vocab.txt")  # redirected inside the model
    with pytest.raises(ModelIntegrityError, match=r"modified file: latest\.json"):
        verify_model(model, sig, verifier)
    outside = tmp_path / "outside.json"
    outside.write_bytes((model / "config.json").read_bytes())  # same bytes, but outside the model
    (model / "latest.json").unlink()
    (model / "latest.json").symlink_to(outside)
    with pytest.raises(ModelIntegrityError, match=r"symlink swapped in: latest\.json"):
        verify_model(model, sig, verifier)
