"""``make demo``: run every gate that exists on bundled sample data and print its verdict.

Until the secured reference pipeline exists this is the main job. Each gate
adds one :class:`DemoStep`; a gate that is not built yet is listed as
NOT RUN, never as passed.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kfp_gates.components.common.formats import render_table
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
    policy = GatePolicy.load(SAMPLES / "policy.yaml")
    print(f"kfp-gates demo: policy {SAMPLES / 'policy.yaml'} (tier {policy.tier})\n")
    steps = _steps()
    mismatches = 0
    with tempfile.TemporaryDirectory(prefix="kfp-gates-demo-") as tmp:
        for step in steps:
            result = step.run(policy, Path(tmp))
            print(f"== {step.title} (expected: {step.expect})")
            sys.stdout.write(render_table([result], color=sys.stdout.isatty()))
            if result.decision.value != step.expect:
                mismatches += 1
                print(f"!! unexpected verdict {result.decision.value}, expected {step.expect}")
            print()
    done = {s.gate for s in steps}
    for gate in GATES:
        if gate not in done:
            print(f"NOT RUN  {gate}: not implemented yet")
    print(f"\n{len(steps)} gate run(s), {mismatches} unexpected verdict(s)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
