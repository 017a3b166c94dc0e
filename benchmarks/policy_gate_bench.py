"""Benchmark of the policy gate: one prebuilt interpreter per task against a fresh one and a fresh process.

Run: ``.venv/bin/python benchmarks/policy_gate_bench.py [--runs 300]``.

Variants, interleaved, each timing the evaluation of ``deny`` and ``warn`` on one
input document (the shipped promotion rule plus a warn rule, a run with seven
gate results):

* **engine.evaluate** — the gate's path: a :class:`PolicyEngine` built once per
  task (modules compiled into a regopy bundle with the ``deny`` and ``warn``
  entry points); each evaluation checks the reads, sets the input and queries
  each entry point alone;
* **gate run()** — the same engine through ``policy_gate.run`` (input digest,
  findings, ``GateResult``);
* prebuilt interpreter, ``query()`` per rule — modules added once, but
  ``Interpreter.query`` compiles on every call;
* fresh interpreter — modules and data added for every evaluation, in-process;
* one-shot process — ``python -c`` that imports regopy and evaluates once (what a
  CLI-per-decision design costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.rego_policy import PolicyEngine, default_policy_dir, load_rego, run
from kfp_gates.components.rego_policy.engine import RegoFile

WARN = """package main
import rego.v1
warn contains msg if {
\tinput.metrics.loss > 0.5
\tmsg := sprintf("loss %v is high", [input.metrics.loss])
}
"""
GATES = [
    "data_validation", "dependency_scan", "model_scan", "model_signing", "secrets", "isolation", "source_integrity"
]
DOC = {
    "metrics": {"accuracy": 0.93, "loss": 0.2},
    "gates": {g: {"gate": g, "decision": "pass", "subject": {"name": g}, "findings": []} for g in GATES},
}
DATA = {"min_accuracy": 0.9}


def _files() -> list[RegoFile]:
    return [*load_rego(default_policy_dir()), RegoFile.from_text("warn.rego", WARN)]


def _fresh(files: list[RegoFile]) -> None:
    from kfp_gates.components.rego_policy._rego import Interpreter

    interp = Interpreter({f.name: f.source for f in files if not f.is_test}, DATA)
    interp.set_input(DOC)
    interp.query("data.main.deny")
    interp.query("data.main.warn")


ONE_SHOT = """
import json, regopy, sys
src = json.loads(sys.argv[1])
r = regopy.Interpreter(); r.log_level = regopy.LogLevel.NONE
for name, text in src.items(): r.add_module(name, text)
r.add_data({"min_accuracy": 0.9}); r.set_input(json.loads(sys.argv[2]))
r.query("data.main.deny"); r.query("data.main.warn")
"""


def main() -> int:
    import json

    import regopy

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    files = _files()
    t0 = time.perf_counter()
    engine = PolicyEngine(files, DATA)
    build_ms = (time.perf_counter() - t0) * 1000
    policy = GatePolicy.parse("gates:\n  policy_gate:\n    data: {min_accuracy: 0.9}\n")
    modules = json.dumps({f.name: f.source for f in files if not f.is_test})
    prebuilt = regopy.Interpreter()
    prebuilt.log_level = regopy.LogLevel.NONE
    for f in files:
        if not f.is_test:
            prebuilt.add_module(f.name, f.source)
    prebuilt.add_data(DATA)

    def query_mode() -> None:
        prebuilt.set_input(DOC)
        prebuilt.query("data.main.deny")
        prebuilt.query("data.main.warn")

    variants = {
        "engine.evaluate (bundle built once per task: the gate)": lambda: engine.evaluate(DOC),
        "gate run() with a prebuilt engine": lambda: run(DOC, policy, engine=engine),
        "prebuilt interpreter, query() per rule (compiles each call)": query_mode,
        "fresh interpreter per evaluation": lambda: _fresh(files),
        "one-shot process": lambda: subprocess.run(
            [sys.executable, "-c", ONE_SHOT, modules, json.dumps(DOC)], check=True
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    for i in range(args.runs):
        for name, fn in variants.items():
            if name == "one-shot process" and i % 10:
                continue  # a tenth of the runs: each costs tens of milliseconds
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    load = os.getloadavg()[0]
    print(f"PolicyEngine build (once per task): {build_ms:.1f} ms; load average {load:.2f}; runs {args.runs}")
    print("| variant | runs | median ms | p90 ms |")
    print("|---|---|---|---|")
    for name, ts in times.items():
        ts.sort()
        p90 = ts[int(len(ts) * 0.9) - 1] if len(ts) >= 10 else ts[-1]
        print(f"| {name} | {len(ts)} | {statistics.median(ts):.2f} | {p90:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
