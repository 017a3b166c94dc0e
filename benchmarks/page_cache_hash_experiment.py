"""Why large-file hashing stops near 84% of the 2-core sha256 limit on this VM.

Hashes one large file that is already in the page cache with several access
patterns (threads or processes; mmap windows or preadv into a reused buffer),
and the same amount of DRAM-resident anonymous memory, and prints GiB/s next
to the ceiling given with --ceiling (from `openssl speed -evp sha256`, one
process per core). Used to explain the model-signing result in RESULTS.md.

With ``--direct`` it also measures ``O_DIRECT`` (the page cache bypassed):
raw read throughput of the storage at several queue depths, the hasher's
``O_DIRECT`` reader (``model_signing._direct_io``, inline and double-buffered)
against today's mmap windows through the real ``_run_units`` on 256 MiB
shards, each with the file in the page cache ("warm") and evicted from it
first with ``POSIX_FADV_DONTNEED`` ("cold"; only this file's pages).

    .venv/bin/python benchmarks/page_cache_hash_experiment.py /tmp/kfpg-ms-bench/big/model.bin --ceiling 3.33
    .venv/bin/python benchmarks/page_cache_hash_experiment.py /tmp/kfpg-ms-bench/big/model.bin --ceiling 3.33 \
        --direct --only-direct --repeat 3
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import mmap
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

WINDOW = 16 << 20


def hash_mmap(path: str, rng: tuple[int, int]) -> str:
    start, end = rng
    fd = os.open(path, os.O_RDONLY)
    h = hashlib.sha256()
    off = start
    while off < end:
        n = min(WINDOW, end - off)
        m = mmap.mmap(fd, n, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE, prot=mmap.PROT_READ, offset=off)
        h.update(m)
        m.close()
        off += n
    os.close(fd)
    return h.hexdigest()


def hash_pread(path: str, rng: tuple[int, int], bufsize: int = 4 << 20) -> str:
    start, end = rng
    fd = os.open(path, os.O_RDONLY)
    h = hashlib.sha256()
    mv = memoryview(bytearray(bufsize))
    off = start
    while off < end:
        n = os.preadv(fd, [mv[: min(bufsize, end - off)]], off)
        h.update(mv[:n])
        off += n
    os.close(fd)
    return h.hexdigest()


def read_direct(path: str, rng: tuple[int, int], bufsize: int) -> None:
    """Read (no hashing) with O_DIRECT into one page-aligned buffer: what the storage delivers."""
    start, end = rng
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, bufsize)
    mv = memoryview(buf)
    off = start
    while off < end:
        n = os.preadv(fd, [mv[: min(bufsize, end - off)]], off)
        if n <= 0:
            break
        off += n
    mv.release()
    os.close(fd)


def evict(path: str) -> None:
    """Drop this file's pages from the page cache (nothing else's)."""
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def engine(path: str, size: int, mode: str) -> None:
    """The signing hasher's own _run_units over 256 MiB shards, 2 workers, with the chosen reader."""
    from kfp_gates.components.model_signing import _direct_io, hashing

    shard = 256 << 20
    units = [hashing._Unit(i, path, s, min(shard, size - s)) for i, s in enumerate(range(0, size, shard))]
    saved = hashing._DIRECT_MIN, _direct_io.hash_direct
    try:
        hashing._DIRECT_MIN = 1 << 62 if mode == "mmap" else hashing._MMAP_MIN
        if mode == "direct inline":
            hashing._direct_io.hash_direct = functools.partial(saved[1], threaded=False)  # type: ignore[assignment]
        hashing._run_units(units, "sha256", 2, None)
    finally:
        hashing._DIRECT_MIN, hashing._direct_io.hash_direct = saved  # type: ignore[assignment]


def direct_cases(path: str, size: int, ceiling: float, repeat: int) -> None:
    def show(name: str, dt: float, cpu: float | None = None) -> None:
        gib = size / dt / 2**30
        extra = f"  cpu {cpu:5.2f} s" if cpu is not None else ""
        print(f"{name:44s} {dt:6.3f} s  {gib:5.2f} GiB/s  {gib / ceiling * 100:4.0f}% of ceiling{extra}  "
              f"load {os.getloadavg()[0]:.2f}", flush=True)

    for k, bs in ((1, 16 << 20), (2, 8 << 20), (4, 8 << 20), (8, 4 << 20)):
        def raw(k: int = k, bs: int = bs) -> None:
            with ThreadPoolExecutor(max_workers=k) as pool:
                list(pool.map(functools.partial(read_direct, path, bufsize=bs), ranges(size, k)))

        show(f"O_DIRECT read only, {k} thread(s) x {bs >> 20} MiB", best_of(repeat, raw))
    for cold in (False, True):
        for mode in ("mmap", "direct inline", "direct double-buffered"):
            best, best_cpu = float("inf"), 0.0
            for _ in range(repeat):
                if cold:
                    evict(path)
                else:
                    hash_pread(path, (0, size), 16 << 20)
                t, c = time.perf_counter(), time.process_time()
                engine(path, size, mode)
                dt = time.perf_counter() - t
                if dt < best:
                    best, best_cpu = dt, time.process_time() - c
            show(f"hasher {mode}, {'cold' if cold else 'warm'}", best, best_cpu)
    hash_pread(path, (0, size), 16 << 20)  # leave it cached


def ranges(size: int, k: int) -> list[tuple[int, int]]:
    step = size // k
    return [(i * step, size if i == k - 1 else (i + 1) * step) for i in range(k)]


def best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--ceiling", type=float, required=True, help="2-core sha256 GiB/s from openssl speed")
    ap.add_argument("--direct", action="store_true", help="also measure O_DIRECT reads (warm and cold)")
    ap.add_argument("--only-direct", action="store_true", help="only the O_DIRECT cases")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = os.path.getsize(args.file)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}  load average {os.getloadavg()}", flush=True)
    if args.direct or args.only_direct:
        direct_cases(args.file, size, args.ceiling, args.repeat)
        if args.only_direct:
            return
    hash_pread(args.file, (0, size), 16 << 20)  # warm the page cache

    cases: list[tuple[str, type[Executor], Callable[[tuple[int, int]], str], int]] = [
        ("threads + mmap 16 MiB windows", ThreadPoolExecutor, functools.partial(hash_mmap, args.file), 2),
        ("processes + mmap 16 MiB windows", ProcessPoolExecutor, functools.partial(hash_mmap, args.file), 2),
        ("processes + preadv 4 MiB", ProcessPoolExecutor, functools.partial(hash_pread, args.file), 2),
    ]
    for bs in (128 << 10, 1 << 20, 4 << 20, 16 << 20):
        cases.append((f"threads + preadv {bs >> 10} KiB", ThreadPoolExecutor,
                      functools.partial(hash_pread, args.file, bufsize=bs), 2))

    def run(ex: type[Executor], fn: Callable[[tuple[int, int]], str], k: int) -> None:
        with ex(max_workers=2) as pool:
            list(pool.map(fn, ranges(size, k)))

    for name, ex, fn, k in cases:
        dt = best_of(3, functools.partial(run, ex, fn, k))
        gib = size / dt / 2**30
        print(f"{name:34s} {dt:6.3f} s  {gib:5.2f} GiB/s  {gib / args.ceiling * 100:4.0f}% of ceiling")

    half = size // 2
    bufs = [bytearray(os.urandom(1 << 20)) * (half >> 20) for _ in range(2)]

    def anon(i: int) -> str:
        h = hashlib.sha256()
        mv = memoryview(bufs[i])
        for off in range(0, len(mv), WINDOW):
            h.update(mv[off : off + WINDOW])
        return h.hexdigest()

    def run_anon() -> None:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(anon, [0, 1]))

    dt = best_of(3, run_anon)
    gib = 2 * (half >> 20) / 1024 / dt
    name = "threads + anonymous DRAM memory"
    print(f"{name:34s} {dt:6.3f} s  {gib:5.2f} GiB/s  {gib / args.ceiling * 100:4.0f}% of ceiling")


if __name__ == "__main__":
    main()
