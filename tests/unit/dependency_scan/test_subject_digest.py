"""The dependency scan names a file by the sha256 of its bytes, whatever path it was given by."""

from __future__ import annotations

import hashlib

import pytest

from kfp_gates.components.common.digest import sha256_directory
from kfp_gates.components.dependency_scan.engine import scan_inputs

pytestmark = pytest.mark.unit


@pytest.fixture
def project(tmp_path):
    (tmp_path / "deps").mkdir()
    req = tmp_path / "deps" / "requirements.txt"
    req.write_text("requests==2.31.0\n-r base.txt\n")
    (tmp_path / "deps" / "base.txt").write_text("idna==3.7\n")
    return tmp_path, req


def test_same_file_same_digest_from_any_working_directory(project, monkeypatch) -> None:
    root, req = project
    want = hashlib.sha256(req.read_bytes()).hexdigest()  # what sha256sum prints
    seen = {scan_inputs([req]).subject.sha256}
    monkeypatch.chdir(root)
    seen.add(scan_inputs(["deps/requirements.txt"]).subject.sha256)
    monkeypatch.chdir(root / "deps")
    seen.add(scan_inputs(["requirements.txt"]).subject.sha256)
    assert seen == {want}


def test_a_directory_is_named_by_its_directory_digest(project, monkeypatch) -> None:
    root, _ = project
    by_abs = scan_inputs([root / "deps"]).subject
    monkeypatch.chdir(root)
    assert scan_inputs(["deps"]).subject.sha256 == by_abs.sha256 == sha256_directory(root / "deps")
