"""Issue 17, classes 2-4: allowlist by exact name, the loader's grammar, the loader's sizes.

Each malicious file is proven to reach ``os.system`` under the real loader (audit hook; the payload
never runs) before the gate is asserted to block it.
"""

from __future__ import annotations

import json
import pickle
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan._reader import Reader
from kfp_gates.components.model_scan._walker import Walker

from ._attack import PROTO4, SYSTEM_TRUE_P0, call, executed, glob, su


def _blocks(path: Path) -> bool:
    return run_gate(path).decision.value == "fail"


# ---------------------------------------------------------------------------- class 2: exact allowlist
def test_reexported_attrgetter_under_a_sklearn_module_is_not_trusted(tmp_path: Path) -> None:
    # sklearn.feature_selection._base binds operator.attrgetter; a wildcard "sklearn.*" trusted it.
    ag = glob("sklearn.feature_selection._base", "attrgetter")
    globals_ = call(call(ag, su("cwd.__globals__")), glob("pathlib", "Path"))
    os_mod = call(call(call(ag, su("get")), globals_), su("os"))
    data = PROTO4 + call(call(call(ag, su("system")), os_mod), su("true")) + b"."
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    assert "os.system" in executed("pickle", path, tmp_path)
    res = run_gate(path)
    assert res.decision.value == "fail"
    assert any("sklearn.feature_selection._base.attrgetter" in f.message and "--allow" in f.message
               for f in res.findings)


def test_generated_allowlist_records_versions_and_holds_only_names_defined_where_they_claim() -> None:
    import importlib
    from importlib import metadata

    doc = json.loads(resources.files("kfp_gates.components.model_scan").joinpath(
        "data", "generated_globals.json").read_text("utf-8"))
    assert doc["libraries"]["scikit-learn"] == metadata.version("scikit-learn")
    assert doc["libraries"]["pandas"] == metadata.version("pandas")
    for dist, names in doc["globals"].items():
        assert not any(n.endswith(".*") for n in names), dist
        for dotted in names[::25]:  # a sample: each resolves to an object defined under that exact name
            mod, _, name = dotted.rpartition(".")
            obj = getattr(importlib.import_module(mod), name)
            assert (obj.__module__, obj.__qualname__) == (mod, name), dotted
    safe = json.loads(resources.files("kfp_gates.components.model_scan").joinpath(
        "data", "safe_globals.json").read_text("utf-8"))
    assert safe["packages"] == []


# ---------------------------------------------------------------------------- class 3: the loader's grammar
@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        (b"I0x1\n0", "INT parsed with base 0"),
        (b"I010\n0", "INT with strtol's octal"),
        (b"I1_000\n0", "INT through PyLong_FromString"),
        (b"I1\x00junk\n0", "INT ends at a NUL like a C string"),
        (b"L0x10L\n0", "LONG with base 0"),
        (b"F1.5\x00x\n0", "FLOAT ends at a NUL"),
        (b"S'" + b"a" * (2 << 20) + b"'\n0", "STRING longer than the walker's line window"),
        (b"(" * 100_001, "more MARKs than the walker keeps"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_protocol0_streams_cpython_accepts_are_never_passed_as_text(tmp_path: Path, prefix: bytes, why: str) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(prefix + SYSTEM_TRUE_P0)
    assert "os.system" in executed("pickle", path, tmp_path), why
    assert _blocks(path), why


@pytest.mark.parametrize(
    "operand",
    [b"0x1", b"010", b"0", b"00", b"01", b" 7", b"-0x10", b"1_000", b"0o17", b"0b11", b"9" * 30, b"0x" + b"f" * 40,
     b"1\x00zz", b"\x00", b"+1", b"0777777777777777777777"],
)
def test_int_operands_match_the_real_unpickler(operand: bytes) -> None:
    from kfp_gates.components.model_scan._walker import parse_int_operand

    stream = b"I" + operand + b"\n."
    try:
        want = pickle.loads(stream)
    except Exception:  # noqa: BLE001 - any refusal by the loader
        with pytest.raises(ValueError):
            parse_int_operand(operand)
        return
    got = parse_int_operand(operand)
    assert got == want and type(got) is type(want)


# ---------------------------------------------------------------------------- class 4: the loader's sizes
def _wrapper(dtype: str, state_elsize: int, count: int) -> bytes:
    """A joblib NumpyArrayWrapper for ``count`` items of ``dtype`` whose pickled dtype state claims ``state_elsize``."""
    dt = (glob("numpy", "dtype") + b"(" + su(dtype) + b"\x89\x88tR"
          + b"(K\x03" + su("|") + b"NNNJ" + state_elsize.to_bytes(4, "little", signed=True)
          + b"J\xff\xff\xff\xffK\x00tb")
    state = (b"}(" + su("subclass") + glob("numpy", "ndarray") + su("shape") + b"(K" + bytes([count]) + b"t"
             + su("order") + su("C") + su("dtype") + dt + su("allow_mmap") + b"\x88"
             + su("numpy_array_alignment_bytes") + b"K\x10u")
    return PROTO4 + glob("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81" + state + b"b"


def test_joblib_array_skip_uses_the_size_numpy_computes(tmp_path: Path) -> None:
    # uint8 x 16, but the pickled dtype state claims 64-byte elements: numpy ignores that field for
    # built-in dtypes, so joblib reads 16 bytes and unpickles what follows; a walker trusting the
    # state would skip 1024 bytes, the payload included.
    count, claimed = 16, 64
    head = _wrapper("u1", claimed, count)
    payload = b"0" + SYSTEM_TRUE_P0
    body = b"\x00" + b"\x00" * count + payload
    data = head + body + b"\x00" * (1 + count * claimed - len(body)) + b"."
    path = tmp_path / "model.joblib"
    path.write_bytes(data)
    assert "os.system" in executed("joblib", path, tmp_path)
    assert _blocks(path)


# (numpy's own __setstate__ crashes on a datetime dtype given a version-3 state, so M8 is not in the matrix.)
DTYPES = ["u1", "i8", "f4", "f8", "c16", "b1", "O8", "S3", "U5", "V16", "V", "S", "U", "V0", "d", "<f8", "?"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("elsize", [-2, -1, 0, 1, 3, 20, 64])
@pytest.mark.parametrize("flags", [0, 1, 63])
@pytest.mark.parametrize("copy", [True, False])
def test_dtype_sizes_match_numpy(dtype: str, elsize: int, flags: int, copy: bool) -> None:
    from kfp_gates.components.model_scan._walker import Corrupt, Global, Obj, dtype_info

    real = np.dtype(dtype, False, copy)  # what the unpickler builds from numpy.dtype(dtype, False, copy)
    try:
        real.__setstate__((3, "|", None, None, None, elsize, -1, flags))
    except (TypeError, ValueError):
        expected = None
    else:  # a negative itemsize (numpy takes -1 for a flexible kind) sizes nothing: cannot prove safe
        expected = (real.itemsize, real.hasobject) if real.itemsize >= 0 else None
    value = Obj(Global("numpy", "dtype", 0), (dtype.encode(), False, copy))
    value.state = (3, b"|", None, None, None, elsize, -1, flags)
    if expected is None:
        with pytest.raises(Corrupt):
            dtype_info(value)
    else:
        assert dtype_info(value) == expected


@pytest.mark.parametrize("compress", [0, 3, "gzip", "bz2", "xz", "lzma"])
def test_real_joblib_models_still_pass(tmp_path: Path, compress: object) -> None:
    import joblib
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    X = np.random.default_rng(0).normal(size=(60, 4))
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, X[:, 0] > 0)
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": pd.Categorical(["x", "y"]), "t": pd.to_datetime(["2024-01-01"] * 2)})
    path = tmp_path / "m.joblib"
    joblib.dump({"model": model, "frame": frame, "u": np.array(["ab", "c"]), "o": np.array([1, "x"], dtype=object),
                 "dt": np.array(["2024-01-01"], dtype="M8[ns]")}, path, compress=compress)
    res = run_gate(path)
    assert res.decision.value == "pass", [f.message for f in res.findings]


def test_walker_reads_long_operands_without_rejecting_them() -> None:
    w = Walker(Reader.from_bytes(b"S'" + b"x" * (3 << 20) + b"'\n."))
    w.walk()
    assert w.streams[0].end == 3 * (1 << 20) + 5


def test_generated_allowlist_is_not_stale() -> None:
    """The data file is what the tool generates from the installed (pinned) versions: `make model-scan-allowlist`."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "kfp_gates.sdk.tools.build_model_scan_allowlist", "--check"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
