"""Local sandbox start-up overhead over a plain subprocess, for ``true``.

    .venv/bin/python benchmarks/isolation_bench.py [--runs N]

Interleaves the variants run by run (so load from other processes hits them
alike) and prints the median and 90th percentile wall time of each, and the
sandbox's overhead over ``subprocess.run(["true"])``. Target: overhead < 50 ms.

Variants:
  plain       subprocess.run(["true"])
  unshare     /usr/bin/unshare with the same namespaces, running ``true`` directly
              (what the kernel and util-linux cost, without our set-up)
  sandbox     LocalNamespaceBackend.run(): namespaces + read-only root, masks,
              /dev, /proc, pivot_root, rlimits, capability drop (set-up in the
              forked child: the default for a single-threaded launcher)
  script      the same through the thread-safe path (unshare binary + a
              ``python -I -S`` set-up script): what a multi-threaded launcher pays
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from kfp_gates.components.isolation.gate import build_env
from kfp_gates.components.isolation.interface import StepSpec
from kfp_gates.components.isolation.local import LocalNamespaceBackend


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args(argv)

    backend = LocalNamespaceBackend()
    script_backend = LocalNamespaceBackend(fast=False)
    step = StepSpec(argv=("true",), env=build_env([]), timeout=30)
    ns = ["--net", "--mount", "--pid", "--ipc", "--uts", "--cgroup", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        ns = ["--user", "--map-root-user", *ns]
    unshare_cmd = ["/usr/bin/unshare", *ns, "--", "true"]

    def plain() -> None:
        subprocess.run(["true"], check=True)

    def unshare() -> None:
        subprocess.run(unshare_cmd, check=True)

    def sandbox() -> None:
        outcome = backend.run(step)
        if not outcome.succeeded:
            raise SystemExit(f"sandbox run failed: {outcome}")

    def script() -> None:
        outcome = script_backend.run(step)
        if not outcome.succeeded:
            raise SystemExit(f"sandbox run failed: {outcome}")

    variants = {"plain": plain, "unshare": unshare, "sandbox": sandbox, "script": script}
    for fn in variants.values():  # warm-up: page cache, imports
        fn()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.runs):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)

    base = statistics.median(times["plain"])
    print(f"runs per variant: {args.runs}   euid: {os.geteuid()}   python: {sys.version.split()[0]}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'variant':<10} {'median ms':>10} {'p90 ms':>8} {'overhead ms (median)':>22}")
    for name, vals in times.items():
        med = statistics.median(vals)
        print(f"{name:<10} {med:>10.1f} {_quantile(vals, 0.9):>8.1f} {med - base:>22.1f}")
    overhead = statistics.median(times["sandbox"]) - base
    verdict = "PASS" if overhead < 50 else "FAIL"
    print(f"\nsandbox start-up overhead: {overhead:.1f} ms (target < 50 ms): {verdict}")
    return 0 if overhead < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
