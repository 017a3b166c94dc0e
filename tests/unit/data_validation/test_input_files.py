"""Inputs that are not regular files (a FIFO hangs a reader forever) are refused up front; a file is opened once."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Iterator

import pytest

from kfp_gates.components.common.errors import InputNotFoundError
from kfp_gates.components.data_validation import readers
from kfp_gates.components.data_validation.readers import InputFile, read_table

SUITE = '{"name": "s", "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}]}'


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts a blocking open() and raises here."""

    def _expired(*_: object) -> None:
        raise TimeoutError(f"still blocked after {seconds}s (a FIFO open waits for a writer)")

    old = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "data.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(fifo, fmt: str) -> None:
    with deadline(5), pytest.raises(InputNotFoundError, match="FIFO"):
        read_table(fifo, fmt)  # before: open() blocked until a writer came, i.e. forever


def test_a_socket_file_is_refused(tmp_path) -> None:
    path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        with pytest.raises(InputNotFoundError, match="socket"):
            readers.check_readable(path)


@pytest.mark.parametrize("command", ["validate-data", "suggest-suite"])
def test_cli_exits_2_for_a_fifo(cli, tmp_path, fifo, command: str) -> None:
    (tmp_path / "s.json").write_text(SUITE)
    args = (
        [command, str(fifo), "--suite", "s.json"]
        if command == "validate-data"
        else [command, str(fifo), "-o", "out.json"]
    )
    r = cli(*args, timeout=60)  # before: the command hung until killed
    assert r.code == 2, r
    assert "FIFO" in r.err and str(fifo) in r.err, r


def test_every_pass_of_the_reader_uses_the_one_open_file(tmp_path, monkeypatch) -> None:
    """The precheck, the parse and the diagnosis of a bad file all read the descriptor opened first."""
    path = tmp_path / "d.csv"
    path.write_text('a,b\n1,2\n3,"open\n')  # unterminated quote: the reader makes a diagnostic pass too
    opened: list[str] = []
    real_open = os.open

    def counting_open(p, *a, **kw):
        if str(p) == str(path):
            opened.append(str(p))
        return real_open(p, *a, **kw)

    monkeypatch.setattr(os, "open", counting_open)
    with pytest.raises(readers.DataUnreadable):
        read_table(path, "csv")
    assert opened == [str(path)]


def test_a_path_swapped_after_opening_does_not_change_what_is_read(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n2\n")
    with InputFile(path) as src:
        path.unlink()
        path.write_text("a\n9\n")
        table = readers.read_csv(src, readers.CsvOptions())
    assert table.column("a").to_pylist() == [1, 2]


CSV = b"a,b\n1,x\n2,y\n3,z\n"


@pytest.mark.parametrize(("suffix", "compress"), [(".csv.gz", "gzip"), (".csv.bz2", "bz2"), (".csv.xz", "lzma")])
def test_compressed_csv_is_read_decompressed(tmp_path, suffix: str, compress: str) -> None:
    import importlib

    path = tmp_path / ("d" + suffix)
    path.write_bytes(importlib.import_module(compress).compress(CSV))
    table = read_table(path, readers.detect_format(path))
    assert table.column_names == ["a", "b"] and table.column("a").to_pylist() == [1, 2, 3]


def test_compression_is_recognised_by_content_and_corruption_blocks(tmp_path) -> None:
    import gzip

    misnamed = tmp_path / "d.csv"  # gzip bytes without the suffix: still read as what they are
    misnamed.write_bytes(gzip.compress(CSV))
    assert read_table(misnamed, "csv").num_rows == 3
    truncated = tmp_path / "t.csv.gz"
    truncated.write_bytes(gzip.compress(CSV * 50)[:30])
    with pytest.raises(readers.DataUnreadable) as exc:
        read_table(truncated, "csv")
    assert exc.value.problem.kind == "compression"
    zstd = tmp_path / "z.csv.zst"
    zstd.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 16)
    with pytest.raises(InputNotFoundError, match="zstd"):
        read_table(zstd, "csv")


def test_validate_data_passes_a_gzip_csv_against_its_suite(cli, tmp_path) -> None:
    import gzip
    import json

    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(CSV))
    suite = {"name": "s", "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "b", "value_set": ["x", "y", "z"]}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 3, "max_value": 3}},
    ]}  # fmt: skip
    (tmp_path / "s.json").write_text(json.dumps(suite))
    r = cli("validate-data", "d.csv.gz", "--suite", "s.json")
    assert r.code == 0, r  # before: the gzip bytes were parsed as text and the gate blocked
