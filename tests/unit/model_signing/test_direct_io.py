"""O_DIRECT range hashing gives byte-identical digests, and falls back cleanly where O_DIRECT is refused."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import threading
from pathlib import Path

import pytest

from kfp_gates.components.common.errors import UnsafeInputError
from kfp_gates.components.model_signing import _direct_io as dio
from kfp_gates.components.model_signing import hashing
from kfp_gates.components.model_signing.hashing import HashingConfig, hash_model

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not dio.AVAILABLE, reason="no O_DIRECT on this platform"),
]

A = dio.ALIGN
SIZE = 5 * 16384 + 1234  # several small chunks and a partial last block


class _Shrank(Exception):
    pass


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """16 KiB buffers (a fresh pool), so small files still take many reads and every buffer turns over."""
    monkeypatch.setattr(dio, "CHUNK", 16384)
    monkeypatch.setattr(dio, "_pool", dio._Pool())


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(SIZE)
    p = tmp_path / "blob.bin"
    p.write_bytes(data)
    return p, data


def _direct(path: Path, start: int, length: int, *, threaded: bool = True) -> tuple[bool, str]:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        done = dio.hash_direct(fd, start, length, h, None, _Shrank, threaded=threaded)
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & dio.O_DIRECT, "the descriptor's flags are restored"
    finally:
        os.close(fd)
    return done, h.hexdigest()


def _supports_direct(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | dio.O_DIRECT)
    except OSError:
        return False
    os.close(fd)
    return True


RANGES = [
    (0, SIZE),  # whole file, ends in a partial block at EOF
    (0, 4 * 16384),  # aligned start and end
    (1, SIZE - 1),  # unaligned start, to EOF
    (A - 1, 2),  # two bytes straddling a block boundary
    (3 * A + 7, 16384 + 5),  # unaligned both ends, crosses a chunk
    (100, 50),  # inside one block
    (SIZE - 1, 1),  # the last byte
    (16384, 16384),  # exactly one chunk
    (5 * 16384, 1234),  # only the partial block at EOF
]


@pytest.mark.parametrize("threaded", [True, False], ids=["threaded", "inline"])
@pytest.mark.parametrize(("start", "length"), RANGES)
def test_range_digest_equals_hashlib(data_file: tuple[Path, bytes], start: int, length: int, threaded: bool) -> None:
    path, data = data_file
    done, digest = _direct(path, start, length, threaded=threaded)
    expected = hashlib.sha256(data[start : start + length]).hexdigest()
    if done:
        assert digest == expected
    else:  # refused: nothing was hashed
        assert not _supports_direct(path)
        assert digest == hashlib.sha256().hexdigest()


@pytest.mark.parametrize("threaded", [True, False], ids=["threaded", "inline"])
@pytest.mark.parametrize("size", [1, 100, A - 1, A, A + 1])
def test_files_shorter_than_a_block_or_chunk(tmp_path: Path, size: int, threaded: bool) -> None:
    data = os.urandom(size)
    p = tmp_path / "small.bin"
    p.write_bytes(data)
    done, digest = _direct(p, 0, size, threaded=threaded)
    assert not done or digest == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("threaded", [True, False], ids=["threaded", "inline"])
def test_range_past_eof_raises_shrank(data_file: tuple[Path, bytes], threaded: bool) -> None:
    path, _ = data_file
    if not _supports_direct(path):
        pytest.skip("the temporary directory's filesystem refuses O_DIRECT")
    with pytest.raises(_Shrank):
        _direct(path, 10, SIZE, threaded=threaded)  # ends 10 bytes after EOF
    with pytest.raises(_Shrank):
        _direct(path, SIZE + A, 10, threaded=threaded)  # starts after EOF


def test_refused_when_setting_o_direct_hashes_nothing(
    data_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = data_file
    real = fcntl.fcntl

    def refuse(fd: int, cmd: int, arg: int = 0) -> int:
        if cmd == fcntl.F_SETFL and arg & dio.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, cmd, arg)

    monkeypatch.setattr(dio.fcntl, "fcntl", refuse)
    assert _direct(path, 0, SIZE) == (False, hashlib.sha256().hexdigest())


@pytest.mark.parametrize("threaded", [True, False], ids=["threaded", "inline"])
def test_refused_on_first_read_hashes_nothing(
    data_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch, threaded: bool
) -> None:
    path, _ = data_file

    def refuse(*_a: object) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(dio.os, "preadv", refuse)
    assert _direct(path, 3, SIZE - 3, threaded=threaded) == (False, hashlib.sha256().hexdigest())


def test_other_read_errors_are_raised_not_swallowed(
    data_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = data_file
    if not _supports_direct(path):
        pytest.skip("the temporary directory's filesystem refuses O_DIRECT")
    real = os.preadv
    calls = []

    def fail_later(fd: int, bufs: list[memoryview], off: int) -> int:
        calls.append(off)
        if len(calls) == 3:
            raise OSError(errno.EIO, "Input/output error")
        return real(fd, bufs, off)

    monkeypatch.setattr(dio.os, "preadv", fail_later)
    with pytest.raises(OSError, match="Input/output"):
        _direct(path, 0, SIZE)


def test_progress_error_stops_the_reader_thread(data_file: tuple[Path, bytes]) -> None:
    path, _ = data_file
    if not _supports_direct(path):
        pytest.skip("the temporary directory's filesystem refuses O_DIRECT")
    before = threading.active_count()

    def boom(_n: int) -> None:
        raise KeyboardInterrupt

    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(KeyboardInterrupt):
            dio.hash_direct(fd, 0, SIZE, hashlib.sha256(), boom, _Shrank)
    finally:
        os.close(fd)
    assert threading.active_count() == before


# -- through the hasher ---------------------------------------------------------------------------------


def _model(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "weights.bin").write_bytes(os.urandom(3 * 65536 + 4097))
    (root / "odd.bin").write_bytes(os.urandom(65536 + 1))
    (root / "tiny.txt").write_bytes(b"x" * 10)
    (root / "empty").write_bytes(b"")
    return root


@pytest.mark.parametrize("method", ["files", "shards"])
def test_hash_model_is_identical_with_and_without_o_direct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    model = _model(tmp_path / "m")
    cfg = HashingConfig(method=method, shard_size=65536 + 3)  # unaligned shard starts
    reference = hash_model(model, cfg)
    used = []
    real = dio.hash_direct

    def spy(*a: object, **kw: object) -> bool:
        used.append(real(*a, **kw))  # type: ignore[arg-type]
        return used[-1]

    monkeypatch.setattr(hashing, "_DIRECT_MIN", 1)
    monkeypatch.setattr(hashing, "_MMAP_MIN", 1 << 62)
    monkeypatch.setattr(hashing._direct_io, "hash_direct", spy)
    direct = hash_model(model, cfg)
    assert direct == reference
    assert used and all(u == _supports_direct(model / "weights.bin") for u in used)


def test_hash_model_falls_back_when_o_direct_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(tmp_path / "m")
    cfg = HashingConfig(method="shards", shard_size=65536)
    reference = hash_model(model, cfg)

    def refuse(*_a: object) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(hashing, "_DIRECT_MIN", 1)
    monkeypatch.setattr(dio.os, "preadv", refuse)  # the fallback reads use os.readv / mmap, not preadv
    assert hash_model(model, cfg) == reference


def test_a_file_that_shrinks_fails_through_the_direct_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "f.bin"
    p.write_bytes(os.urandom(100_000))
    if not _supports_direct(p):
        pytest.skip("the temporary directory's filesystem refuses O_DIRECT")
    monkeypatch.setattr(hashing, "_DIRECT_MIN", 1)
    with pytest.raises(UnsafeInputError, match="shrank"):
        hashing._hash_range(str(p), 0, 200_000, "sha256", hashing._Reader(), None)


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_tmpfs_digest_is_right_whether_or_not_it_takes_o_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(SIZE)
    fd_, name = __import__("tempfile").mkstemp(dir="/dev/shm", prefix="kfpg-dio-")
    os.close(fd_)
    try:
        Path(name).write_bytes(data)
        for start, length in RANGES:
            done, digest = _direct(Path(name), start, length)
            assert done == _supports_direct(Path(name))
            monkeypatch.setattr(hashing, "_DIRECT_MIN", 1)
            got = hashing._hash_range(name, start, length, "sha256", hashing._Reader(), None)
            assert got == hashlib.sha256(data[start : start + length]).hexdigest()
            if done:
                assert digest == got
    finally:
        os.unlink(name)
