"""File and directory digests: streamed, stable order, symlinks never followed out of the root."""

from __future__ import annotations

import hashlib
import os

import pytest

from kfp_gates.components.common.digest import directory_manifest, sha256_directory, sha256_file, sha256_path
from kfp_gates.components.common.errors import InputNotFoundError


def test_file_digest_matches_hashlib(tmp_path):
    p = tmp_path / "f.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest()
    assert sha256_path(p) == sha256_file(p)


def test_missing_file_is_a_config_error_naming_it(tmp_path):
    with pytest.raises(InputNotFoundError) as exc:
        sha256_file(tmp_path / "nope.pkl")
    assert "nope.pkl" in exc.value.diagnostics()
    assert exc.value.exit_code == 2


def _tree(root):
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "b" / "c.bin").write_bytes(b"\x00\x01")
    (root / "b" / "z.txt").write_text("z")


def test_directory_digest_is_stable_and_content_sensitive(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _tree(one)
    _tree(two)
    assert sha256_directory(one) == sha256_directory(two)
    assert [e.path for e in directory_manifest(one)] == ["a.txt", "b/c.bin", "b/z.txt"]
    (two / "b" / "z.txt").write_text("Z")
    assert sha256_directory(one) != sha256_directory(two)


def test_renaming_a_file_changes_the_directory_digest(tmp_path):
    _tree(tmp_path / "d")
    before = sha256_directory(tmp_path / "d")
    os.rename(tmp_path / "d" / "a.txt", tmp_path / "d" / "a2.txt")
    assert sha256_directory(tmp_path / "d") != before


def test_symlink_outside_root_is_recorded_not_followed(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("host secret")
    root = tmp_path / "model"
    _tree(root)
    os.symlink(secret, root / "link.txt")
    entries = {e.path: e for e in directory_manifest(root)}
    assert entries["link.txt"].kind == "symlink"
    assert entries["link.txt"].sha256 == hashlib.sha256(str(secret).encode()).hexdigest()
    before = sha256_directory(root)
    secret.write_text("changed outside")  # not read, so the digest cannot depend on it
    assert sha256_directory(root) == before


def test_symlink_inside_root_is_hashed_as_its_target(tmp_path):
    root = tmp_path / "model"
    _tree(root)
    os.symlink(root / "a.txt", root / "alias.txt")
    entries = {e.path: e for e in directory_manifest(root)}
    assert entries["alias.txt"].kind == "file"
    assert entries["alias.txt"].sha256 == entries["a.txt"].sha256


def test_directory_symlink_is_not_descended(tmp_path):
    outside = tmp_path / "outside"
    _tree(outside)
    root = tmp_path / "model"
    root.mkdir()
    (root / "w.bin").write_bytes(b"w")
    os.symlink(outside, root / "escape")
    paths = [e.path for e in directory_manifest(root)]
    assert paths == ["escape", "w.bin"]
    assert "escape/a.txt" not in paths
