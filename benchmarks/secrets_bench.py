"""Benchmark: Vault secret delivery on loopback against a real OpenBao dev server.

1. fetch-and-unwrap round trip (one logged-in client): wrapped KV v2 read, then
   lookup + unwrap by the consumer, sequentially;
2. a full step: AppRole login + wrapped read + token revoke, then unwrap;
3. 50 concurrent wrapped fetches (one client per worker), several rounds.

Latency percentiles in milliseconds. Run:
    .venv/bin/python benchmarks/secrets_bench.py [--iterations 200] [--concurrency 50] [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from kfp_gates.components.secrets import SecretRef, VaultConfig, connect, fetch_wrapped, login, unwrap
from kfp_gates.components.secrets.auth import AppRoleAuth
from kfp_gates.components.secrets.devserver import OpenBaoServer
from kfp_gates.components.secrets.leases import revoke_self

TTL = timedelta(minutes=5)
REF = SecretRef("bench/db")


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def row(name: str, ms: list[float], extra: str = "") -> str:
    return (
        f"| {name} | {len(ms)} | {pct(ms, 50):.2f} | {pct(ms, 90):.2f} | {pct(ms, 99):.2f} | {max(ms):.2f} "
        f"| {statistics.fmean(ms):.2f} | {extra} |"
    )


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()

    with OpenBaoServer() as server, tempfile.TemporaryDirectory(prefix="kfpg-secrets-bench-") as tmp:
        admin = server.client()
        admin.secrets.kv.v2.create_or_update_secret(path="bench/db", secret={"user": "svc", "password": "p" * 32})
        admin.sys.create_or_update_policy("bench", 'path "secret/data/bench/db" { capabilities = ["read"] }')
        admin.sys.enable_auth_method("approle")
        admin.auth.approle.create_or_update_approle("bench", token_policies=["bench"], token_ttl="10m")
        role_id = admin.auth.approle.read_role_id("bench")["data"]["role_id"]
        sid = Path(tmp) / "sid"
        sid.write_text(admin.auth.approle.generate_secret_id("bench")["data"]["secret_id"])
        os.chmod(sid, 0o600)
        cfg = VaultConfig(server.addr, retries=0)
        auth = AppRoleAuth(role_id=role_id, secret_id_file=str(sid))
        client, _ = login(cfg, auth)

        for _ in range(10):  # warm-up: connection pools, server caches
            unwrap(cfg, fetch_wrapped(client, REF, TTL).token)

        fetch_ms, unwrap_ms, trip_ms = [], [], []
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            wrapped = fetch_wrapped(client, REF, TTL)
            t1 = time.perf_counter()
            unwrap(cfg, wrapped.token)
            t2 = time.perf_counter()
            fetch_ms.append((t1 - t0) * 1000)
            unwrap_ms.append((t2 - t1) * 1000)
            trip_ms.append((t2 - t0) * 1000)

        def full_step() -> None:
            c, _ = login(cfg, auth)
            w = fetch_wrapped(c, REF, TTL)
            revoke_self(c)
            unwrap(cfg, w.token)

        step_ms = [timed(full_step) for _ in range(max(20, args.iterations // 4))]

        clients = [connect(cfg, client.token) for _ in range(args.concurrency)]
        conc_ms: list[float] = []
        walls: list[float] = []
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                conc_ms.extend(pool.map(lambda c: timed(lambda: fetch_wrapped(c, REF, TTL)), clients))
                walls.append((time.perf_counter() - t0) * 1000)
        throughput = args.concurrency * args.rounds / (sum(walls) / 1000)

    print(
        f"OpenBao dev server on loopback; {args.iterations} sequential round trips, "
        f"{args.rounds} rounds of {args.concurrency} concurrent fetches\n"
    )
    print("| measurement | n | p50 ms | p90 ms | p99 ms | max ms | mean ms | note |")
    print("|---|---|---|---|---|---|---|---|")
    print(row("wrapped fetch (KV v2)", fetch_ms))
    print(row("lookup + unwrap (consumer)", unwrap_ms))
    print(row("fetch-and-unwrap round trip", trip_ms))
    print(row("full step: AppRole login + fetch + revoke + unwrap", step_ms))
    print(
        row(
            f"{args.concurrency} concurrent fetches, per request",
            conc_ms,
            f"round wall p50 {pct(walls, 50):.1f} ms, {throughput:.0f} fetches/s",
        )
    )


if __name__ == "__main__":
    main()
