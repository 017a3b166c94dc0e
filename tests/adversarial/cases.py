"""Fuzz inputs: benign and malicious seeds, the containers model files come in, grammar-aware mutations.

A :class:`Case` is a core (a pickle stream, or a Keras config's JSON text) plus the container
it is shipped in (raw, joblib-compressed, npy, npz, torch zip, torch legacy, tar, pre-POSIX tar,
joblib with an array in front, .keras). :class:`Mutator` changes the payload's expression (another
spelling, an alias of the callable, ``getattr``/``partial``/``attrgetter`` indirection, a nested
pickle), the op stream (insert, delete, duplicate, splice, respell or change an operand, MARK
floods, long strings), the container and its member names, or JSON escapes. Seeds are built by
our own code from objects whose ``__reduce__`` is never called here.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import marshal
import pickle
import random
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field, replace

from .pickles import Encoder, Expr, Op, join, mutate_int, parse, respell_int

OUT = "/tmp/kfpg-fuzz-out"


def g(module: str, name: str) -> Expr:
    return ("g", module, name)


def call(f: Expr, *args: Expr) -> Expr:
    return ("call", f, list(args))


def s(text: str) -> Expr:
    return ("s", text)


def _import(module: str) -> Expr:
    return call(g("importlib", "import_module"), s(module))


# What a malicious file tries to do, each caught by the worker's audit hook.
PAYLOADS: dict[str, Expr] = {
    "os.system": call(g("os", "system"), s("true")),
    "posix.system": call(g("posix", "system"), s("true")),
    "subprocess.getoutput": call(g("subprocess", "getoutput"), s("true")),
    "subprocess.check_output": call(g("subprocess", "check_output"), ("l", [s("true")])),
    "os.popen": call(g("os", "popen"), s("true")),
    "eval": call(g("builtins", "eval"), s("1+1")),
    "exec": call(g("builtins", "exec"), s("x = 1")),
    "open-write": call(g("builtins", "open"), s(OUT), s("w")),
    "io.open-write": call(g("io", "open"), s(OUT), s("a")),
    "__import__": call(g("builtins", "__import__"), s("smtplib")),
    "import_module": _import("webbrowser"),
    "socket": call(g("socket", "create_connection"), ("t", [s("127.0.0.1"), ("i", 9)])),
    "getattr-chain": call(call(g("builtins", "getattr"), _import("os"), s("system")), s("true")),
    "partial": call(call(g("functools", "partial"), g("os", "system"), s("true"))),
    "attrgetter": call(call(call(g("operator", "attrgetter"), s("system")), _import("os")), s("true")),
    "methodcaller": call(call(g("operator", "methodcaller"), s("system"), s("true")), _import("os")),
    "Popen": call(g("subprocess", "Popen"), ("l", [s("true")])),
    "map": call(g("builtins", "list"), call(g("builtins", "map"), g("os", "system"), ("l", [s("true")]))),
}
# Callables the scanner must judge dangerous; aliases of them (the same object under another
# module's name) are found at start-up in the libraries whose names models legitimately use.
TARGETS = (
    ("os", "system"), ("os", "popen"), ("subprocess", "Popen"), ("subprocess", "getoutput"),
    ("subprocess", "check_output"), ("builtins", "eval"), ("builtins", "exec"), ("builtins", "open"),
    ("builtins", "getattr"), ("builtins", "__import__"), ("importlib", "import_module"), ("io", "open"),
    ("operator", "attrgetter"), ("operator", "methodcaller"), ("functools", "partial"), ("functools", "reduce"),
    ("pickle", "loads"), ("socket", "create_connection"), ("socket", "socket"),
)
NESTED_LOADERS = (("pickle", "loads"), ("_pickle", "loads"), ("pickle", "_loads"))
FILE_LOADERS = (("pickle", "load"), ("_pickle", "load"), ("joblib", "load"), ("pandas", "read_pickle"),
                ("joblib.numpy_pickle", "load"))
BYTES_IO = (("io", "BytesIO"), ("_io", "BytesIO"))
PY2_NAMES = {"builtins": "__builtin__", "copyreg": "copy_reg", "pickle": "cPickle", "subprocess": "subprocess"}
COMPRESSIONS = ("zlib", "gzip", "bz2", "xz", "lzma")
CONTAINERS = ("raw", *COMPRESSIONS, "npy", "npz", "torch-zip", "torch-legacy", "tar", "tar-v7", "joblib-array")
LOADER = {"raw": ("pickle", ".pkl"), "npy": ("numpy", ".npy"), "npz": ("numpy", ".npz"),
          "torch-zip": ("torch", ".pt"), "torch-legacy": ("torch-legacy", ".pt"), "tar": ("torch-tar", ".tar"),
          "tar-v7": ("torch-tar", ".tar"), "joblib-array": ("joblib", ".joblib"), "keras": ("keras", ".keras"),
          **{c: ("joblib", ".joblib") for c in COMPRESSIONS}}  # fmt: skip
TORCH_NAMES = ("archive/data.pkl", "archive/data/0", "archive/data/data.pkl", "model/data.pkl", "data.pkl",
               "archive/data/1/data.pkl", "archive/extra.pkl")
NPZ_NAMES = ("arr_0.npy", "w/data/arr_0.npy", "data/arr_0.npy", "w/arr_0.npy")
TAR_NAMES = ("pickle", "storages", "tensors")


@dataclass(frozen=True)
class Case:
    """One fuzz input before it is written: a core and the container it ships in."""

    core: bytes  # a pickle stream; for keras, config.json text
    container: str = "raw"
    layout: tuple = ()  # container parameters (member names, element size, ...)
    expr: Expr | None = None  # the payload expression, while the stream is still its encoding
    protocol: int = 4
    history: tuple[str, ...] = field(default=())
    malicious: bool = False

    def loader(self) -> tuple[str, str]:
        return LOADER[self.container]

    def describe(self) -> dict:
        return {"container": self.container, "layout": list(self.layout), "protocol": self.protocol,
                "history": list(self.history), "seed_malicious": self.malicious}


# -- containers ----------------------------------------------------------------------------------


def _zip(members: list[tuple[str, bytes]], stored: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _npy_header() -> bytes:
    import numpy.lib.format as fmt

    buf = io.BytesIO()
    fmt.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    return buf.getvalue()


def _tar(members: list[tuple[str, bytes]], v7: bool) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    raw = bytearray(buf.getvalue())
    if v7:  # pre-POSIX: no "ustar" magic, checksum over the blanked header
        pos = 0
        while pos + 512 <= len(raw) and any(raw[pos : pos + 512]):
            size = int(raw[pos + 124 : pos + 136].strip(b"\0 ") or b"0", 8)
            raw[pos + 257 : pos + 265] = b"\0" * 8
            raw[pos + 148 : pos + 156] = b" " * 8
            raw[pos + 148 : pos + 156] = b"%06o\0 " % sum(raw[pos : pos + 512])
            pos += 512 + (size + 511) // 512 * 512
    return bytes(raw)


_JOBLIB_SPLIT: dict[str, tuple[bytes, bytes]] = {}


def _joblib_array() -> tuple[bytes, bytes]:
    """A real joblib file of a float array, split right after the array's bytes."""
    if "f8" not in _JOBLIB_SPLIT:
        import joblib
        import numpy

        arr = numpy.arange(8, dtype="<f8") + 0.5
        buf = io.BytesIO()
        joblib.dump({"w": arr, "b": 1}, buf)
        data = buf.getvalue()
        end = data.index(arr.tobytes()) + arr.nbytes
        _JOBLIB_SPLIT["f8"] = (data[:end], data[end:])
    return _JOBLIB_SPLIT["f8"]


def _elsize(prefix: bytes, size: int) -> bytes:
    """Set the element size in the pickled dtype state ``(3, '<', None, None, None, elsize, align, 0)``."""
    at = prefix.index(b"NNNJ\xff\xff\xff\xff") + 4
    return prefix[:at] + size.to_bytes(4, "little", signed=True) + prefix[at + 4 :]


def _strip(stream: bytes) -> bytes:
    """A stream's ops without PROTO, FRAME and STOP: a fragment to splice into another stream."""
    try:
        ops = parse(stream)
    except Exception:  # noqa: BLE001 - a mutated stream: splice its bytes as they are
        return stream.rstrip(b".")
    return join([op for op in ops if op.name not in ("PROTO", "STOP")])


def materialize(case: Case) -> bytes:
    """The bytes of the model file ``case`` describes."""
    c, core, lay = case.container, case.core, case.layout
    if c == "raw":
        return core
    if c == "zlib":
        return zlib.compress(core, 3)
    if c == "gzip":
        return gzip.compress(core, 3, mtime=0)
    if c == "bz2":
        return bz2.compress(core, 3)
    if c == "xz":
        return lzma.compress(core)
    if c == "lzma":
        return lzma.compress(core, format=lzma.FORMAT_ALONE)
    if c == "npy":
        return _npy_header() + core
    if c == "npz":
        name = lay[0] if lay else "arr_0.npy"
        members = [(name, _npy_header() + core)]
        if len(lay) > 1 and lay[1]:
            members.insert(0, (lay[1], pickle.dumps({"meta": 1}, protocol=2)))
        return _zip(members, stored=len(lay) < 3 or bool(lay[2]))
    if c == "torch-zip":
        name = lay[0] if lay else "archive/data.pkl"
        members = [("archive/version", b"3\n"), ("archive/byteorder", b"little"),
                   ("archive/data/0", b"\0" * 32)]  # fmt: skip
        if name != "archive/data.pkl":
            members.append(("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2)))
        members = [m for m in members if m[0] != name]
        members.insert(int(lay[1]) % (len(members) + 1) if len(lay) > 1 else 0, (name, core))
        return _zip(members)
    if c == "torch-legacy":
        head = b"".join(pickle.dumps(x, protocol=2)
                        for x in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True, "protocol_version": 1001}))
        return head + core + pickle.dumps([], protocol=2)
    if c in ("tar", "tar-v7"):
        name = lay[0] if lay else "pickle"
        members = {n: pickle.dumps(0, protocol=2) for n in TAR_NAMES}
        members[name] = core
        return _tar(sorted(members.items()), v7=c == "tar-v7")
    if c == "joblib-array":
        prefix, rest = _joblib_array()
        size = lay[0] if lay else -1
        if size != -1:
            prefix = _elsize(prefix, size)
        return prefix + _strip(core) + b"0" + rest
    if c == "keras":
        members = [("metadata.json", b'{"keras_version": "3.6.0"}'), ("config.json", core),
                   ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 24)]  # fmt: skip
        return _zip(members, stored=not lay or bool(lay[0]))
    raise ValueError(f"unknown container {c}")


# -- seeds ---------------------------------------------------------------------------------------


def benign_objects() -> list[object]:
    """Objects real models pickle (scikit-learn, numpy, pandas), built here from tiny data."""
    import numpy
    import pandas
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    x = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]]
    y = [0, 0, 1, 1]
    return [
        {"weights": [1.5, 2.0, -3.0], "name": "model", "layers": (1, 2, 3), "blob": b"\x00\x01" * 8},
        numpy.arange(6, dtype="<f4").reshape(2, 3),
        LogisticRegression().fit(x, y),
        DecisionTreeClassifier(max_depth=2).fit(x, y),
        pandas.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}),
    ]


def keras_config(name: str = "Lambda", code: bytes | None = None) -> bytes:
    """A Keras 3 functional model config with one layer of class ``name`` (a Lambda carries code)."""
    import base64

    if code is None:
        code = marshal.dumps(compile("lambda x: x", "<fuzz>", "eval"))
    layer = {"module": "keras.layers", "class_name": name, "name": "l1",
             "config": {"name": "l1", "function": {"class_name": "__lambda__",
                                                    "config": {"code": base64.b64encode(code).decode()}}}}  # fmt: skip
    dense = {"module": "keras.layers", "class_name": "Dense", "name": "d", "config": {"units": 2}}
    return json.dumps({"module": "keras", "class_name": "Functional",
                       "config": {"name": "m", "layers": [dense, layer]}}).encode()  # fmt: skip


def seeds(rng: random.Random) -> list[Case]:
    out: list[Case] = []
    for obj in benign_objects():
        for protocol in range(6):
            out.append(Case(pickle.dumps(obj, protocol=protocol), protocol=protocol, history=("benign",)))
    for name, expr in PAYLOADS.items():
        for protocol in (0, 2, 4):
            core = Encoder(rng, protocol).stream(expr)
            out.append(Case(core, expr=expr, protocol=protocol, history=(f"seed:{name}",), malicious=True))
    out.append(Case(keras_config("Dense"), container="keras", history=("benign-keras",)))
    out.append(Case(keras_config(), container="keras", history=("seed:keras-lambda",), malicious=True))
    return out


# -- mutations -----------------------------------------------------------------------------------

_RANDOM_OPS = (b"(", b")", b"]", b"}", b"N", b"\x88", b"0", b"1", b"2", b"a", b"e", b"s", b"u", b"t", b"l", b"d",
               b"\x85", b"\x86", b"R", b"b", b"o", b"\x93", b"\x94", b"K\x01", b"h\x00", b"q\x00", b"g0\n", b"p0\n",
               b"I1\n", b"I0x1\n", b"L1\n", b"L1L\n", b"F1.0\n", b"S'x'\n", b"Vx\n", b"\x8c\x02os", b"\x8c\x06system",
               b"cos\nsystem\n", b"cbuiltins\ngetattr\n", b"\x80\x02", b"\x95\x00\x00\x00\x00\x00\x00\x00\x00")


class Mutator:
    """Grammar-aware mutations; ``aliases`` maps a target ``module.name`` to its other names."""

    def __init__(self, rng: random.Random, aliases: dict[str, list[tuple[str, str]]]) -> None:
        self.rng = rng
        self.aliases = aliases

    def mutate(self, case: Case, pool: list[Case]) -> Case:
        rng = self.rng
        if case.container == "keras":
            return self._keras(case)
        for _ in range(rng.randrange(1, 4)):
            choices = [self._inject, self._container, self._ops, self._ops, self._splice, self._protocol]
            if case.expr is not None:
                choices += [self._expr, self._expr, self._expr]
            case = rng.choice(choices)(case, pool)
        return case

    # expression level: same behaviour, another spelling
    def _expr(self, case: Case, pool: list[Case]) -> Case:
        rng = self.rng
        expr = case.expr
        assert expr is not None
        how = rng.choice(["alias", "getattr", "partial", "nest", "nest-file", "reencode", "attrgetter", "py2"])
        if how == "alias":
            expr, did = self._alias(expr)
            how = did or "reencode"
        elif how == "getattr":
            expr = _map_globals(expr, lambda m, n: call(g("builtins", "getattr"), _import(m), s(n)), rng)
        elif how == "attrgetter":
            expr = _map_globals(expr, lambda m, n: call(call(g("operator", "attrgetter"), s(n)), _import(m)), rng)
        elif how == "partial" and expr[0] == "call":
            expr = call(call(g("functools", "partial"), expr[1], *expr[2]))
        elif how == "nest":
            inner = Encoder(rng, rng.randrange(6)).stream(expr)
            expr = call(g(*rng.choice(NESTED_LOADERS)), ("b", inner))
        elif how == "nest-file":  # a loader that reads a file object made from bytes in the stream
            inner = Encoder(rng, rng.randrange(6)).stream(expr)
            expr = call(g(*rng.choice(FILE_LOADERS)), call(g(*rng.choice(BYTES_IO)), ("b", inner)))
        elif how == "py2":  # Python 2 module names, which the unpickler maps for protocols 0-2
            expr = _map_globals(expr, lambda m, n: g(PY2_NAMES.get(m, m), n), rng, all_=True)
            protocol = rng.randrange(3)
            return replace(case, core=Encoder(rng, protocol).stream(expr), expr=expr, protocol=protocol,
                           history=(*case.history, "expr:py2"))  # fmt: skip
        protocol = rng.choice([case.protocol, rng.randrange(6)])
        core = Encoder(rng, protocol).stream(expr)
        return replace(case, core=core, expr=expr, protocol=protocol, history=(*case.history, f"expr:{how}"))

    def _alias(self, expr: Expr) -> tuple[Expr, str | None]:
        found: list[str] = []

        def sub(m: str, n: str) -> Expr:
            names = self.aliases.get(f"{m}.{n}")
            if not names:
                return g(m, n)
            pick = self.rng.choice(names)
            found.append(f"{pick[0]}.{pick[1]}")
            return g(*pick)

        new = _map_globals(expr, sub, self.rng, all_=True)
        return new, (f"alias:{found[0]}" if found else None)

    # op level
    def _inject(self, case: Case, pool: list[Case]) -> Case:
        rng = self.rng
        host = rng.choice([c for c in pool if not c.malicious and c.container != "keras"] or [case])
        try:
            ops = parse(host.core)
        except Exception:  # noqa: BLE001
            return case
        name, expr = rng.choice(list(PAYLOADS.items()))
        if case.expr is not None and rng.random() < 0.5:
            expr = case.expr
        frag = Encoder(rng, host.protocol, memo=False).fragment(expr)
        at = rng.randrange(1 if ops and ops[0].name == "PROTO" else 0, max(1, len(ops)))
        ops.insert(at, Op("FRAGMENT", frag))
        return replace(case, core=join(ops), expr=None, protocol=host.protocol, malicious=True,
                       history=(*case.history, f"inject:{name}@{at}"))  # fmt: skip

    def _ops(self, case: Case, pool: list[Case]) -> Case:
        rng = self.rng
        try:
            ops = parse(case.core)
        except Exception:  # noqa: BLE001 - mutate the bytes we have
            ops = [Op("RAW", case.core)]
        if not ops:
            return case
        how = rng.choice(["insert", "delete", "dup", "replace", "int", "respell", "marks", "longstr", "truncate"])
        i = rng.randrange(len(ops))
        if how == "insert":
            ops.insert(i, Op("RAW", rng.choice(_RANDOM_OPS)))
        elif how == "delete" and len(ops) > 2:
            del ops[i]
        elif how == "dup":
            ops.insert(i, ops[i])
        elif how == "replace":
            ops[i] = Op("RAW", rng.choice(_RANDOM_OPS))
        elif how in ("int", "respell"):
            fn = mutate_int if how == "int" else respell_int
            idx = [k for k, op in enumerate(ops) if fn(op, rng) is not None]
            if not idx:
                return case
            i = rng.choice(idx)
            ops[i] = fn(ops[i], rng) or ops[i]
        elif how == "marks":
            n = rng.choice([10, 100, 1000, 5000])
            ops.insert(i, Op("RAW", b"(" * n + b"1" * n))
        elif how == "longstr":
            n = rng.choice([300, 5000, 70000])
            ops.insert(i, Op("RAW", rng.choice([b"S'", b'S"']) + b"a" * n + b"'\n0"))
        elif how == "truncate":
            ops = ops[: max(1, i)]
        return replace(case, core=join(ops), expr=None, history=(*case.history, f"ops:{how}"))

    def _splice(self, case: Case, pool: list[Case]) -> Case:
        other = self.rng.choice(pool)
        if other.container == "keras":
            return case
        a, b = case.core, other.core
        cut_a, cut_b = self.rng.randrange(len(a) + 1), self.rng.randrange(len(b) + 1)
        try:  # at op boundaries when both parse
            oa, ob = parse(a), parse(b)
            core = join(oa[: self.rng.randrange(len(oa) + 1)] + ob[self.rng.randrange(len(ob) + 1) :])
        except Exception:  # noqa: BLE001
            core = a[:cut_a] + b[cut_b:]
        return replace(case, core=core, expr=None, malicious=case.malicious or other.malicious,
                       history=(*case.history, "splice"))  # fmt: skip

    def _protocol(self, case: Case, pool: list[Case]) -> Case:
        core = case.core
        p = self.rng.randrange(6)
        if core[:1] == b"\x80" and len(core) > 1:
            core = core[2:] if self.rng.random() < 0.3 else b"\x80" + bytes([p]) + core[2:]
        else:
            core = b"\x80" + bytes([p]) + core
        return replace(case, core=core, history=(*case.history, "proto"))

    # container level
    def _container(self, case: Case, pool: list[Case]) -> Case:
        rng = self.rng
        c = rng.choice(CONTAINERS)
        layout: tuple = ()
        if c == "npz":
            name = rng.choice(NPZ_NAMES)
            sibling = rng.choice(["", "w/data.pkl", "data.pkl", "model/data.pkl"])
            layout = (name, sibling, rng.random() < 0.5)
        elif c == "torch-zip":
            layout = (rng.choice(TORCH_NAMES), rng.randrange(5))
        elif c in ("tar", "tar-v7"):
            layout = (rng.choice(TAR_NAMES),)
        elif c == "joblib-array":
            layout = (rng.choice([-1, -1, 1, 2, 4, 16, 64, 1024]),)
        return replace(case, container=c, layout=layout, history=(*case.history, f"container:{c}{list(layout)}"))

    def _keras(self, case: Case) -> Case:
        rng = self.rng
        try:
            config = json.loads(case.core)
        except ValueError:
            config = None
        how = rng.choice(["escape", "escape", "space", "stored", "module", "bytes"])
        core = case.core
        if how == "escape":  # \uXXXX for some characters of some string values: same decoded config
            text = case.core.decode()
            out = []
            in_str = False
            prev = ""
            for ch in text:
                if ch == '"' and prev != "\\":
                    in_str = not in_str
                    out.append(ch)
                elif in_str and ch.isalnum() and rng.random() < 0.3:
                    out.append(f"\\u{ord(ch):04x}")
                else:
                    out.append(ch)
                prev = ch
            core = "".join(out).encode()
        elif how == "space" and config is not None:
            seps = rng.choice([(",", ":"), (", ", " : ")])
            core = json.dumps(config, indent=rng.choice([None, 1, 4]), separators=seps,
                              sort_keys=rng.random() < 0.5).encode()  # fmt: skip
        elif how == "module" and config is not None:
            objects: list[dict] = []
            _objects(config, objects)
            rng.choice(objects)["module"] = rng.choice(["smtplib", "keras.layers", "webbrowser"])
            core = json.dumps(config).encode()
        elif how == "bytes":
            core = core.replace(b'"Lambda"', rng.choice([b'"Lambda" ', b'"keras.layers.Lambda"', b'"Lambda"']))
        layout = (rng.random() < 0.5,) if how == "stored" else case.layout
        return replace(case, core=core, layout=layout, history=(*case.history, f"keras:{how}"),
                       malicious=case.malicious or how == "module")  # fmt: skip


def _objects(node: object, out: list[dict]) -> None:
    if isinstance(node, dict):
        if "class_name" in node:
            out.append(node)
        for v in node.values():
            _objects(v, out)
    elif isinstance(node, list):
        for v in node:
            _objects(v, out)


def _map_globals(expr: Expr, fn, rng: random.Random, all_: bool = False) -> Expr:
    """``expr`` with (some, or ``all_``) globals replaced by ``fn(module, name)``."""
    if expr[0] == "g":
        return fn(expr[1], expr[2]) if all_ or rng.random() < 0.6 else expr
    if expr[0] == "call":
        return ("call", _map_globals(expr[1], fn, rng, all_), [_map_globals(a, fn, rng, all_) for a in expr[2]])
    if expr[0] in ("t", "l"):
        return (expr[0], [_map_globals(a, fn, rng, all_) for a in expr[1]])
    return expr


def find_aliases() -> dict[str, list[tuple[str, str]]]:
    """Other ``(module, name)`` spellings of each target callable in numpy/scipy/sklearn/pandas/joblib.

    Only reads module dictionaries (identity comparison); calls nothing.
    """
    import importlib
    import sys

    for lib in ("numpy", "scipy", "sklearn", "pandas", "joblib", "sklearn.utils", "sklearn.linear_model",
                "sklearn.ensemble", "sklearn.pipeline", "sklearn.preprocessing", "pandas.io.common"):
        try:
            importlib.import_module(lib)
        except ImportError:
            pass
    targets: dict[int, str] = {}
    for m, n in TARGETS:
        obj = getattr(importlib.import_module(m), n, None)
        if obj is not None:
            targets[id(obj)] = f"{m}.{n}"
    out: dict[str, list[tuple[str, str]]] = {}
    for modname in sorted(sys.modules):
        if modname.split(".", 1)[0] not in ("numpy", "scipy", "sklearn", "pandas", "joblib"):
            continue
        module = sys.modules[modname]
        try:
            items = sorted(vars(module).items())
        except TypeError:
            continue
        for name, obj in items:
            key = targets.get(id(obj))
            if key and not name.startswith("__"):
                out.setdefault(key, []).append((modname, name))
    return out
