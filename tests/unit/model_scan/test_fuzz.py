"""Property tests: the scanner never crashes and never lets a payload through a mutation."""

from __future__ import annotations

import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.severity import Severity
from kfp_gates.components.model_scan import ModelScanner
from kfp_gates.components.model_scan._reader import Reader
from kfp_gates.components.model_scan._walker import Walker
from kfp_gates.components.model_scan.errors import StreamError

from .corpus import _evil

EVIL = _evil(4)
BENIGN = pickle.dumps({"w": [1.5, 2, "x"], "b": b"\x00" * 40, "t": (1, 2)}, protocol=4)
PAYLOAD_END = EVIL.index(b"\x93") + 1  # the STACK_GLOBAL that imports posix.system


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    report = ModelScanner().scan_bytes(data, "fuzz")
    for f in report.findings:
        assert f.location is not None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=PAYLOAD_END, max_value=len(EVIL) - 1), st.integers(0, 255))
def test_mutating_bytes_after_the_import_still_blocks(at: int, value: int) -> None:
    data = bytearray(EVIL)
    data[at] = value
    report = ModelScanner().scan_bytes(bytes(data), "fuzz")
    assert any(f.severity >= Severity.HIGH for f in report.findings)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=len(BENIGN) - 1), st.integers(0, 255))
def test_mutated_benign_pickle_is_decided_without_crashing(at: int, value: int) -> None:
    data = bytearray(BENIGN)
    data[at] = value
    report = ModelScanner().scan_bytes(bytes(data), "fuzz")
    # Either still a clean pickle, or a finding; never an exception.
    assert all(f.id.startswith("KFPG-MS-") for f in report.findings)


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_appended_bytes_are_never_silently_ignored(tail: bytes) -> None:
    report = ModelScanner().scan_bytes(BENIGN + tail, "fuzz")
    walked_more = report.files[0].streams >= 2
    assert report.findings or walked_more, "bytes after STOP must be walked or reported"


def test_appended_valid_pickle_is_walked_as_another_stream() -> None:
    report = ModelScanner().scan_bytes(BENIGN + b"N.", "fuzz")
    assert report.findings == [] and report.files[0].streams == 2


# Opcodes with well-formed operands, so generated streams get deep into the walker.
_OPS = st.one_of(
    st.sampled_from([b"(", b")", b"]", b"}", b"N", b"\x88", b"\x89", b"0", b"1", b"2", b"a", b"e", b"s", b"u",
                     b"t", b"l", b"d", b"\x85", b"\x86", b"\x87", b"R", b"\x81", b"b", b"o", b"\x93", b"\x94",
                     b"\x8f", b"\x90", b"\x91", b"\x92", b"Q", b"\x97", b"\x98"]),
    st.integers(0, 255).map(lambda i: b"K" + bytes([i])),
    st.integers(0, 8).map(lambda i: b"h" + bytes([i])),
    st.integers(0, 8).map(lambda i: b"q" + bytes([i])),
    st.sampled_from(["os", "system", "numpy", "dtype", "joblib.numpy_pickle", "NumpyArrayWrapper", "shape",
                     "getattr", "builtins", "f8", "O8"]).map(lambda t: b"\x8c" + bytes([len(t)]) + t.encode()),
    st.sampled_from([b"cos\nsystem\n", b"cbuiltins\ngetattr\n", b"I1\n", b"S'x'\n", b"g0\n", b"p1\n"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_OPS, max_size=60))
def test_generated_opcode_streams_only_raise_stream_errors(ops: list[bytes]) -> None:
    data = b"\x80\x04" + b"".join(ops) + b"."
    try:
        Walker(Reader.from_bytes(data)).walk()
    except StreamError:
        pass
    report = ModelScanner().scan_bytes(data, "gen")
    if b"cos\nsystem\n" in data:
        # the import happens before anything can fail after it... unless an earlier opcode already failed
        assert report.findings
