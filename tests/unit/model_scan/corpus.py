"""A generated corpus of model files: attack techniques and real benign models.

Every file is produced by our own code at test (or benchmark) time and is
never loaded. Malicious pickles are written with ``pickle.dumps`` of objects
whose ``__reduce__`` names a dangerous callable (dumping does not call it)
or assembled opcode by opcode.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
import os
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

CMD = "echo kfp-gates-corpus"


class _Reduce:
    """Pickles as ``func(*args)`` (the call only happens if someone loads the file)."""

    def __init__(self, func: Any, *args: Any) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


class _Global:
    """Pickles as a bare global reference ``module.name`` (never imported here)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name


def _sbu(s: str) -> bytes:  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def _bin_str(s: str) -> bytes:  # SHORT_BINSTRING (protocol-1 str)
    b = s.encode()
    return b"U" + bytes([len(b)]) + b


def _call(module: str, name: str, arg: str, proto: int = 4) -> bytes:
    """A protocol-4 pickle that calls module.name(arg) via STACK_GLOBAL."""
    return b"\x80" + bytes([proto]) + _sbu(module) + _sbu(name) + b"\x93" + _sbu(arg) + b"\x85R."


def _evil(proto: int = 4) -> bytes:
    return pickle.dumps({"model": "x", "payload": _Reduce(os.system, CMD)}, protocol=proto)


# --------------------------------------------------------------------------- torch-like files
def _torch_data_pkl(payload: Any = None) -> bytes:
    """A torch-style data.pkl: an OrderedDict of tensors rebuilt from persistent storages."""
    out = io.BytesIO()
    p = _P(out, protocol=2)

    class _T:
        def __reduce__(self) -> Any:
            return (_G("torch._utils", "_rebuild_tensor_v2"), (_Pid(), 0, (2, 2), (2, 1), False, _Od()))

    class _Pid:
        pass

    class _Od:
        def __reduce__(self) -> Any:
            return (_G("collections", "OrderedDict"), ())

    def pid(obj: Any) -> Any:
        if isinstance(obj, _Pid):
            return ("storage", _G("torch", "FloatStorage"), "0", "cpu", 4)
        return None

    p.pid_fn = pid
    state = {"weight": _T()}
    if payload is not None:
        state["extra"] = payload
    p.dump(_Reduce(_G("collections", "OrderedDict"), [(k, v) for k, v in state.items()]))
    return out.getvalue()


class _G:
    """A picklable stand-in for a global that does not exist here (torch is not installed)."""

    def __init__(self, module: str, name: str) -> None:
        self.__module__ = module
        self.__qualname__ = name
        self.__name__ = name

    def __reduce__(self) -> str:
        return self.__qualname__

    def __call__(self, *args: Any) -> Any:  # pickle wants callables for REDUCE; never called
        raise RuntimeError("stand-in global")


class _P(pickle._Pickler):  # type: ignore[misc] - the pure-Python pickler, to emit fake globals
    """Writes :class:`_G` stand-ins as GLOBAL/STACK_GLOBAL without importing anything."""

    pid_fn: Callable[[Any], Any] | None = None

    def persistent_id(self, obj: Any) -> Any:
        return self.pid_fn(obj) if self.pid_fn is not None else None

    def save_global(self, obj: Any, name: str | None = None) -> None:
        if isinstance(obj, _G):
            if self.proto >= 4:
                self.save(obj.__module__)
                self.save(obj.__qualname__)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + f"{obj.__module__}\n{obj.__qualname__}\n".encode())
            self.memoize(obj)
            return
        super().save_global(obj, name)


def _dumps(obj: Any, protocol: int = 4) -> bytes:
    out = io.BytesIO()
    _P(out, protocol=protocol).dump(obj)
    return out.getvalue()


def _torch_zip(prefix: str, data_pkl: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", data_pkl)
        z.writestr(f"{prefix}/byteorder", "little")
        z.writestr(f"{prefix}/data/0", struct.pack("<4f", 1.0, 2.0, 3.0, 4.0))
        z.writestr(f"{prefix}/version", "3\n")
        z.writestr(f"{prefix}/.data/serialization_id", "1234567890")
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return buf.getvalue()


def _torch_legacy(payload: Any = None) -> bytes:
    """torch.save (< 1.6) layout: magic, protocol, sys_info, object, storage keys, raw storages."""
    out = io.BytesIO()
    for v in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(v, out, protocol=2)
    out.write(_torch_data_pkl(payload))
    pickle.dump(["0"], out, protocol=2)
    out.write(struct.pack("<q", 4) + struct.pack("<4f", 1, 2, 3, 4))
    return out.getvalue()


# --------------------------------------------------------------------------- archives
def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for k, v in members.items():
            info = tarfile.TarInfo(k)
            info.size = len(v)
            t.addfile(info, io.BytesIO(v))
    return buf.getvalue()


def _npy_object(obj_array_items: list[Any]) -> bytes:
    import numpy as np

    arr = np.empty(len(obj_array_items), dtype=object)
    for i, v in enumerate(obj_array_items):
        arr[i] = v
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _joblib_bytes(obj: Any, compress: Any = 0) -> bytes:
    import joblib

    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=compress)
    return buf.getvalue()


# --------------------------------------------------------------------------- malicious corpus
def malicious() -> dict[str, bytes]:
    """technique -> file bytes. Every one of these must block."""
    import numpy as np

    evil = _evil()
    t: dict[str, Callable[[], bytes]] = {
        "proto0 GLOBAL os.system (text pickle)": lambda: _evil(0),
        "proto1 binary without PROTO header": lambda: _evil(1),
        "proto2 GLOBAL posix.system": lambda: _evil(2),
        "proto3": lambda: _evil(3),
        "proto4 STACK_GLOBAL": lambda: _evil(4),
        "proto5 STACK_GLOBAL": lambda: _evil(5),
        "builtins.exec": lambda: _call("builtins", "exec", "import os"),
        "builtins.eval": lambda: _call("builtins", "eval", "1+1"),
        "__builtin__.eval (python 2 name)": lambda: b"c__builtin__\neval\n(S'1+1'\ntR.",
        "builtins.getattr": lambda: (
            b"\x80\x04" + _sbu("builtins") + _sbu("getattr") + b"\x93" + _sbu("posix") + _sbu("system") + b"\x86R."
        ),
        "builtins.__import__": lambda: _call("builtins", "__import__", "os"),
        "getattr on a module reached through an allowlisted package": lambda: (
            b"\x80\x04" + _sbu("builtins") + _sbu("getattr") + b"\x93" + _sbu("sklearn.base") + _sbu("np") + b"\x93"
            + _sbu("load") + b"\x86R" + _sbu("/tmp/x.npy") + b"\x85R."
        ),
        "getattr of a dunder attribute": lambda: (
            b"\x80\x04" + _sbu("builtins") + _sbu("getattr") + b"\x93" + _sbu("collections") + _sbu("OrderedDict")
            + b"\x93" + _sbu("__init__") + b"\x86R."
        ),
        "getattr imported and passed as a value": lambda: _dumps(
            _Reduce(functools.partial, _G("builtins", "getattr"), "x"), protocol=4
        ),
        "getattr called through OBJ": lambda: (
            b"\x80\x02(cbuiltins\ngetattr\nU\x05posixU\x06systemo."
        ),
        "subprocess.Popen via INST": lambda: b"(S'id'\nisubprocess\nPopen\n.",
        "subprocess.check_output via OBJ": lambda: b"\x80\x02(csubprocess\ncheck_output\n]U\x02idao.",
        "subprocess.Popen via NEWOBJ": lambda: b"\x80\x02csubprocess\nPopen\n]X\x02\x00\x00\x00ida\x85\x81.",
        "STACK_GLOBAL operands from memo": lambda: (
            b"\x80\x04" + _sbu("os") + b"\x94" + _sbu("system") + b"\x94" + b"0" + b"0"
            + b"h\x00h\x01\x93" + _sbu(CMD) + b"\x85R."
        ),
        "STACK_GLOBAL with protocol-1 string operands": lambda: (
            b"\x80\x04" + _bin_str("posix") + _bin_str("system") + b"\x93" + _bin_str(CMD) + b"\x85R."
        ),
        "STACK_GLOBAL with protocol-0 STRING operands": lambda: (
            b"\x80\x04S'nt'\nS'system'\n\x93" + _sbu(CMD) + b"\x85R."
        ),
        "REDUCE on callable fetched back from memo": lambda: (
            b"\x80\x02cposix\nsystem\nq\x000h\x00" + b"X" + struct.pack("<I", len(CMD)) + CMD.encode() + b"\x85R."
        ),
        "dotted name into os via allowlisted module": lambda: (
            b"\x80\x04" + _sbu("collections") + _sbu("os.system") + b"\x93" + _sbu(CMD) + b"\x85R."
        ),
        "dunder attribute traversal": lambda: (
            b"\x80\x04" + _sbu("collections") + _sbu("OrderedDict.__init__.__globals__") + b"\x93."
        ),
        "EXT1 extension registry": lambda: b"\x80\x02\x82\x01" + _sbu(CMD) + b"\x85R.",
        "runpy._run_code": lambda: _call("runpy", "_run_code", "import os"),
        "timeit.timeit": lambda: _call("timeit", "timeit", "import os"),
        "cProfile.run": lambda: _call("cProfile", "run", "import os"),
        "pydoc.locate": lambda: _call("pydoc", "locate", "os.system"),
        "importlib.import_module": lambda: _call("importlib", "import_module", "os"),
        "webbrowser.open": lambda: _call("webbrowser", "open", "http://example.invalid"),
        "socket.create_connection": lambda: _call("socket", "create_connection", "x"),
        "ctypes.CDLL": lambda: _call("ctypes", "CDLL", "libc.so.6"),
        "marshal.loads": lambda: _call("marshal", "loads", "x"),
        "pip main": lambda: _call("pip", "main", "install"),
        "pty.spawn": lambda: _call("pty", "spawn", "/bin/sh"),
        "operator.attrgetter": lambda: _call("operator", "attrgetter", "system"),
        "numpy.load (allow_pickle positional)": lambda: _call("numpy", "load", "/tmp/x.npy"),
        "torch.load": lambda: _call("torch", "load", "/tmp/x.pt"),
        "pickle.loads of nested payload": lambda: pickle.dumps(_Reduce(pickle.loads, evil), protocol=4),
        "torch.storage._load_from_bytes nested payload": lambda: _dumps(
            _Reduce(_G("torch.storage", "_load_from_bytes"), evil), protocol=2
        ),
        "unknown global mypkg.backdoor.run": lambda: _call("mypkg.backdoor", "Run", "x"),
        "concatenated streams (payload in 2nd)": lambda: pickle.dumps({"ok": 1}, protocol=4) + evil,
        "concatenated streams (payload in 3rd, proto 0)": lambda: (
            pickle.dumps([1], protocol=2) + pickle.dumps([2], protocol=0) + _evil(0)
        ),
        "truncated stream (payload, no STOP)": lambda: evil[:-1],
        "corrupt opcode after payload": lambda: evil[:-1] + b"\xff.",
        "joblib plain": lambda: _joblib_bytes({"w": np.arange(100.0), "p": _Reduce(os.system, CMD)}),
        "joblib zlib": lambda: _joblib_bytes({"w": np.arange(100.0), "p": _Reduce(os.system, CMD)}, ("zlib", 3)),
        "joblib gzip": lambda: _joblib_bytes({"w": np.arange(100.0), "p": _Reduce(os.system, CMD)}, ("gzip", 3)),
        "joblib bz2": lambda: _joblib_bytes({"w": np.arange(100.0), "p": _Reduce(os.system, CMD)}, ("bz2", 3)),
        "joblib xz": lambda: _joblib_bytes({"w": np.arange(100.0), "p": _Reduce(os.system, CMD)}, ("xz", 3)),
        "joblib lzma": lambda: _joblib_bytes({"w": np.arange(100.0), "p": _Reduce(os.system, CMD)}, ("lzma", 3)),
        "joblib payload after array data": lambda: _joblib_bytes(
            [np.arange(1000.0), np.ones((10, 10)), _Reduce(os.system, CMD)]
        ),
        "joblib object array with payload": lambda: _joblib_bytes(
            {"o": np.array([1, _Reduce(os.system, CMD)], dtype=object)}
        ),
        "gzip-compressed pickle": lambda: gzip.compress(evil),
        "pytorch zip archive/ prefix": lambda: _torch_zip("archive", _torch_data_pkl(_Reduce(os.system, CMD))),
        "pytorch zip custom prefix": lambda: _torch_zip(
            "resnet_final/checkpoint", _torch_data_pkl(_Reduce(os.system, CMD))
        ),
        "pytorch zip, payload in storage-named member": lambda: _torch_zip(
            "archive", _torch_data_pkl(), {"archive/data/1": evil}
        ),
        "pytorch legacy (pre-1.6) file": lambda: _torch_legacy(_Reduce(os.system, CMD)),
        "pytorch legacy tar": lambda: _tar(
            {"sys_info": pickle.dumps({"x": 1}, protocol=2), "pickle": evil, "storages": pickle.dumps(0),
             "tensors": pickle.dumps(0)}
        ),
        "zip member with misleading name": lambda: _zip({"model.safetensors": evil, "README.md": b"# model"}),
        "nested zip": lambda: _zip({"inner.zip": _zip({"model.pkl": evil})}),
        "zip path traversal member": lambda: _zip({"../../../../tmp/evil.pkl": b"harmless", "m.pkl": b"\x80\x04N."}),
        "npy object array with payload": lambda: _npy_object([1, _Reduce(os.system, CMD)]),
        "npz with object array payload": lambda: _zip({"arr_0.npy": _npy_object([_Reduce(os.system, CMD)])}),
        "polyglot pickle + zip": lambda: pickle.dumps([1], protocol=4) + _zip({"data.pkl": evil}),
        "dill-style code object": lambda: _call("dill._dill", "_create_code", "x"),
        "types.FunctionType": lambda: _call("types", "FunctionType", "x"),
        "lz4 compressed (unscannable)": lambda: b"\x04\x22\x4d\x18" + os.urandom(64),
        "joblib payload hidden in array padding (pickle.load reading)": lambda: _joblib_pad_payload(),
        "joblib payload deep in array data (pickle.load reading)": lambda: _joblib_deep_payload(),
    }
    return {name: make() for name, make in t.items()}


def _joblib_pad_payload() -> bytes:
    """A joblib file whose array padding byte and padding hold opcodes that plain pickle.load would run."""
    import numpy as np

    code = b"cposix\nsystem\n"
    for shift in range(16):
        data = bytearray(_joblib_bytes(["x" * shift, np.arange(4.0)]))
        at = bytes(data).index(np.arange(4.0).tobytes())
        pad_at = at - 1
        while data[pad_at] == 0xFF:
            pad_at -= 1
        if data[pad_at] >= len(code) - 1:
            data[pad_at : pad_at + len(code)] = code
            return bytes(data)
    raise AssertionError("no alignment left room for the payload")


def _joblib_deep_payload() -> bytes:
    """Array data that plain pickle.load reads as 8 KiB of harmless opcodes, then a call to posix.system."""
    import numpy as np

    code = b"N0" * 4096 + b"cposix\nsystem\n(S'id'\ntR"
    raw = np.frombuffer(code + b"\x00" * (-len(code) % 8), dtype=np.uint8).copy()
    data = bytearray(_joblib_bytes([raw]))
    at = bytes(data).index(code)
    pad_at = at - 1
    while data[pad_at] == 0xFF:
        pad_at -= 1
    data[pad_at] = ord("N")  # the padding-length byte, read by pickle.load as NONE
    data[pad_at + 1 : at] = b"0" + b"N0" * ((at - pad_at - 2) // 2) + (b"N" if (at - pad_at - 2) % 2 else b"")
    return bytes(data)


# --------------------------------------------------------------------------- benign corpus
def benign(light: bool = False) -> dict[str, bytes]:
    """name -> file bytes of real, harmless models and data. None of these may be flagged."""
    import collections
    import datetime
    import decimal
    import fractions

    import numpy as np
    import pandas as pd
    from scipy import sparse
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import SelectKBest
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC

    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    Xp = np.abs(X)
    models: dict[str, Any] = {
        "logreg": LogisticRegression(max_iter=200).fit(X, y),
        "random_forest": RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y),
        "scaler_svc_pipeline": Pipeline([("s", StandardScaler()), ("svc", SVC())]).fit(X, y),
        "function_transformer_partial_clip": make_pipeline(
            FunctionTransformer(functools.partial(np.clip, a_min=0, a_max=1)), LogisticRegression()
        ).fit(X, y),
        "function_transformer_log1p": make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(Xp, y),
        "select_kbest": make_pipeline(SelectKBest(k=3), LogisticRegression()).fit(X, y),
        "knn_kdtree": KNeighborsClassifier(algorithm="kd_tree").fit(X, y),
    }
    if not light:
        texts = ["good model", "bad model", "fine data", "poisoned data"] * 10
        df = pd.DataFrame({"c": ["a", "b", "c"] * 40, "n": np.arange(120.0)})
        models.update(
            {
                "gradient_boosting": GradientBoostingClassifier(n_estimators=5).fit(X, y),
                "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=5).fit(X, y),
                "tfidf_nb": make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(texts, [0, 1, 0, 1] * 10),
                "column_transformer": Pipeline(
                    [("ct", ColumnTransformer([("oh", OneHotEncoder(), ["c"])], remainder="passthrough")),
                     ("lr", LogisticRegression())]
                ).fit(df, y),
            }
        )
    data: dict[str, Any] = {
        "numpy_arrays": {"f": np.arange(10.0), "i": np.arange(10), "s": np.array(["a", "bc"]),
                         "struct": np.zeros(3, dtype=[("a", "i4"), ("b", "f8")]),
                         "dt": np.array(["2024-01-01"], dtype="M8[ns]")},
        "numpy_object_array": np.array([1, "a", None, 2.5], dtype=object),
        "numpy_random_state": np.random.default_rng(0),
        "pandas_frame": pd.DataFrame(
            {"a": [1, 2, 3], "b": ["x", "y", "z"], "c": pd.Categorical(["p", "q", "p"]),
             "t": pd.date_range("2024-01-01", periods=3, tz="UTC")}
        ),
        "pandas_series": pd.Series([1.0, 2.0], index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])),
        "pandas_tz_nullable": pd.DataFrame(
            {"t": pd.date_range("2024-01-01", periods=2, tz="Europe/Berlin"), "i": pd.array([1, None], dtype="Int64")}
        ),
        "stdlib_values": {"od": collections.OrderedDict(a=1), "set": {1, 2}, "fs": frozenset({3}),
                          "dt": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), "d": datetime.date(2024, 1, 1),
                          "td": datetime.timedelta(1), "dec": decimal.Decimal("1.5"),
                          "frac": fractions.Fraction(1, 3), "dq": collections.deque([1]),
                          "dd": collections.defaultdict(list), "ctr": collections.Counter("ab"), "c": 1j,
                          "b": b"\x00\x01", "ba": bytearray(b"xy")},
        "scipy_sparse": sparse.csr_matrix(np.eye(4)),
    }
    out: dict[str, bytes] = {}
    protos = (0, 2, 4, 5) if light else (0, 1, 2, 3, 4, 5)
    for name, obj in {**models, **data}.items():
        for proto in protos:
            out[f"{name}.p{proto}.pkl"] = pickle.dumps(obj, protocol=proto)
        out[f"{name}.joblib"] = _joblib_bytes(obj)
    comps = ("zlib", "gzip") if light else ("zlib", "gzip", "bz2", "xz", "lzma")
    for comp in comps:
        out[f"random_forest.{comp}.joblib"] = _joblib_bytes(models["random_forest"], (comp, 3))
        out[f"pandas_frame.{comp}.joblib"] = _joblib_bytes(data["pandas_frame"], (comp, 3))
    out["random_forest.p0.joblib"] = _joblib_bytes(models["random_forest"], 0)
    npy = io.BytesIO()
    np.save(npy, np.arange(12.0).reshape(3, 4))
    out["array.npy"] = npy.getvalue()
    out["object_array.npy"] = _npy_object([1, "a", (2, 3)])
    npz = io.BytesIO()
    np.savez_compressed(npz, a=np.arange(3), b=np.ones((2, 2)))
    out["arrays.npz"] = npz.getvalue()
    out["model.safetensors"] = _safetensors({"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))})
    out["pytorch.zip.pt"] = _torch_zip("archive", _torch_data_pkl())
    out["pytorch.prefix.pt"] = _torch_zip("my-model", _torch_data_pkl())
    out["pytorch.legacy.pt"] = _torch_legacy()
    out["config.json"] = b'{"architectures": ["X"], "hidden_size": 8}'
    out["vocab.txt"] = b"[PAD]\n[UNK]\ncat\ndog\n"
    out["gzip_pickle.pkl.gz"] = gzip.compress(pickle.dumps(models["logreg"], protocol=4))
    out["bz2_pickle.pkl.bz2"] = bz2.compress(pickle.dumps(models["logreg"], protocol=4))
    out["xz_pickle.pkl.xz"] = lzma.compress(pickle.dumps(models["logreg"], protocol=4))
    out["zlib_pickle.pkl.z"] = zlib.compress(pickle.dumps(models["logreg"], protocol=4))
    return out


def _safetensors(tensors: dict[str, tuple[str, list[int], bytes]]) -> bytes:
    import json

    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    blob = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def write(files: dict[str, bytes], directory: Path) -> dict[str, Path]:
    """Write ``name -> bytes`` into ``directory``; return ``name -> path`` (names made file-safe)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, (name, data) in enumerate(files.items()):
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:80]
        p = directory / f"{i:03d}_{safe}"
        p.write_bytes(data)
        out[name] = p
    return out
