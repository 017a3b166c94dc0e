"""Issue 17, classes 6 and 7: archives judged by content, Keras configs judged by decoded values.

Zip members are proven to run under ``zipfile`` + ``pickle`` (audit hook; the payload never runs).
Keras is not installed here: for class 7 the test proves that the decoded config a Keras loader
reads names ``Lambda`` (``json.loads``), which is what Keras matches on.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile
from pathlib import Path

import pytest

from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan.scanner import DANGEROUS, KERAS_LAMBDA, LIMIT

from ._attack import SYSTEM_TRUE_P0, SYSTEM_TRUE_P4, executed


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _nested_zip() -> bytes:
    return _zip({"evil.pkl": SYSTEM_TRUE_P4})


def _object_npy() -> bytes:
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (117 - len(header)) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + SYSTEM_TRUE_P4


MEMBERS = {
    "numpy object array": (_object_npy(), "import io, numpy\nnumpy.load(io.BytesIO(data), allow_pickle=True)"),
    "protocol-0 pickle": (SYSTEM_TRUE_P0, "pickle.loads(data)"),
    "protocol-0 pickle after 100,001 MARKs": (b"(" * 100_001 + SYSTEM_TRUE_P0, "pickle.loads(data)"),
    "gzip stream": (gzip.compress(SYSTEM_TRUE_P4), "import gzip\npickle.loads(gzip.decompress(data))"),
    "nested zip": (_nested_zip(), "import io\npickle.loads(zipfile.ZipFile(io.BytesIO(data)).read('evil.pkl'))"),
}


@pytest.mark.parametrize("kind", sorted(MEMBERS))
def test_member_under_a_data_pkl_prefix_is_scanned_by_content(tmp_path: Path, kind: str) -> None:
    payload, load = MEMBERS[kind]
    path = tmp_path / "model.zip"
    path.write_bytes(_zip({"archive/data.pkl": pickle.dumps({"w": 1}, protocol=2), "archive/data/0": payload}))
    loader = "import pickle, zipfile\ndata = zipfile.ZipFile(path).read('archive/data/0')\n" + load
    assert "os.system" in executed(loader, path, tmp_path)
    res = run_gate(path)
    assert res.decision.value == "fail"
    # The payload itself (dangerous), or the walker's bound before it (cannot prove safe): both block.
    assert {f.id for f in res.findings} & {DANGEROUS, LIMIT}, [f.message for f in res.findings]


def test_raw_tensor_storages_still_pass(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    members = {"archive/data.pkl": pickle.dumps({"w": 1}, protocol=2), "archive/version": b"3\n"}
    for i in range(300):  # raw numbers of every flavour: floats, ints, small ints, zeros
        arr = [rng.normal(size=64).astype("f4"), rng.integers(0, 300, 64), np.zeros(8, "f4"),
               rng.integers(-5, 5, 32).astype("i8")][i % 4]
        members[f"archive/data/{i}"] = arr.tobytes()
    path = tmp_path / "model.pt"
    path.write_bytes(_zip(members))
    res = run_gate(path)
    assert res.decision.value == "pass", [f.message for f in res.findings]


_KERAS_CONFIG = {
    "class_name": "Functional",
    "config": {"layers": [{"class_name": "InputLayer", "config": {}},
                          {"class_name": "LAMBDA_NAME", "config": {"function": {"class_name": "__lambda__"}}}]},
}


def _escaped_config() -> bytes:
    text = json.dumps(_KERAS_CONFIG).replace("LAMBDA_NAME", "Lambd\\u0061").replace("__lambda__", "__l\\u0061mbda__")
    assert json.loads(text)["config"]["layers"][1]["class_name"] == "Lambda"  # what the Keras loader reads
    assert b"Lambda" not in text.encode()
    return text.encode()


def test_keras_lambda_hidden_by_a_json_escape_in_config_json(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(_zip({"config.json": _escaped_config(), "metadata.json": b"{}", "model.weights.h5": b""}))
    res = run_gate(path)
    assert res.decision.value == "fail"
    assert any(f.id == KERAS_LAMBDA for f in res.findings)


def test_keras_lambda_hidden_by_a_json_escape_in_an_hdf5_attribute(tmp_path: Path) -> None:
    # The model_config attribute of a Keras .h5 file is a JSON string stored in the file.
    data = (b"\x89HDF\r\n\x1a\n" + b"\x00" * 200 + b"model_config\x00\x00\x00\x00" + _escaped_config()
            + b"\x00" * 64 + b"keras_version\x00")
    path = tmp_path / "model.h5"
    path.write_bytes(data)
    res = run_gate(path)
    assert res.decision.value == "fail"
    assert any(f.id == KERAS_LAMBDA for f in res.findings)


def test_keras_config_without_lambda_passes(tmp_path: Path) -> None:
    cfg = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}).encode()
    path = tmp_path / "model.keras"
    path.write_bytes(_zip({"config.json": cfg}))
    assert run_gate(path).decision.value == "pass"
