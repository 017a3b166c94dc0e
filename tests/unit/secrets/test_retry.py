"""Retries with backoff and jitter on connection errors and 5xx, never on 4xx; error mapping.

A small real HTTP server on loopback answers with scripted status codes, so
the adapter's whole request path (requests, hvac's error mapping) runs.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kfp_gates.components.common.errors import ConfigError, InfrastructureError
from kfp_gates.components.secrets.client import RetryingAdapter, connect, single_shot, vault_errors
from kfp_gates.components.secrets.config import VaultConfig
from kfp_gates.components.secrets.devserver import free_port


class Scripted(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[tuple[int, dict]] = []
        self.hits: list[str] = []

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        self.server.hits.append(f"{self.command} {self.path}")
        status, body = self.server.script.pop(0) if self.server.script else (200, {"data": {"ok": True}})
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    s = Scripted()
    threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield s
    s.shutdown()
    s.server_close()


def _client(addr: str, retries: int = 3):
    sleeps: list[float] = []
    client = connect(VaultConfig(addr, retries=retries, backoff=0.01, max_backoff=0.05), sleep=sleeps.append)
    return client, sleeps


def test_5xx_is_retried_then_succeeds(server):
    server.script = [(503, {"errors": ["standby"]}), (502, {"errors": ["proxy"]})]
    client, sleeps = _client(server.addr)
    assert client.adapter.get("/v1/secret/data/x") == {"data": {"ok": True}}
    assert len(server.hits) == 3 and client.adapter.stats.retries == 2 and len(sleeps) == 2
    assert all(0 <= s <= 0.05 for s in sleeps)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_4xx_is_never_retried(server, status):
    server.script = [(status, {"errors": ["permission denied"]})] * 5
    client, sleeps = _client(server.addr)
    with pytest.raises(ConfigError), vault_errors("read", client=client):
        client.adapter.get("/v1/secret/data/x")
    assert len(server.hits) == 1 and sleeps == []


def test_persistent_5xx_gives_up_as_infrastructure_error(server):
    server.script = [(500, {"errors": ["internal error"]})] * 10
    client, _ = _client(server.addr, retries=2)
    with pytest.raises(InfrastructureError, match="internal error") as exc, vault_errors("read", client=client):
        client.adapter.get("/v1/secret/data/x")
    assert exc.value.exit_code == 3 and len(server.hits) == 3 + 1  # 3 tries + one health probe for the message


def test_sealed_answer_says_sealed(server):
    server.script = [(503, {"errors": ["Vault is sealed"]})] * 10
    client, _ = _client(server.addr, retries=0)
    with pytest.raises(InfrastructureError, match="is sealed"), vault_errors("read", client=client):
        client.adapter.get("/v1/secret/data/x")


def test_single_shot_requests_are_not_repeated_after_reaching_the_server(server):
    server.script = [(500, {"errors": ["boom"]})] * 5
    client, _ = _client(server.addr)
    with pytest.raises(InfrastructureError), vault_errors("unwrap", client=client), single_shot():
        client.adapter.post("/v1/sys/wrapping/unwrap")
    assert server.hits.count("POST /v1/sys/wrapping/unwrap") == 1


def test_connection_refused_is_retried_even_when_single_shot():
    client, sleeps = _client(f"http://127.0.0.1:{free_port()}", retries=2)
    with pytest.raises(InfrastructureError, match="unreachable"), vault_errors("unwrap", client=client), single_shot():
        client.adapter.post("/v1/sys/wrapping/unwrap")
    assert client.adapter.stats.retries == 2 and len(sleeps) == 2


def test_full_jitter_backoff_is_bounded_and_grows():
    adapter = RetryingAdapter(base_uri="http://127.0.0.1:1", backoff=0.1, max_backoff=1.0, rng=random.Random(7))
    samples = {n: [adapter.delay(n) for _ in range(200)] for n in range(6)}
    assert all(0 <= d <= min(1.0, 0.1 * 2**n) for n, ds in samples.items() for d in ds)
    assert max(samples[3]) > max(samples[0])  # grows with the attempt
    assert len({round(d, 6) for d in samples[2]}) > 100  # jittered, not a fixed schedule


def test_token_is_never_taken_from_the_environment(monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "s.EnvTokenMustNotBeUsedImplicitly")
    client = connect(VaultConfig("http://127.0.0.1:1"))
    assert client.token is None
