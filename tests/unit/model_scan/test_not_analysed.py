"""Issue 17, class 8: not analysed means not proven safe - it blocks in every tier unless the policy accepts it.

Also: non-regular inputs (a FIFO) are refused up front and never opened.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import threading
from pathlib import Path

import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError, PolicyError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan import scanner as scanner_mod
from kfp_gates.components.model_scan.scanner import DANGEROUS

from ._attack import SYSTEM_TRUE_P4, executed

TIERS = ("critical", "standard", "fast-track")


def _v7_tar(name: str, data: bytes) -> bytes:
    """A pre-POSIX (v7) tar: a GNU header with its magic and the fields v7 lacks blanked, checksum recomputed."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    raw[257:512] = b"\x00" * 255
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\x00 " % sum(raw[:512])
    return bytes(raw)


def test_v7_tar_is_read_as_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "model.tar"
    path.write_bytes(_v7_tar("model.pkl", SYSTEM_TRUE_P4))
    loader = "import pickle, tarfile\nwith tarfile.open(path) as tf:\n    pickle.load(tf.extractfile('model.pkl'))"
    assert "os.system" in executed(loader, path, tmp_path)
    for tier in TIERS:
        res = run_gate(path, GatePolicy.default(tier))
        assert res.decision.value == "fail" and DANGEROUS in {f.id for f in res.findings}, tier


def _inputs(root: Path) -> dict[str, Path]:
    tmp_path = root / f"inputs{len(list(root.iterdir()))}"
    tmp_path.mkdir()
    out = {}
    out["random-bytes"] = tmp_path / "weights.bin"
    out["random-bytes"].write_bytes(bytes([0, 7, 200, 13, 91, 250, 3, 0]) * 64)
    out["empty-file"] = tmp_path / "empty.pkl"
    out["empty-file"].write_bytes(b"")
    out["empty-dir"] = tmp_path / "emptydir"
    out["empty-dir"].mkdir()
    d = tmp_path / "linkdir"
    d.mkdir()
    (d / "ok.pkl").write_bytes(pickle.dumps([1, 2]))
    (tmp_path / "outside.pkl").write_bytes(SYSTEM_TRUE_P4)
    (d / "model.pkl").symlink_to(tmp_path / "outside.pkl")
    out["symlink-outside"] = d
    out["gguf"] = tmp_path / "m.gguf"
    out["gguf"].write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    return out


@pytest.mark.parametrize("kind", ["random-bytes", "empty-file", "empty-dir", "symlink-outside", "gguf"])
@pytest.mark.parametrize("tier", TIERS)
def test_unanalysed_input_blocks_in_every_tier(tmp_path: Path, kind: str, tier: str) -> None:
    res = run_gate(_inputs(tmp_path)[kind], GatePolicy.default(tier))
    assert res.decision.value == "fail", [(f.id, f.severity, f.message) for f in res.findings]


def test_hdf5_over_the_in_memory_bound_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanner_mod, "IN_MEMORY_MAX", 1024)
    path = tmp_path / "big.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 4096)
    assert run_gate(path).decision.value == "fail"


def _policy(entries: str) -> GatePolicy:
    return GatePolicy.parse(f"apiVersion: kfp-gates/v1\nkind: GatePolicy\ntier: standard\ngates:\n  model_scan:\n"
                            f"    accept_unanalysed:\n{entries}", name="policy.yaml")


def test_policy_accepts_a_named_format_and_records_it(tmp_path: Path) -> None:
    path = _inputs(tmp_path)["gguf"]
    res = run_gate(path, _policy("      - {format: gguf, reason: 'llama.cpp weights, no code'}\n"))
    assert res.decision.value == "pass"
    assert res.metadata["accepted_unanalysed"] == [{"path": "m.gguf", "format": "gguf",
                                                    "reason": "llama.cpp weights, no code"}]
    assert res.policy["accept_unanalysed"] == [{"format": "gguf", "reason": "llama.cpp weights, no code"}]
    # The acceptance names the format: another unanalysed kind still blocks.
    assert run_gate(_inputs(tmp_path)["random-bytes"], _policy(
        "      - {format: gguf, reason: llama.cpp weights}\n")).decision.value == "fail"


def test_policy_accepts_a_path_glob(tmp_path: Path) -> None:
    d = _inputs(tmp_path)["symlink-outside"]
    assert run_gate(d, _policy("      - {path: 'model.pkl', reason: shared cache link}\n")).decision.value == "pass"
    assert run_gate(d, _policy("      - {path: 'other*', reason: shared cache link}\n")).decision.value == "fail"


@pytest.mark.parametrize("entry", ["      - {reason: no target}\n", "      - {format: pickle, reason: nope}\n",
                                   "      - {format: gguf}\n", "      - {format: gguf, reason: ok, extra: 1}\n"])
def test_accept_unanalysed_is_strict(entry: str) -> None:
    with pytest.raises((PolicyError, ConfigError)):
        _policy(entry)


def test_fifo_is_refused_up_front_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "model.pkl"
    os.mkfifo(fifo)
    outcome: dict[str, object] = {}

    def scan(target: Path, key: str) -> None:
        try:
            outcome[key] = run_gate(target)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            outcome[key] = exc

    d = tmp_path / "dir"
    d.mkdir()
    (d / "ok.pkl").write_bytes(pickle.dumps(1))
    os.mkfifo(d / "pipe")
    threads = [threading.Thread(target=scan, args=(fifo, "file"), daemon=True),
               threading.Thread(target=scan, args=(d, "dir"), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "the scan blocked on a FIFO"
    assert isinstance(outcome["file"], InputNotFoundError)
    res = outcome["dir"]
    assert not isinstance(res, Exception), res
    assert res.decision.value == "fail"
    assert any("not a regular file" in f.message for f in res.findings)
