"""Benchmark: sign and verify throughput of kfp-gates model_signing vs upstream OpenSSF model_signing.

    .venv/bin/python benchmarks/model_signing_bench.py [--data /tmp/kfpg-ms-bench] [--repeat 2] [--only big,many,tiny]

Data (generated once into --data, never into the repo): one 4 GiB file
("big"), 400 files of 10 MiB ("many"), 20,000 tiny files ("tiny"). Each
measurement runs in its own subprocess so its peak RSS is its own; data is
read once beforehand so every run hashes from the page cache. The sha256
ceiling comes from ``openssl speed -evp sha256`` in the same run (one process
per core, and one per core at once). For the big file it also measures
"kfp-gates O_DIRECT" (large ranges read with O_DIRECT, ``_direct_io``) and
"kfp-gates hash" (the hashing engine without the whole-file model digest that
sign and verify now compute in the same pass), each with mmap and O_DIRECT.
Prints one table and the targets:
large files >= 90% of the all-core sha256 limit, tiny files >= 4x faster than
upstream, peak memory < 300 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

GIB = 1 << 30
MIB = 1 << 20
DATASETS = {
    "big": "one 4 GiB file",
    "many": "400 x 10 MiB",
    "tiny": "20,000 tiny files",
}


# ----- data -----------------------------------------------------------------------------------


def make_data(root: Path) -> None:
    block = os.urandom(64 * MIB)
    big = root / "big"
    if not (big / "model.bin").exists() or (big / "model.bin").stat().st_size != 4 * GIB:
        big.mkdir(parents=True, exist_ok=True)
        with open(big / "model.bin.tmp", "wb") as fh:
            for i in range(64):
                fh.write(i.to_bytes(8, "little") + block[8:])
        (big / "model.bin.tmp").rename(big / "model.bin")
    many = root / "many"
    if not (many / "done").exists():
        many.mkdir(parents=True, exist_ok=True)
        for i in range(400):
            (many / f"shard-{i:04d}.bin").write_bytes(i.to_bytes(8, "little") + block[8 : 10 * MIB])
        (many / "done").write_text("")
    tiny = root / "tiny"
    if not (tiny / "done").exists():
        for i in range(20_000):
            d = tiny / f"d{i % 100:02d}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"f{i:05d}.json").write_bytes(b'{"i": %d, "pad": "%s"}' % (i, b"x" * (i % 200)))
        (tiny / "done").write_text("")
    # the marker files are part of the model for every tool alike


def warm(path: Path) -> int:
    """Read everything once so every run hashes from the page cache; return the byte count."""
    total = 0
    buf = bytearray(8 * MIB)
    for dirpath, _, files in os.walk(path):
        for f in files:
            with open(os.path.join(dirpath, f), "rb", buffering=0) as fh:
                while n := fh.readinto(buf):
                    total += n
    return total


def keys(root: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    priv, pub = root / "key.pem", root / "key.pub"
    if not priv.exists():
        k = ec.generate_private_key(ec.SECP256R1())
        priv.write_bytes(
            k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        pub.write_bytes(
            k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return priv, pub


# ----- one measurement, in a child process -------------------------------------------------------


def worker(tool: str, op: str, model: str, sig: str, priv: str, pub: str) -> None:
    t0 = time.perf_counter()
    c0 = time.process_time()
    if tool.startswith("kfp-gates"):
        from kfp_gates.components.model_signing import hashing, sign_model, verify_model
        from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, PublicKeyVerifier

        if tool.endswith("O_DIRECT"):
            hashing._DIRECT_MIN = hashing._MMAP_MIN  # large ranges read with O_DIRECT instead of mapped
        t0, c0 = time.perf_counter(), time.process_time()
        if tool.startswith("kfp-gates hash"):
            # The hashing engine alone, without the extra whole-file sha256 of the model digest (what the
            # 84% figure measured before sign/verify computed the model digest in the same pass).
            cfg = hashing.HashingConfig()
            tree = hashing.walk(Path(model), cfg.ignore_paths)
            hashing.hash_tree(Path(model), tree, method=hashing.choose_method(cfg, (e.size for e in tree.files)),
                              hash_type=cfg.hash_type, shard_size=cfg.shard_size, allow_symlinks=False,
                              ignore_paths=cfg.ignore_paths, workers=cfg.worker_count(), model_digest=False)
        elif op == "sign":
            sign_model(model, ECKeySigner.from_file(priv), signature=sig)
        else:
            verify_model(model, sig, PublicKeyVerifier.from_file(pub))
    elif tool.startswith("upstream"):
        import model_signing

        t0, c0 = time.perf_counter(), time.process_time()
        if op == "sign":
            hcfg = model_signing.hashing.Config()
            if tool == "upstream-shards":
                hcfg.use_shard_serialization()
            model_signing.signing.Config().use_elliptic_key_signer(private_key=priv).set_hashing_config(hcfg).sign(
                model, sig
            )
        else:
            vcfg = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub)
            if tool == "upstream-shards":
                # upstream 1.1.1 reads its own shard_size back as a float and cannot guess this config
                vcfg.set_hashing_config(model_signing.hashing.Config().use_shard_serialization())
            vcfg.verify(model, sig)
    elif tool == "read+hash loop":
        import hashlib

        for dirpath, _, files in os.walk(model):
            for f in files:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    hashlib.file_digest(fh, "sha256")
    else:
        raise SystemExit(f"unknown tool {tool}")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0  # every thread: independent of how busy the other helpers keep the CPU
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": peak_rss_kib() / 1024}))


def peak_rss_kib() -> int:
    """This process's peak resident memory (VmHWM: per address space, reset by exec, unlike ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(tool: str, op: str, model: Path, sig: Path, priv: Path, pub: Path, repeat: int) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat):
        # This VM reclaims cold page cache (DAMON): read the data again so every run hashes from memory.
        warm(model)
        out = subprocess.run(
            [sys.executable, __file__, "--worker", tool, op, str(model), str(sig), str(priv), str(pub)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or r["seconds"] < best["seconds"]:
            best = r
    assert best is not None
    return best


# ----- the sha256 ceiling -----------------------------------------------------------------------


def openssl_sha256(processes: int = 1) -> float:
    """GiB/s of ``openssl speed -evp sha256`` at 16 KiB blocks, summed over ``processes`` run at once.

    Parallel single runs rather than ``-multi``: OpenSSL 3.0's ``-multi`` reported
    less than one process on this machine.
    """
    cmd = ["openssl", "speed", "-seconds", "3", "-bytes", "16384", "-evp", "sha256"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for _ in range(processes)
    ]
    total = 0.0
    for p in procs:
        out = p.communicate()[0]
        m = re.findall(r"^(?:evp_)?sha256\s+([\d.]+)k", out, re.M | re.I)
        if not m:
            raise SystemExit(f"cannot parse openssl speed output:\n{out}")
        total += float(m[-1]) * 1000 / GIB  # openssl reports 1000-byte kilobytes
    return total


# ----- main ----------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/kfpg-ms-bench")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", default="big,many,tiny")
    ap.add_argument("--tools", default="", help="comma-separated subset of the tools (default: all)")
    ap.add_argument("--worker", nargs=6, metavar="X")
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0

    root = Path(args.data)
    root.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  cores: {cores}  load average: {os.getloadavg()}")
    print(f"openssl: {subprocess.run(['openssl', 'version'], capture_output=True, text=True).stdout.strip()}")
    one = openssl_sha256(1)
    alln = openssl_sha256(cores)
    print(f"openssl speed -evp sha256 (16 KiB): {one:.2f} GiB/s per core, {alln:.2f} GiB/s on {cores} cores\n")
    make_data(root)
    priv, pub = keys(root)
    sigs = root / "sigs"
    sigs.mkdir(exist_ok=True)

    rows: list[tuple[str, str, str, float, float, float, float, float]] = []
    summary: dict[str, dict[str, float]] = {}
    for name in [n for n in args.only.split(",") if n]:
        model = root / name
        size = warm(model)
        tools = ["kfp-gates", "upstream", "upstream-shards"]
        if name == "tiny":
            tools.append("read+hash loop")
        if name == "big":
            tools[1:1] = ["kfp-gates O_DIRECT", "kfp-gates hash", "kfp-gates hash O_DIRECT"]
        if args.tools:
            tools = [t for t in tools if t in args.tools.split(",")]
        for tool in tools:
            for op in ("sign", "verify"):
                if tool in ("read+hash loop", "kfp-gates hash", "kfp-gates hash O_DIRECT") and op == "verify":
                    continue
                sig = sigs / f"{name}-{tool}.sig"
                r = measure(tool, op, model, sig, priv, pub, args.repeat)
                rate = size / GIB / r["seconds"]
                cpu_rate = size / GIB / max(r["cpu"], 1e-9)
                rows.append(
                    (
                        DATASETS[name],
                        tool,
                        op,
                        r["seconds"],
                        rate,
                        rate / alln * 100,
                        cpu_rate / one * 100,
                        r["peak_mib"],
                    )
                )
                summary.setdefault(name, {})[f"{tool}/{op}"] = r["seconds"]
                summary[name][f"{tool}/{op}/mib"] = r["peak_mib"]
                print(
                    f"  {DATASETS[name]:<18} {tool:<16} {op:<6} {r['seconds']:7.2f} s  {rate:6.2f} GiB/s  "
                    f"{rate / alln * 100:5.1f}% of {cores}-core sha256  cpu {r['cpu']:6.2f} s "
                    f"({cpu_rate / one * 100:5.1f}% of 1-core sha256 per cpu-second)  peak {r['peak_mib']:6.0f} MiB",
                    flush=True,
                )

    print("\n| data | tool | op | wall s | GiB/s | % of all-core sha256 | GiB per cpu-s vs 1-core sha256 | peak MiB |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for d, t, o, sec, g, p, e, m in rows:
        print(f"| {d} | {t} | {o} | {sec:.2f} | {g:.2f} | {p:.0f}% | {e:.0f}% | {m:.0f} |")
    print(f"\nsha256 ceiling: {one:.2f} GiB/s per core, {alln:.2f} GiB/s on {cores} cores (openssl speed -evp sha256)")
    if "big" in summary:
        big = summary["big"]
        for op in ("sign", "verify"):
            for tool in ("kfp-gates", "kfp-gates O_DIRECT"):
                if f"{tool}/{op}" in big:
                    pct = 4 / big[f"{tool}/{op}"] / alln * 100
                    print(f"target big file {op} ({tool}): {pct:.0f}% of the {cores}-core sha256 limit (target >= 90%)")
        for tool in ("kfp-gates hash", "kfp-gates hash O_DIRECT"):
            if f"{tool}/sign" in big:
                pct = 4 / big[f"{tool}/sign"] / alln * 100
                print(f"big file, {tool} (no model digest): {pct:.0f}% of the {cores}-core sha256 limit")
    if "tiny" in summary and "upstream/sign" in summary["tiny"]:
        tiny = summary["tiny"]
        for op in ("sign", "verify"):
            print(
                f"target tiny files {op}: {tiny[f'upstream/{op}'] / tiny[f'kfp-gates/{op}']:.1f}x faster than upstream "
                "(target >= 4x)"
            )
    peak = max((m for _, t, *_rest, m in rows if t.startswith("kfp-gates")), default=0.0)
    print(f"target peak memory: {peak:.0f} MiB max over kfp-gates runs (target < 300 MiB)")
    print(f"load average at the end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
