"""Options and reporting shared by ``kfp-gates sandbox`` and ``kfp-gates launch``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .._common import FORMATS, add_policy_options, load_policy, use_color, write_text

if TYPE_CHECKING:
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.result import GateResult
    from kfp_gates.components.isolation.interface import StepOutcome, StepSpec


def add_step_options(p: argparse.ArgumentParser) -> None:
    """Options every isolated step takes, the command after ``--``, policy and report options."""
    p.add_argument("--input", "-i", action="append", default=[], metavar="PATH", help="file or directory to read")
    p.add_argument("--output", metavar="DIR", help="directory the step writes its results to")
    p.add_argument("--timeout", metavar="S", help="wall-clock limit: seconds or 30s/15m/6h (default: policy, 6h)")
    p.add_argument("--memory", metavar="SIZE", help="memory limit, e.g. 512Mi, 4Gi (default: policy)")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this variable of your environment in (everything else is dropped)",
    )
    rep = p.add_argument_group("report")
    rep.add_argument("--report", metavar="FILE", help="write the gate result to FILE")
    rep.add_argument("--format", choices=FORMATS, default="json", help="format of --report (default: json)")
    add_policy_options(p)
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command and its arguments")


def command(args: argparse.Namespace) -> tuple[str, ...]:
    from kfp_gates.components.common.errors import ConfigError

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise ConfigError("no command given", hint="put the command after `--`, e.g. `-- python train.py`")
    return tuple(cmd)


def step_spec(args: argparse.Namespace, policy: GatePolicy, *, workdir: str | None = None) -> StepSpec:
    """The :class:`StepSpec` from the command line, with the policy's limits and environment names."""
    from pathlib import Path

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.policy import parse_duration
    from kfp_gates.components.isolation.gate import build_env, limits_from_policy, section
    from kfp_gates.components.isolation.interface import StepSpec

    sec = section(policy)
    try:
        if not args.timeout:
            timeout = sec.timeout.total_seconds()
        elif args.timeout.replace(".", "", 1).isdigit():
            timeout = float(args.timeout)
        else:
            timeout = parse_duration(args.timeout).total_seconds()
    except ValueError as exc:
        raise ConfigError(str(exc), where="--timeout") from None
    names = list(dict.fromkeys([*sec.env, *args.env]))
    return StepSpec(
        argv=command(args),
        inputs=tuple(Path(p) for p in args.input),
        output=Path(args.output).absolute() if args.output else None,
        env=build_env(names),
        timeout=timeout,
        limits=limits_from_policy(sec, memory=args.memory),
        workdir=workdir,
    )


def policy(args: argparse.Namespace) -> GatePolicy:
    return load_policy(args)


def finish(result: GateResult, outcome: StepOutcome, args: argparse.Namespace) -> int:
    """Write the report, print a one-line summary on stderr, and return the exit code.

    1 when the gate refused the step before it started; the step's own status
    when it did not succeed (its exit code, 128+signal), 3 when it hit its
    deadline; otherwise 0, or 1 when the gate blocked.
    """
    from kfp_gates.components.common.errors import EXIT_INFRA
    from kfp_gates.components.common.formats import render

    if args.report:
        write_text(args.report, render([result], args.format))
    how = "not run" if not outcome.ran else "timed out" if outcome.timed_out else f"status {outcome.status}"
    verdict = result.decision.value.upper()
    if use_color(sys.stderr):
        color = {"PASS": "32", "WARN": "33", "FAIL": "31"}[verdict]
        verdict = f"\x1b[{color}m{verdict}\x1b[0m"
    sys.stderr.write(
        f"kfp-gates {args.command}: isolation {verdict} ({outcome.backend}, {how}, {outcome.duration:.2f}s)\n"
    )
    for f in result.active_findings():
        sys.stderr.write(f"  {f.severity.value:<8} {f.id}: {f.message}\n")
    if not outcome.ran:
        return result.exit_code  # refused before it started: the gate blocked
    if outcome.timed_out:
        return EXIT_INFRA
    if not outcome.succeeded:
        return outcome.status
    return result.exit_code
