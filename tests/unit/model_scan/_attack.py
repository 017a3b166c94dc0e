"""Helpers for the issue-17 regression tests: assemble pickles by hand, and prove that the real loader runs them.

``executed(loader, path)`` runs a real loader (``pickle.load``, ``joblib.load``, ``zipfile`` + ``pickle``,
``tarfile`` + ``pickle``) on ``path`` in a fresh interpreter with an audit hook installed first. The
hook records ``os.system``, ``subprocess.Popen``, ``os.exec``/``os.posix_spawn`` and socket events and
then raises, so the payload is proven to be reached and is never actually run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_HOOK = r"""
import sys
_marker = sys.argv[1]
_WATCH = ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "socket.connect", "socket.bind")

def _hook(event, args):
    if event in _WATCH:
        with open(_marker, "a") as fh:
            fh.write(event + "\n")
        raise RuntimeError("stopped by the test's audit hook: " + event)

sys.addaudithook(_hook)
path = sys.argv[2]
try:
{body}
except Exception:
    pass
"""

LOADERS = {
    "pickle": "import pickle\nwith open(path, 'rb') as fh:\n    pickle.load(fh)",
    "pickle-all": "import pickle\nwith open(path, 'rb') as fh:\n    while True:\n        pickle.load(fh)",
    "joblib": "import joblib\njoblib.load(path)",
}


def executed(loader: str, path: Path, tmp_path: Path, *, extra_path: Path | None = None) -> set[str]:
    """The watched audit events the real ``loader`` raised while loading ``path`` (empty: nothing ran)."""
    body = LOADERS.get(loader, loader)
    code = _HOOK.replace("{body}", "\n".join("    " + line for line in body.splitlines()))
    marker = tmp_path / f"audit-{os.getpid()}-{len(list(tmp_path.iterdir()))}.log"
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", code, str(marker), str(path)], timeout=300, capture_output=True,
                   check=False, env=env)
    return set(marker.read_text().split()) if marker.exists() else set()


# ---------------------------------------------------------------------------- pickle assembly
PROTO4 = b"\x80\x04"


def glob(module: str, name: str) -> bytes:
    """GLOBAL (valid in every protocol)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def su(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode()
    assert len(raw) < 256
    return b"\x8c" + bytes([len(raw)]) + raw


def sbytes(data: bytes) -> bytes:
    """SHORT_BINBYTES / BINBYTES."""
    if len(data) < 256:
        return b"C" + bytes([len(data)]) + data
    return b"B" + len(data).to_bytes(4, "little") + data


def tup(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def call(func: bytes, *args: bytes) -> bytes:
    """REDUCE ``func(*args)``."""
    return func + tup(*args) + b"R"


def put(i: int) -> bytes:
    return b"q" + bytes([i])


def get(i: int) -> bytes:
    return b"h" + bytes([i])


# A harmless marker call that the audit hook stops: os.system("true").
SYSTEM_TRUE_P0 = b"cos\nsystem\n(S'true'\ntR."
SYSTEM_TRUE_P4 = PROTO4 + call(glob("os", "system"), su("true")) + b"."
