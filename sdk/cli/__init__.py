"""The ``kfp-gates`` command line.

Each command lives in its own module under :mod:`kfp_gates.sdk.cli.commands`
and is discovered at start-up. Command modules import only light modules at
import time; heavy libraries (Great Expectations, kfp, MLflow, Spark) are
imported inside the function that runs the command, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import EXIT_BLOCKED, EXIT_INFRA, KfpGatesError

from . import commands
from ._common import apply_env_defaults, env_flag, version

EXIT_CODES_EPILOG = """exit codes:
  0  passed (or only warnings)
  1  a gate blocked (including input that cannot be parsed, so cannot be proven safe)
  2  usage or configuration error (bad flag, missing file, invalid policy or suite)
  3  infrastructure error (a service unreachable, sealed, or a timeout)

environment: KFP_GATES_FORMAT, KFP_GATES_POLICY, KFP_GATES_TIER, KFP_GATES_DEBUG, NO_COLOR"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfp-gates",
        description="Security gates for Kubeflow Pipelines, runnable in KFP, in CI and locally.",
        epilog=EXIT_CODES_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kfp-gates {version()}")
    parser.add_argument(
        "--debug",
        action="store_true",
        default=env_flag("KFP_GATES_DEBUG"),
        help="verbose logs and a (redacted) stack trace on errors",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redact.RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("kfp_gates").setLevel(logging.DEBUG if debug else logging.INFO)


# What a shell reports for a process killed by SIGPIPE: the reader closed the pipe before the output ended.
EXIT_BROKEN_PIPE = 141


def _deepest_parser(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.ArgumentParser:
    """The (sub)parser of the command named in ``argv``, e.g. ``secret fetch``, for usage messages."""
    current = parser
    for word in argv:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if subs and word in subs[0].choices:
            current = subs[0].choices[word]
    return current


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; an unknown flag is reported with the usage of the subcommand it was given to."""
    words = list(sys.argv[1:] if argv is None else argv)
    args, extras = parser.parse_known_args(words)
    if extras:
        # argparse would print the top-level usage; the subcommand's is the one that helps.
        _deepest_parser(parser, words).error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``kfp-gates policy schema | head``): stop quietly, as other CLIs do.

    Further writes (including the interpreter's final flush) go to /dev/null. The
    exit code is not 0: the output was not delivered whole, so nothing may read it as a pass.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    parser = build_parser()
    args = _parse(parser, argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    _configure_logging(args.debug)
    try:
        apply_env_defaults(args)
        code = int(args.func(args))
        sys.stdout.flush()  # here, not at exit: a closed pipe is then handled below
    except BrokenPipeError:
        code = _quiet_broken_pipe()
    except KfpGatesError as exc:
        if args.debug:
            sys.stderr.write(redact.redact("".join(traceback.format_exception(exc))))
        sys.stderr.write(f"kfp-gates {args.command}: error: {redact.redact(exc.diagnostics())}\n")
        code = exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("kfp-gates: interrupted\n")
        code = EXIT_INFRA
    except Exception as exc:  # noqa: BLE001 - fail closed on bugs: never exit 0
        if args.debug:
            sys.stderr.write(redact.redact("".join(traceback.format_exception(exc))))
        sys.stderr.write(
            f"kfp-gates {args.command}: internal error: {redact.redact(type(exc).__name__ + ': ' + str(exc))}\n"
            "  the gate could not decide, so it blocks; rerun with --debug and report the trace\n"
        )
        code = EXIT_BLOCKED
    return code


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
