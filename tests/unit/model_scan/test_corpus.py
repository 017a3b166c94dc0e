"""Accuracy on the generated corpus: every technique blocks, no benign model is flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfp_gates.components.common.severity import Severity
from kfp_gates.components.model_scan import ModelScanner, _reader, run_gate
from kfp_gates.components.model_scan import scanner as scanner_mod
from tests.support.netguard import no_network

from . import corpus

TECHNIQUES = sorted(corpus.malicious())


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_every_technique_blocks(technique: str, malicious_corpus: dict[str, bytes]) -> None:
    report = ModelScanner().scan_bytes(malicious_corpus[technique], technique)
    blocking = [f for f in report.findings if f.severity >= Severity.HIGH]
    assert blocking, f"{technique}: not blocked; findings: {report.findings}"
    for f in blocking:
        assert f.location is not None and f.location.path == technique


def test_no_benign_file_is_flagged(benign_corpus: dict[str, bytes]) -> None:
    flagged = {}
    for name, data in benign_corpus.items():
        report = ModelScanner().scan_bytes(data, name)
        if report.findings:
            flagged[name] = [(f.id, f.message) for f in report.findings]
    assert not flagged
    assert len(benign_corpus) > 100


def test_payload_findings_name_the_global_offset_and_member(malicious_corpus: dict[str, bytes]) -> None:
    data = malicious_corpus["pytorch zip custom prefix"]
    report = ModelScanner().scan_bytes(data, "m.pt")
    f = next(f for f in report.findings if f.id == scanner_mod.DANGEROUS)
    assert f.data["global"] == "posix.system"
    assert f.location.member == "resnet_final/checkpoint/data.pkl"
    assert f.location.offset is not None
    # the offset points at the import opcode inside the member
    inner = corpus._torch_data_pkl(corpus._Reduce(__import__("os").system, corpus.CMD))
    assert inner[f.location.offset : f.location.offset + 1] in (b"c", b"\x93")


@pytest.mark.parametrize("technique", [t for t in TECHNIQUES if "joblib" in t or "legacy" in t or "concatenated" in t])
def test_streaming_path_gives_the_same_verdict(technique: str, malicious_corpus: dict[str, bytes], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Files above the in-memory bound are streamed through a small window; the verdict must not change."""
    monkeypatch.setattr(scanner_mod, "IN_MEMORY_MAX", 0)
    monkeypatch.setattr(_reader, "WINDOW", 7)  # refill constantly: every operand straddles a window edge
    p = tmp_path / "model.bin"
    p.write_bytes(malicious_corpus[technique])
    report = ModelScanner().scan(p)
    assert any(f.severity >= Severity.HIGH for f in report.findings), report.findings


def test_streaming_path_passes_benign_joblib(benign_corpus: dict[str, bytes], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner_mod, "IN_MEMORY_MAX", 0)
    monkeypatch.setattr(_reader, "WINDOW", 5)
    for name in ("random_forest.joblib", "random_forest.zlib.joblib", "pandas_frame.joblib",
                 "numpy_object_array.joblib", "pytorch.legacy.pt", "random_forest.p0.pkl", "arrays.npz"):
        p = tmp_path / name
        p.write_bytes(benign_corpus[name])
        report = ModelScanner().scan(p)
        assert report.findings == [], (name, report.findings)


def test_directory_scan_covers_every_file_without_network(malicious_corpus: dict[str, bytes],
                                                          benign_corpus: dict[str, bytes], tmp_path: Path) -> None:
    good = corpus.write({k: benign_corpus[k] for k in list(benign_corpus)[:20]}, tmp_path / "model" / "good")
    bad = corpus.write({"x": malicious_corpus["proto2 GLOBAL posix.system"]}, tmp_path / "model" / "deep" / "er")
    with no_network() as attempts:
        result = run_gate(tmp_path / "model")
    assert attempts == []
    assert result.decision.value == "fail"
    scanned = {f["path"] for f in result.metadata["files"]}
    assert {str(p) for p in good.values()} | {str(p) for p in bad.values()} <= scanned
    assert [f.location.path for f in result.findings] == [str(bad["x"])]
