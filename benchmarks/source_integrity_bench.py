"""Benchmark of the source-integrity gate: signed-commit ranges and component locks.

Run: ``.venv/bin/python benchmarks/source_integrity_bench.py [--commits 10,100,400] [--executors 10,100,1000]``

* verify-source: a repository with N SSH-signed commits (plus a work tree of
  ``--files`` files), verified as one range ``--since <root>``; git runs
  ``ssh-keygen -Y find-principals`` and ``-Y verify`` per commit, so the cost is
  per commit.
* lock: a synthetic compiled pipeline with K lightweight executors (each
  embedding ~2 KB of Python), timed for parse + ``create_lock`` and for
  ``verify_lock`` after one executor is edited.

Generated data goes to a temp directory under /tmp and is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.kfp_ir import parse_pipeline
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.source_integrity import SourceOptions, create_lock, verify_lock, verify_source
from kfp_gates.pipelines.demo_steps.source_integrity import SignedRepo, allowed_signers, git_env, ssh_key

IMAGE = "ghcr.io/kfp-gates/kfp-gates@sha256:" + "0" * 64


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _signed_repo(root: Path, commits: int, files: int) -> tuple[SignedRepo, Path, str]:
    key = ssh_key(root / "keys", "alice")
    signers = allowed_signers(root / "allowed_signers", {"alice@example.com": key})
    repo = SignedRepo(root / "repo")
    tree = {f"pkg/mod{i:05d}.py": f"VALUE = {i}\n" for i in range(files)}
    repo.commit("root", tree, key=key)
    base = repo.git("rev-parse", "HEAD")
    # fast-import would skip signing; each commit is signed for real
    for i in range(commits):
        (repo.path / "train.py").write_text(f"EPOCHS = {i}\n")
        repo.git("add", "train.py")
        repo.git("-c", f"user.signingkey={key}", "commit", "-q", "-S", "-m", f"change {i}")
    return repo, signers, base


def bench_commits(sizes: list[int], files: int, repeat: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="kfp-gates-bench-src-") as tmp:
            t0 = time.perf_counter()
            repo, signers, base = _signed_repo(Path(tmp), n, files)
            build = time.perf_counter() - t0
            def run(options: SourceOptions, path: Path = repo.path) -> GateResult:
                return verify_source(path, options, GateSettings())

            t, result = _time(lambda: run(SourceOptions(since=base, allowed_signers=signers)), repeat)  # noqa: B023
            assert isinstance(result, GateResult) and result.decision.value == "pass", result
            t_one, _ = _time(lambda: run(SourceOptions(allowed_signers=signers)), repeat)  # noqa: B023
            rows.append((str(n), str(files), f"{build:.1f}", f"{t:.2f}", f"{1000 * t / max(n, 1):.1f}",
                         f"{t_one:.2f}"))
    return rows


def _synthetic_pipeline(executors: int, edit: bool = False) -> str:
    body = "\n".join(f"    x{j} = {j} * value  # line {j} of the training step" for j in range(40))
    spec: dict = {"pipelineInfo": {"name": "bench"}, "root": {"dag": {"tasks": {}}}, "components": {},
                  "deploymentSpec": {"executors": {}}, "schemaVersion": "2.1.0", "sdkVersion": "kfp-2.17.3"}
    for i in range(executors):
        code = f"def step_{i}(value: int) -> int:\n{body}\n    return value + {i + (1 if edit and i == 0 else 0)}\n"
        spec["deploymentSpec"]["executors"][f"exec-step-{i}"] = {"container": {
            "image": IMAGE,
            "command": ["sh", "-c", 'program_path=$(mktemp -d)\nprintf "%s" "$0" > '
                        '"$program_path/ephemeral_component.py"\n', code],
            "args": ["--executor_input", "{{$}}", "--function_to_execute", f"step_{i}"],
        }}
        spec["components"][f"comp-step-{i}"] = {"executorLabel": f"exec-step-{i}"}
        spec["root"]["dag"]["tasks"][f"step-{i}"] = {"componentRef": {"name": f"comp-step-{i}"}}
    return yaml.safe_dump(spec, sort_keys=False)


def bench_locks(sizes: list[int], repeat: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for k in sizes:
        text = _synthetic_pipeline(k)
        t_parse, pipeline = _time(lambda: parse_pipeline(text, "bench.yaml"), repeat)  # noqa: B023
        t_create, lock = _time(lambda: create_lock(pipeline), repeat)  # type: ignore[arg-type]  # noqa: B023
        edited = parse_pipeline(_synthetic_pipeline(k, edit=True), "edited.yaml")
        t_verify, findings = _time(lambda: verify_lock(edited, lock), repeat)  # type: ignore[arg-type]  # noqa: B023
        assert [f.data["executor"] for f in findings] == ["exec-step-0"]  # type: ignore[attr-defined]
        rows.append((str(k), f"{len(text) / 1e6:.2f}", f"{1000 * t_parse:.0f}", f"{1000 * t_create:.0f}",
                     f"{1000 * t_verify:.0f}"))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", default="10,100,400")
    ap.add_argument("--files", type=int, default=2000, help="files in the work tree")
    ap.add_argument("--executors", default="10,100,1000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.update({k: v for k, v in git_env().items() if k.startswith("GIT_")})
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{git}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; median of {args.repeat}\n")
    print("verify-source (SSH-signed commits, range --since root, work tree checked)")
    print(_table(("commits", "files", "build s", "verify s", "ms/commit", "HEAD only s"),
                 bench_commits([int(x) for x in args.commits.split(",")], args.files, args.repeat)))
    print("\ncomponent lock (synthetic pipeline, ~2 KB embedded code per executor)")
    print(_table(("executors", "YAML MB", "parse ms", "create ms", "verify ms"),
                 bench_locks([int(x) for x in args.executors.split(",")], args.repeat)))


if __name__ == "__main__":
    main()
