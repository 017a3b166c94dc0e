"""Options and output handling shared by every CLI command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from kfp_gates.components.common.errors import ConfigError

if TYPE_CHECKING:
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.result import GateResult

FORMATS = ("table", "json", "markdown", "sarif", "html")
TIERS = ("critical", "standard", "fast-track")


def version() -> str:
    try:
        return metadata.version("kfp-gates")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def apply_env_defaults(args: argparse.Namespace) -> None:
    """Fill ``--format`` from ``KFP_GATES_FORMAT`` after parsing; an invalid value is a usage error (exit 2).

    Done after parsing, for the command that runs only, so a bad variable cannot
    break unrelated commands (or ``--help``).
    """
    choices = getattr(args, "_format_choices", None)
    if choices is None or getattr(args, "format", None) is not None:
        return
    value = os.environ.get("KFP_GATES_FORMAT") or "table"
    if value not in choices:
        raise ConfigError(
            f"KFP_GATES_FORMAT={value!r} is not a format of this command",
            hint=f"choose one of: {', '.join(choices)}",
        )
    args.format = value


def add_output_options(parser: argparse.ArgumentParser, formats: Sequence[str] = FORMATS) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "--format",
        choices=formats,
        default=None,
        help="report format (default: $KFP_GATES_FORMAT, else table)",
    )
    parser.set_defaults(_format_choices=tuple(formats))
    group.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the report to FILE; stdout then keeps the human summary",
    )


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--policy",
        metavar="FILE",
        default=os.environ.get("KFP_GATES_POLICY") or None,
        help="GatePolicy YAML (default: $KFP_GATES_POLICY, else the tier's defaults)",
    )
    group.add_argument(
        "--tier",
        choices=TIERS,
        default=os.environ.get("KFP_GATES_TIER") or None,
        help="risk tier when no policy file is given (default: standard)",
    )


def load_policy(args: argparse.Namespace) -> GatePolicy:
    from kfp_gates.components.common.policy import GatePolicy

    if getattr(args, "policy", None):
        policy = GatePolicy.load(args.policy)
        if getattr(args, "tier", None) and args.tier != policy.tier:
            raise ConfigError(
                f"--tier {args.tier} contradicts the policy file's tier {policy.tier!r}",
                where=args.policy,
                hint="drop --tier, or change the tier in the policy file",
            )
        return policy
    tier = getattr(args, "tier", None) or "standard"
    if tier not in TIERS:
        raise ConfigError(f"unknown tier {tier!r}", hint=f"choose one of: {', '.join(TIERS)}")
    return GatePolicy.default(tier)


def use_color(stream: object = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") is not None or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write_text(path: str | Path, text: str) -> None:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write output: {exc.strerror}", where=str(p)) from None


def emit(results: Sequence[GateResult], args: argparse.Namespace) -> int:
    """Print or write the report; return the exit code (1 if any gate failed, else 0)."""
    from kfp_gates.components.common.formats import render, render_table

    fmt = getattr(args, "format", "table")
    output = getattr(args, "output", None)
    if output:
        write_text(output, render(results, fmt))
        sys.stdout.write(render_table(results, color=use_color()))
        sys.stdout.write(f"report ({fmt}) written to {output}\n")
    elif fmt == "table":
        sys.stdout.write(render_table(results, color=use_color()))
    else:
        sys.stdout.write(render(results, fmt))
    return max((r.exit_code for r in results), default=0)
