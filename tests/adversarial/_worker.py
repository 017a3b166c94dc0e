"""The loader side of the differential fuzzer: runs INSIDE the local sandbox, loads model files for real.

Started once per sandbox by :mod:`tests.adversarial.sandbox`. It reads one JSON request per
line from a FIFO (``{"id", "path", "loader", "timeout"}``), loads the file with the real
loader named in the request (``pickle.load``, ``joblib.load``, ``numpy.load(allow_pickle=True)``,
``zipfile`` + ``pickle`` as torch does, ``json`` + marshal as Keras does) and writes one JSON
line per request on stdout: the dangerous events the load raised, the globals the unpickler
resolved, and the exception (if any).

An audit hook (``sys.addaudithook``) records every dangerous event and then raises, which aborts
the event: ``os.system`` never forks, ``open(..., "w")`` never creates the file, a non-allowlisted
module is never imported. The sandbox around it (no network, read-only filesystem, no
capabilities) is the second line. A load that hangs is ended by ``SIGALRM`` (default action:
the process dies) and the host restarts the worker.

Imports only the stdlib and the libraries whose loaders it drives, before the hook is armed.
"""

from __future__ import annotations

import base64
import importlib.machinery
import io
import json
import marshal
import os
import pickle
import signal
import sys
import tarfile
import types
import zipfile

import joblib
import numpy

# What a benign model pulls in: imported now, so that loading one raises no "import" event.
import pandas  # noqa: F401
import sklearn
import sklearn.linear_model
import sklearn.tree  # noqa: F401

# Imports a load may trigger without it being suspicious: the libraries whose objects models hold.
ALLOWED_IMPORT_ROOTS = frozenset(
    {"numpy", "joblib", "sklearn", "pandas", "scipy", "keras", "torch", "collections", "copyreg", "_codecs",
     "codecs", "encodings", "datetime", "decimal", "fractions", "uuid", "_strptime", "zoneinfo", "pytz",
     "dateutil", "threadpoolctl", "_compat_pickle", "pyarrow"}
)
# Events that are dangerous whenever a model load raises them.
DANGEROUS_EVENTS = frozenset(
    {"os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.startfile",
     "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "os.remove", "os.rename", "os.rmdir", "os.mkdir",
     "os.chmod", "os.chown", "os.truncate", "os.symlink", "os.link", "os.putenv", "os.unsetenv", "os.chdir",
     "os.listdir", "os.scandir", "os.walk", "os.chflags", "os.utime", "os.setxattr", "os.removexattr",
     "shutil.rmtree", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.move", "shutil.chown",
     "shutil.make_archive", "shutil.unpack_archive", "glob.glob", "ctypes.dlopen", "ctypes.dlsym",
     "ctypes.cdata", "ctypes.call_function", "ctypes.create_string_buffer", "webbrowser.open",
     "urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect", "poplib.connect",
     "imaplib.open", "nntplib.connect", "telnetlib.Telnet.open", "sys.setprofile", "sys.settrace",
     "sys.addaudithook", "builtins.input", "code.__new__", "function.__new__",
     "mmap.__new__", "resource.setrlimit", "signal.pthread_kill", "sqlite3.connect", "syslog.openlog",
     "winreg.OpenKey", "cpython.run_command", "cpython.run_file", "cpython.run_module"}
)
# Outside an import, these mean the file made the interpreter run code it carried.
CODE_EVENTS = frozenset({"exec", "compile", "marshal.loads", "marshal.load"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_IMPORT_FILES = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")


class Blocked(PermissionError):
    """Raised by the audit hook: the event was recorded and did not happen."""


class _State:
    armed = False
    path = ""
    events: list[list[str]] = []
    found: list[str] = []
    read_roots: tuple[str, ...] = ()


def _in_import() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in _IMPORT_FILES:
            return True
        frame = frame.f_back
    return False


def _exists(module: str) -> bool:
    """Whether an import of ``module`` would find something (a missing module cannot run code)."""
    _State.armed = False
    try:
        return importlib.machinery.PathFinder.find_spec(module) is not None or module in sys.builtin_module_names
    finally:
        _State.armed = True


def _reporting() -> bool:
    """A warning or traceback being formatted reads source lines (linecache): not the payload's doing."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(("/linecache.py", "/warnings.py", "/traceback.py")):
            return True
        frame = frame.f_back
    return False


def _from_ast() -> bool:
    frame = sys._getframe(2)
    return frame.f_code.co_name == "parse" and frame.f_code.co_filename.endswith("/ast.py")


def _stack() -> str:
    """Where the event came from (innermost first), for triage."""
    frame, out = sys._getframe(3), []
    while frame is not None and len(out) < 6:
        out.append(f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(out)


def _record(event: str, args: tuple) -> None:
    _State.events.append([event, repr(args)[:160], _stack()])
    raise Blocked(f"fuzz audit hook blocked {event}")


def _hook(event: str, args: tuple) -> None:
    if not _State.armed:
        return
    if event == "pickle.find_class":
        _State.found.append(f"{args[0]}.{args[1]}")
        if args[0] in ("__main__", "_worker") or str(args[0]).endswith("._worker"):
            _record("reach-into-the-worker", args)  # e.g. to disarm the hook: never a model's business
    elif event == "object.__setattr__" and args[0] is _State:
        _record("reach-into-the-worker", args[1:2])
    elif event in DANGEROUS_EVENTS or event.startswith(("socket.", "os.exec", "os.spawn", "os.posix_spawn")):
        _record(event, args)
    elif event == "import":
        root = str(args[0]).split(".", 1)[0]
        if root not in ALLOWED_IMPORT_ROOTS and _exists(root):
            _record(event, args[:1])
    elif event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writes:
            _record("open-for-writing", (path, mode, flags))
        if isinstance(path, (str, bytes)) and not isinstance(path, int):
            p = os.fsdecode(path)
            if p != _State.path and not p.startswith(_State.read_roots) and not _in_import() and not _reporting():
                _record("open-outside-input", (p,))
    elif event == "compile" and _from_ast():
        pass  # ast.parse (numpy's header reader: ast.literal_eval) builds a tree, runs nothing
    elif event in CODE_EVENTS and not _in_import():
        _record(event, args[:1] if event != "exec" else ())


# -- the real loaders -------------------------------------------------------------------------------


class _Stub:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> _Stub:
        return _Stub()

    def __setstate__(self, state: object) -> None:
        pass


class _TorchUnpickler(pickle.Unpickler):
    """``torch.load``'s unpickler without torch: torch's own names are stubs, everything else is real."""

    def find_class(self, module: str, name: str) -> object:
        if module == "torch" or module.startswith("torch."):
            _State.found.append(f"{module}.{name}")
            return _Stub
        return super().find_class(module, name)

    def persistent_load(self, pid: object) -> object:
        return _Stub()


def _torch_zip(path: str) -> None:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        # PyTorchFileReader: the archive's records live under the first entry's top-level directory.
        prefix = names[0].split("/", 1)[0] + "/" if names and "/" in names[0] else ""
        record = prefix + "data.pkl"
        if record not in names:
            record = next(n for n in names if n.endswith("data.pkl"))
        _TorchUnpickler(io.BytesIO(zf.read(record))).load()


def _torch_legacy(path: str) -> None:
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != 0x1950A86A20F9469CFC6C:
            raise RuntimeError("Invalid magic number; corrupt file?")
        pickle.load(f)  # protocol version
        pickle.load(f)  # sys_info
        _TorchUnpickler(f).load()
        pickle.load(f)  # storage keys


def _torch_tar(path: str) -> None:
    # torch's _legacy_load for tar files unpickles these three members, in this order.
    with tarfile.open(path, mode="r:") as tar:
        for name in ("storages", "tensors", "pickle"):
            member = tar.extractfile(name)
            if member is not None:
                _TorchUnpickler(io.BytesIO(member.read())).load()


def _numpy(path: str) -> None:
    loaded = numpy.load(path, allow_pickle=True)
    if isinstance(loaded, numpy.lib.npyio.NpzFile):
        with loaded:
            for key in loaded.files:
                loaded[key]


def _keras_objects(node: object, out: list[dict]) -> None:
    if isinstance(node, dict):
        if "class_name" in node:
            out.append(node)
        for value in node.values():
            _keras_objects(value, out)
    elif isinstance(node, list):
        for value in node:
            _keras_objects(value, out)


def _keras(path: str) -> None:
    """Keras 3 ``load_model(safe_mode=False)`` as far as it concerns code: config.json decoded by json.

    A ``module`` is imported (``serialization_lib._retrieve_class_or_fn``); a Lambda's function is
    ``marshal.loads`` of its base64 code (``python_utils.func_load``) turned into a function.
    """
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    objects: list[dict] = []
    _keras_objects(config, objects)
    for obj in objects:
        module = obj.get("module")
        if isinstance(module, str) and module and not module.startswith("keras"):
            __import__(module)
        if obj.get("class_name") == "Lambda":
            fn = (obj.get("config") or {}).get("function")
            code = fn.get("config", {}).get("code") if isinstance(fn, dict) else fn
            if isinstance(code, str):
                raw = base64.b64decode(code.encode("ascii"))
                types.FunctionType(marshal.loads(raw), {})


def _pickle(path: str) -> None:
    with open(path, "rb") as f:
        pickle.load(f)


LOADERS = {
    "pickle": _pickle,
    "joblib": lambda path: joblib.load(path),
    "numpy": _numpy,
    "torch": _torch_zip,
    "torch-legacy": _torch_legacy,
    "torch-tar": _torch_tar,
    "keras": _keras,
}


def _load(request: dict) -> dict:
    _State.events, _State.found, _State.path = [], [], request["path"]
    error = None
    signal.alarm(int(request.get("timeout", 5)))
    _State.armed = True
    try:
        LOADERS[request["loader"]](request["path"])
    except BaseException as exc:  # noqa: BLE001 - every outcome of a hostile load is data
        error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        _State.armed = False
        signal.alarm(0)
    return {"id": request["id"], "events": _State.events, "globals": _State.found[:64], "error": error}


def main() -> None:
    requests, out = sys.argv[1], os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a payload printing to stdout cannot forge a response line
    _State.read_roots = tuple(
        {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(numpy.__file__).rsplit("/", 1)[0],
         "/usr/share/zoneinfo", "/usr/lib", "/etc/localtime", "/dev/urandom", "/proc/self"}
    )
    # The default hook for unraisable exceptions (a __del__ raising mid-load) prints a traceback from C,
    # opening source files and compiling caret anchors: events that are not the payload's doing.
    sys.unraisablehook = lambda unraisable: None
    sys.addaudithook(_hook)
    out.write(json.dumps({"ready": os.getpid()}) + "\n")
    with open(requests, "rb", buffering=0) as feed:
        for line in feed:
            out.write(json.dumps(_load(json.loads(line))) + "\n")


if __name__ == "__main__":
    main()
