"""One subject identity per model: model_scan, model_signing and the evidence name the same digest.

Property test over random trees: nested directories, empty files, symlinks to
files inside the root, links out of the root, git metadata, and one-file models.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.digest import model_digest, sha256_file
from kfp_gates.components.common.evidence import from_statement, to_statement
from kfp_gates.components.model_scan.gate import run_gate as scan
from kfp_gates.components.model_signing.hashing import HashingConfig, hash_model

pytestmark = pytest.mark.unit

_names = st.text(alphabet="abcxyz_-.0123456789", min_size=1, max_size=8).filter(lambda n: n not in (".", ".."))
_content = st.one_of(st.just(b""), st.binary(max_size=64), st.just(b"\x80\x04N."))  # "\x80\x04N." = pickle None
_tree = st.recursive(
    st.dictionaries(_names, _content, max_size=4),
    lambda children: st.dictionaries(_names, st.one_of(_content, children), max_size=4),
    max_leaves=12,
)


def _write(root: Path, tree: dict) -> list[Path]:
    files: list[Path] = []
    root.mkdir(parents=True, exist_ok=True)
    for name, value in tree.items():
        p = root / name
        if isinstance(value, dict):
            files += _write(p, value)
        else:
            p.write_bytes(value)
            files.append(p)
    return files


def _digests(model: Path, *, allow_symlinks: bool) -> tuple[str, str, str]:
    scanned = scan(model)
    signed = hash_model(model, HashingConfig(allow_symlinks=allow_symlinks))
    evidence = from_statement(to_statement(scanned))
    assert signed.model_digest is not None and scanned.subject.sha256 is not None
    assert to_statement(scanned)["subject"][0]["digest"]["sha256"] == scanned.subject.sha256
    return scanned.subject.sha256, signed.model_digest, evidence.subject.sha256 or ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_tree, links=st.lists(st.integers(min_value=0, max_value=50), max_size=3), git=st.booleans(),
       shards=st.booleans())
def test_directory_model_digest_is_the_same_from_every_gate(tree, links, git, shards) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "model"
        files = _write(root, tree)
        root.mkdir(exist_ok=True)
        for i, n in enumerate(links):
            if files:
                target = files[n % len(files)]
                os.symlink(os.path.relpath(target, root), root / f"link{i}")  # inside the root: hashed as the file
        if git:
            (root / ".git").mkdir()
            (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # not part of the model digest
        expected = model_digest(root)
        cfg = HashingConfig(allow_symlinks=True, method="shards" if shards else "files", shard_size=16)
        signed = hash_model(root, cfg)
        assert signed.model_digest == expected
        assert _digests(root, allow_symlinks=True) == (expected, expected, expected)
        if git:
            shutil.rmtree(root / ".git")
            assert model_digest(root) == expected


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=3000), shards=st.booleans())
def test_one_file_model_digest_is_sha256sum(data, shards) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "model.bin"
        f.write_bytes(data)
        want = hashlib.sha256(data).hexdigest()
        assert model_digest(f) == sha256_file(f) == want
        assert scan(f).subject.sha256 == want
        cfg = HashingConfig(method="shards" if shards else "files", shard_size=512)
        assert hash_model(f, cfg).model_digest == want


def test_the_digest_does_not_depend_on_the_path_it_was_named_by(tmp_path, monkeypatch) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.pkl").write_bytes(b"\x80\x04N.")
    monkeypatch.chdir(tmp_path)
    relative = scan("m").subject.sha256
    monkeypatch.chdir(tmp_path / "m")
    assert scan(".").subject.sha256 == relative == scan(tmp_path / "m").subject.sha256
    assert scan("w.pkl").subject.sha256 == hashlib.sha256(b"\x80\x04N.").hexdigest()


def test_a_link_out_of_the_root_is_recorded_not_read(tmp_path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    (root / "w.pkl").write_bytes(b"\x80\x04N.")
    outside = tmp_path / "secret.txt"
    outside.write_text("one")
    os.symlink(outside, root / "out")
    before = model_digest(root)
    outside.write_text("two")  # the target's bytes are not part of the model
    assert model_digest(root) == before == scan(root).subject.sha256
    assert hash_model(root, HashingConfig(allow_symlinks=True)).model_digest == before


def test_a_file_changed_while_it_is_scanned_blocks(tmp_path, monkeypatch) -> None:
    from kfp_gates.components.model_scan import scanner

    f = tmp_path / "m.pkl"
    f.write_bytes(b"\x80\x04N.")
    real = scanner.ModelScanner._scan_blob

    def edit_during_scan(self, where, data):
        real(self, where, data)
        f.write_bytes(b"\x80\x04N." + b" ")  # someone writes while the scan runs

    monkeypatch.setattr(scanner.ModelScanner, "_scan_blob", edit_during_scan)
    result = scan(f)
    assert result.decision.value == "fail"
    assert scanner.CHANGED in {x.id for x in result.findings}
