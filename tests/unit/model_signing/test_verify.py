"""Every tampering case blocks with a typed error naming the file; untrusted signatures never verify."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from kfp_gates.components.common.errors import GateBlocked, InputNotFoundError
from kfp_gates.components.model_signing import (
    HashingConfig,
    ModelIntegrityError,
    SignatureError,
    sign_model,
    verify_model,
)
from kfp_gates.components.model_signing import errors as E
from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

METHODS = [HashingConfig(method="files"), HashingConfig(method="shards", shard_size=1 << 16)]


@pytest.fixture(params=METHODS, ids=["files", "shards"])
def signed(request, model: Path, keypair, tmp_path: Path) -> tuple[Path, Path, PublicKeyVerifier]:
    sig = tmp_path / "model.sig"
    sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig, config=request.param)
    return model, sig, PublicKeyVerifier.from_file(keypair.public)


def _diffs(model: Path, sig: Path, verifier) -> list[tuple[str, str]]:
    with pytest.raises(ModelIntegrityError) as exc:
        verify_model(model, sig, verifier)
    assert isinstance(exc.value, GateBlocked) and exc.value.exit_code == 1
    return [(d.kind, d.path) for d in exc.value.differences]


def test_untouched_model_verifies(signed) -> None:
    model, sig, v = signed
    result = verify_model(model, sig, v)
    assert result.actual.files() == result.manifest.files() and len(result.statement.subject_sha256) == 64


def test_modified_file_is_named(signed) -> None:
    model, sig, v = signed
    data = bytearray((model / "weights.bin").read_bytes())
    data[123_456] ^= 1  # one bit, in the middle of a shard
    (model / "weights.bin").write_bytes(bytes(data))
    assert _diffs(model, sig, v) == [("modified", "weights.bin")]


def test_added_file_is_named(signed) -> None:
    model, sig, v = signed
    (model / "tokenizer" / "extra.py").write_text("import os")
    assert _diffs(model, sig, v) == [("added", "tokenizer/extra.py")]


def test_added_empty_file_is_named_in_both_methods(signed) -> None:
    model, sig, v = signed
    (model / "__init__.py").write_bytes(b"")
    assert _diffs(model, sig, v) == [("added", "__init__.py")]


def test_removed_file_is_named(signed) -> None:
    model, sig, v = signed
    (model / "config.json").unlink()
    assert _diffs(model, sig, v) == [("removed", "config.json")]


def test_removed_empty_file_is_named(signed) -> None:
    model, sig, v = signed
    (model / "empty.txt").unlink()
    assert _diffs(model, sig, v) == [("removed", "empty.txt")]


def test_renamed_file_is_reported_once_as_renamed(signed) -> None:
    model, sig, v = signed
    (model / "weights.bin").rename(model / "weights.old")
    with pytest.raises(ModelIntegrityError) as exc:
        verify_model(model, sig, v)
    (d,) = exc.value.differences
    assert (d.kind, d.path) == ("renamed", "weights.bin") and "weights.old" in d.detail
    assert "renamed file: weights.bin" in str(exc.value)


def test_symlink_swapped_in_is_named_even_when_its_target_has_the_same_bytes(signed, tmp_path: Path) -> None:
    model, sig, v = signed
    copy = tmp_path / "same-bytes.json"
    shutil.copy(model / "config.json", copy)
    (model / "config.json").unlink()
    os.symlink(copy, model / "config.json")
    assert _diffs(model, sig, v) == [("symlink", "config.json")]


def test_several_differences_are_all_named(signed) -> None:
    model, sig, v = signed
    (model / "config.json").write_text("{}")
    (model / "tokenizer" / "vocab.txt").unlink()
    (model / "new.bin").write_bytes(b"new")
    assert sorted(_diffs(model, sig, v)) == [
        ("added", "new.bin"),
        ("modified", "config.json"),
        ("removed", "tokenizer/vocab.txt"),
    ]


def test_ignored_paths_may_change(signed) -> None:
    model, sig, v = signed
    (model / ".git" / "HEAD").write_text("changed")
    (model / ".git" / "index").write_bytes(b"new")
    verify_model(model, sig, v)


def test_signature_by_another_key_is_refused(signed, other_keypair) -> None:
    model, sig, _ = signed
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, PublicKeyVerifier.from_file(other_keypair.public))
    assert exc.value.finding_id == E.WRONG_KEY and "another key" in exc.value.message


def test_hint_stripped_signature_by_another_key_still_fails(signed, other_keypair) -> None:
    model, sig, _ = signed
    doc = json.loads(sig.read_text())
    del doc["verificationMaterial"]["publicKey"]["hint"]
    sig.write_text(json.dumps(doc))
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, PublicKeyVerifier.from_file(other_keypair.public))
    assert exc.value.finding_id == E.BAD_SIGNATURE


def _rewrite_payload(sig: Path, edit) -> None:
    doc = json.loads(sig.read_text())
    env = doc["dsseEnvelope"]
    statement = json.loads(base64.b64decode(env["payload"]))
    edit(statement)
    env["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig.write_text(json.dumps(doc))


def test_edited_statement_fails_the_signature(signed) -> None:
    model, sig, v = signed
    # An attacker who modified a file and patched its digest into the statement.
    _rewrite_payload(sig, lambda s: s["predicate"]["resources"].pop())
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, v)
    assert exc.value.finding_id == E.BAD_SIGNATURE


def test_ignore_paths_cannot_be_widened_without_breaking_the_signature(signed) -> None:
    model, sig, v = signed
    _rewrite_payload(
        sig, lambda s: s["predicate"]["serialization"].setdefault("ignore_paths", []).append("weights.bin")
    )
    with pytest.raises(SignatureError):
        verify_model(model, sig, v)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.1+json"}',
        b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}}',
        b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
    ],
    ids=["empty", "text", "list", "old-media-type", "no-envelope", "a-pem-file"],
)
def test_signature_that_is_not_a_bundle_is_refused(signed, content: bytes) -> None:
    model, sig, v = signed
    sig.write_bytes(content)
    with pytest.raises(SignatureError) as exc:
        verify_model(model, sig, v)
    assert exc.value.finding_id == E.NOT_A_BUNDLE


def test_missing_signature_and_model_are_input_errors(signed, tmp_path: Path) -> None:
    model, sig, v = signed
    with pytest.raises(InputNotFoundError) as exc:
        verify_model(model, tmp_path / "nope.sig", v)
    assert exc.value.exit_code == 2
    with pytest.raises(InputNotFoundError):
        verify_model(tmp_path / "nope", sig, v)


def test_signature_inside_the_model_is_ignored_and_recorded(model: Path, keypair) -> None:
    sig = model / "model.sig"
    s = sign_model(model, ECKeySigner.from_file(keypair.private), signature=sig)
    assert "model.sig" in s.manifest.ignore_paths
    verify_model(model, sig, PublicKeyVerifier.from_file(keypair.public))


def test_default_signature_path_is_next_to_the_model(model: Path, keypair) -> None:
    s = sign_model(model, ECKeySigner.from_file(keypair.private))
    assert s.signature_path == model.with_name("model.sig") and s.signature_path.is_file()
