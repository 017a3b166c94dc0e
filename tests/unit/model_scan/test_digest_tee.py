"""The scan's tee hashes every byte of the file exactly once, whatever the scanner reads, skips or re-reads."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from kfp_gates.components.model_scan import _digest
from kfp_gates.components.model_scan._digest import BufferHash, HashingFile

pytestmark = pytest.mark.unit

SIZE = 300_000


@pytest.fixture
def blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes]:
    monkeypatch.setattr(_digest, "_CHUNK", 4096 + 3)  # skipped ranges take many unaligned reads
    data = os.urandom(SIZE)
    p = tmp_path / "model.bin"
    p.write_bytes(data)
    return p, data


def _tee(path: Path, steps: list[tuple[str, int]]) -> str:
    with open(path, "rb") as fh, HashingFile(fh) as tee:
        for op, arg in steps:
            if op == "read":
                tee.read(arg)
            elif op == "seek":
                tee.seek(arg)
            elif op == "skip":
                tee.seek(arg, io.SEEK_CUR)
        return tee.hexdigest()


@pytest.mark.parametrize(
    "steps",
    [
        [("read", -1)],  # everything
        [("read", 1 << 20)] * 2,  # read past EOF
        [("read", 100)],  # stops early: the tail is hashed from the file
        [("read", 10), ("skip", 150_000), ("read", 1000), ("skip", 100_000), ("read", 5)],  # skipped payloads
        [("seek", SIZE - 22), ("read", 22)],  # a zip reader: the directory at the end first
        [("read", 5000), ("seek", 0), ("read", 8000), ("seek", 2000), ("read", 100)],  # re-reads hash nothing twice
        [("seek", SIZE + 10), ("read", 10)],  # a seek past EOF reads nothing
        [],  # nothing read at all
    ],
)
def test_digest_is_sha256_of_the_whole_file(blob: tuple[Path, bytes], steps: list[tuple[str, int]]) -> None:
    path, data = blob
    assert _tee(path, steps) == hashlib.sha256(data).hexdigest()


def test_reads_return_what_the_file_holds(blob: tuple[Path, bytes]) -> None:
    path, data = blob
    with open(path, "rb") as fh, HashingFile(fh) as tee:
        assert tee.read(10) == data[:10]
        tee.seek(200_000)
        assert tee.tell() == 200_000
        buf = bytearray(7)
        assert tee.readinto(buf) == 7 and bytes(buf) == data[200_000:200_007]
        tee.hexdigest()


def test_a_skipped_range_that_cannot_be_read_is_an_error(
    blob: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = blob
    monkeypatch.setattr(_digest.os, "preadv", lambda *_a: 0)  # the file ends early under the tee
    with open(path, "rb") as fh, HashingFile(fh) as tee:
        tee.read(10)
        tee.seek(100_000)
        tee.read(10)
        with pytest.raises(OSError, match="shrank"):
            tee.hexdigest()


@pytest.mark.parametrize("size", [0, 100, (1 << 20) + 1])
def test_buffer_hash(size: int) -> None:
    data = os.urandom(size)
    assert BufferHash(data).hexdigest() == hashlib.sha256(data).hexdigest()
