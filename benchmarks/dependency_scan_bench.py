"""Benchmark of the dependency gate's advisory loading and matching.

    .venv/bin/python benchmarks/dependency_scan_bench.py [--advisories DIR_OR_ZIP] [--repeat 5]

Measures, on the full PyPA snapshot:
  * cold: parse every advisory file and build the index (no cache, version-parse cache cleared);
  * warm: the same source through the on-disk compact cache, plus the index build;
  * embedded: the compact snapshot shipped in the package, plus the index build;
  * scan: 1,000 pinned packages (every advisory package at one of its listed versions, the rest unknown
    names) through the index, and through the naive matcher (every package against every advisory);
  * evaluate: the whole gate (findings, waivers, decision) on those 1,000 dependencies.
Without --advisories, the embedded snapshot is expanded into one YAML file per record under /tmp
(generated data never goes into the repository). Prints a Markdown table and the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from kfp_gates.components.common.result import Location
from kfp_gates.components.dependency_scan.advisories import EmbeddedSource, open_source
from kfp_gates.components.dependency_scan.advisories.compact import record_to_json
from kfp_gates.components.dependency_scan.engine import ScanOptions, evaluate
from kfp_gates.components.dependency_scan.matcher import AdvisoryIndex, naive_match
from kfp_gates.components.dependency_scan.model import Dependency, Inventory
from kfp_gates.components.dependency_scan.versions import parse

TARGETS = {"cold": 2.0, "warm": 0.2, "scan": 0.1}


def expand_embedded(dest: Path) -> Path:
    """Write the embedded snapshot as one YAML file per record (the PyPA layout) under ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    for adv in EmbeddedSource().load().advisories:
        pkg = adv.affected[0].name if adv.affected else "_withdrawn"
        (dest / pkg).mkdir(parents=True, exist_ok=True)
        (dest / pkg / f"{adv.id}.yaml").write_text(yaml.safe_dump(record_to_json(adv), sort_keys=False))
    return dest


def timed(fn: Callable[[], object], repeat: int, before: Callable[[], None] | None = None) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of each run. CPU time is shown because other jobs share the cores."""
    out = []
    for _ in range(repeat):
        if before:
            before()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - t0, time.process_time() - c0))
    return out


def packages(index: AdvisoryIndex, n: int, seed: int = 7) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    out: list[tuple[str, str]] = []
    for name in index.packages():
        versions = sorted({v for a in index.advisories_for(name) for aff in a.affected if aff.name == name
                           for v in aff.versions})
        out.append((name, rnd.choice(versions) if versions else "1.0.0"))
    out = out[:n]
    out += [(f"unlisted-package-{i:04d}", f"{rnd.randint(0, 9)}.{rnd.randint(0, 20)}.0") for i in range(n - len(out))]
    return out


def med(xs: list[tuple[float, float]], i: int) -> float:
    return statistics.median(x[i] for x in xs)


def fmt(xs: list[tuple[float, float]]) -> str:
    return f"{med(xs, 0) * 1000:,.0f} ms wall / {med(xs, 1) * 1000:,.0f} ms cpu"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--advisories", help="OSV directory or zip (default: the embedded snapshot expanded to /tmp)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--packages", type=int, default=1000)
    args = ap.parse_args(argv)

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="kfp-gates-bench-"))
    try:
        src_path = Path(args.advisories) if args.advisories else expand_embedded(work / "pypa-yaml")
        if (src_path / "vulns").is_dir():
            src_path = src_path / "vulns"
        cache = work / "cache"

        def cold() -> None:
            AdvisoryIndex(open_source(src_path, cache_dir=None).load().advisories)

        def cold_full() -> None:
            AdvisoryIndex(open_source(src_path, cache_dir=None).load().advisories).compile_all()

        def warm() -> None:
            s = open_source(src_path, cache_dir=cache).load()
            assert s.from_cache
            AdvisoryIndex(s.advisories)

        def warm_full() -> None:
            AdvisoryIndex(open_source(src_path, cache_dir=cache).load().advisories).compile_all()

        def embedded() -> None:
            AdvisoryIndex(EmbeddedSource().load().advisories)

        cold_t = timed(cold, args.repeat, parse.cache_clear)
        cold_full_t = timed(cold_full, args.repeat, parse.cache_clear)
        open_source(src_path, cache_dir=cache).load()  # prime the cache
        warm_t = timed(warm, args.repeat, parse.cache_clear)
        warm_full_t = timed(warm_full, args.repeat, parse.cache_clear)
        emb_t = timed(embedded, args.repeat, parse.cache_clear)

        loaded = open_source(src_path).load()
        index = AdvisoryIndex(loaded.advisories).compile_all()
        pkgs = packages(index, args.packages)
        scan_t = timed(lambda: [index.match(n, v) for n, v in pkgs], args.repeat, parse.cache_clear)
        fresh: list[AdvisoryIndex] = []

        def first_touch() -> None:
            idx = fresh.pop()
            [idx.match(n, v) for n, v in pkgs]

        def new_index() -> None:
            parse.cache_clear()
            fresh.append(AdvisoryIndex(loaded.advisories))

        first_t = timed(first_touch, args.repeat, new_index)
        hits = sum(1 for n, v in pkgs if index.match(n, v))
        naive_t = timed(lambda: [naive_match(loaded.advisories, n, v) for n, v in pkgs], 1, parse.cache_clear)
        naive_hits = sum(1 for n, v in pkgs if naive_match(loaded.advisories, n, v))

        deps = tuple(Dependency(name=n, version=v, location=Location(path="bench.txt", line=i + 1),
                                origin="requirements", kind="pinned", hashes=("sha256:x",))
                     for i, (n, v) in enumerate(pkgs))
        inv = Inventory(dependencies=deps)
        from kfp_gates.components.common.gate import GateSettings

        eval_t = timed(lambda: evaluate(inv, loaded, settings=GateSettings(), options=ScanOptions(), index=index,
                                        now=datetime.now(UTC)), max(1, args.repeat // 2), parse.cache_clear)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def ok(key: str, xs: list[tuple[float, float]]) -> str:
        wall, cpu = med(xs, 0) < TARGETS[key], med(xs, 1) < TARGETS[key]
        return "yes" if wall else ("cpu only" if cpu else "NO")

    print(f"source: {loaded.info.kind} {src_path} ({len(loaded.advisories)} records, "
          f"{loaded.withdrawn} withdrawn); {len(pkgs)} packages, {hits} with advisories (naive: {naive_hits})")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; load average before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load_after)}\n")
    n = len(loaded.advisories)
    print(f"| measure | kfp-gates (median of {args.repeat} runs) | naive (1 run) | target | met |")
    print("|---|---|---|---|---|")
    print(f"| cold: parse {n} files + index (spans compiled on first use) | {fmt(cold_t)} | - | < 2 s | "
          f"{ok('cold', cold_t)} |")
    print(f"| cold: parse {n} files + index, every package compiled | {fmt(cold_full_t)} | - | < 2 s | "
          f"{ok('cold', cold_full_t)} |")
    print(f"| warm: cached compact copy + index | {fmt(warm_t)} | - | < 200 ms | {ok('warm', warm_t)} |")
    print(f"| warm: cached compact copy + index, every package compiled | {fmt(warm_full_t)} | - | < 200 ms | "
          f"{ok('warm', warm_full_t)} |")
    print(f"| embedded snapshot + index | {fmt(emb_t)} | - | (< 200 ms) | {ok('warm', emb_t)} |")
    print(f"| scan {len(pkgs)} pinned packages, index compiled | {fmt(scan_t)} | {fmt(naive_t)} | < 100 ms | "
          f"{ok('scan', scan_t)} |")
    print(f"| scan {len(pkgs)} pinned packages, first touch (compiles {hits}+ packages) | {fmt(first_t)} | "
          f"{fmt(naive_t)} | < 100 ms | {ok('scan', first_t)} |")
    print(f"| whole gate (evaluate) on {len(pkgs)} dependencies | {fmt(eval_t)} | - | - | - |")
    print(f"| cold + first-touch scan, end to end (wall) | {(med(cold_t, 0) + med(first_t, 0)) * 1000:,.0f} ms "
          f"| {(med(cold_t, 0) + med(naive_t, 0)) * 1000:,.0f} ms | - | - |")
    assert hits == naive_hits, "index and naive matcher disagree"
    return 0


if __name__ == "__main__":
    sys.exit(main())
