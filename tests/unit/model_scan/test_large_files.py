"""Files over the in-memory bound are streamed: walked to the end without being read whole."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

from kfp_gates.components.model_scan import ModelScanner
from kfp_gates.components.model_scan import scanner as s

from .corpus import CMD, _Reduce


def test_large_joblib_is_streamed_and_walked_to_the_end(tmp_path: Path) -> None:
    import joblib
    import numpy as np

    path = tmp_path / "big.joblib"
    big = np.zeros((s.IN_MEMORY_MAX + (8 << 20)) // 8)  # > 100 MB of raw array data
    joblib.dump({"weights": big, "tail": _Reduce(os.system, CMD)}, path)
    del big
    size = path.stat().st_size
    assert size > s.IN_MEMORY_MAX

    tracemalloc.start()
    try:
        report = ModelScanner().scan(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"scan allocated {peak} bytes: the file was not streamed"
    assert report.files[0].walked == size
    assert [f.id for f in report.findings] == [s.DANGEROUS]
    assert report.findings[0].location.offset > s.IN_MEMORY_MAX  # the payload after the array was reached
