"""``make demo``: run every gate that exists on bundled sample data and print its verdict.

Until the secured reference pipeline exists this is the main job. Each gate
adds one :class:`DemoStep`; a gate that is not built yet is listed as
NOT RUN, never as passed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kfp_gates.components.common.formats import render_html, render_table
from kfp_gates.components.common.policy import GATES, GatePolicy
from kfp_gates.components.common.result import GateResult

SAMPLES = Path(__file__).resolve().parent / "samples"


@dataclass(frozen=True)
class DemoStep:
    """One gate run on bundled data. ``expect`` is the verdict the sample is built to produce."""

    title: str
    gate: str
    run: Callable[[GatePolicy, Path], GateResult]
    expect: str  # "pass" | "warn" | "fail"


def _steps() -> list[DemoStep]:
    """Every ``STEPS`` list of the modules in :mod:`kfp_gates.pipelines.demo_steps`, in module order."""
    import importlib
    import pkgutil

    from . import demo_steps

    steps: list[DemoStep] = []
    for info in sorted(pkgutil.iter_modules(demo_steps.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{demo_steps.__name__}.{info.name}")
        steps.extend(module.STEPS)
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kfp_gates.pipelines.demo")
    parser.add_argument("--out", type=Path, default=Path("demo-out"),
                        help="where the demo's inputs, results and reports are kept (default: ./demo-out)")
    args = parser.parse_args(argv)
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    print(f"kfp-gates demo: policy {SAMPLES / 'policy.yaml'} (tier {policy.tier})\n", flush=True)
    steps = _steps()
    mismatches = 0
    # Kept after the run (not a temp dir): the findings name files under it, and the reports are there to open.
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    work = out / "work"
    work.mkdir(parents=True)
    for n, step in enumerate(steps, 1):
        # The heading first, flushed: a step's own child processes write to the same stdout.
        print(f"== {step.title} (expected: {step.expect})", flush=True)
        result = step.run(policy, work)
        report = out / "reports" / f"{n:02d}-{re.sub(r'[^a-z0-9]+', '-', step.title.lower()).strip('-')[:60]}"
        report.mkdir(parents=True)
        (report / "result.json").write_text(result.to_json(), encoding="utf-8")
        (report / "report.html").write_text(render_html([result], title=step.title), encoding="utf-8")
        sys.stdout.write(render_table([result], color=sys.stdout.isatty()))
        if result.decision.value != step.expect:
            mismatches += 1
            print(f"!! unexpected verdict {result.decision.value}, expected {step.expect}")
        print(flush=True)
    done = {s.gate for s in steps}
    for gate in GATES:
        if gate not in done:
            print(f"NOT RUN  {gate}: not implemented yet")
    print(f"\n{len(steps)} gate run(s), {mismatches} unexpected verdict(s)")
    print(f"results and HTML reports: {out / 'reports'}/<step>/result.json, report.html")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
