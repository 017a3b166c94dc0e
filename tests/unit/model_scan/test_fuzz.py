"""Property tests: the scanner never crashes and never lets a payload through a mutation."""

from __future__ import annotations

import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.severity import Severity
from kfp_gates.components.model_scan import ModelScanner

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
