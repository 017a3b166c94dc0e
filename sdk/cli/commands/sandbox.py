"""``kfp-gates sandbox [--input PATH]... [--output DIR] [--timeout S] [--memory SIZE] [--env NAME]... -- CMD...``

Runs CMD locally in fresh Linux namespaces: no network but loopback, the
filesystem read-only except DIR and a private /tmp, the environment cleared,
rlimits, a deadline. Refuses to run when the namespaces cannot be created,
unless the policy says ``isolation: none`` (fast-track tier only).
"""

from __future__ import annotations

import argparse

from . import _isolation

EPILOG = """exit codes:
  the command's own exit status when it fails (128+N when killed by signal N)
  0  the command succeeded and the gate passed (or warned)
  1  the gate blocked (e.g. a secret-looking --env in a strict tier: refused
     before the command starts), or the command left a symlink or special file
     in its outputs (removed)
  2  usage or configuration error (missing input, bad option)
  3  the sandbox could not be created (the command did NOT run), or the deadline was hit"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sandbox",
        help="run a command locally with no network, a read-only filesystem and no secrets",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--workdir",
        metavar="DIR",
        help="working directory inside (default: the current directory, made readable as an input)",
    )
    p.add_argument(
        "--hide", action="append", default=[], metavar="PATH", help="also hide this host path inside the sandbox"
    )
    _isolation.add_step_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import os
    from dataclasses import replace
    from pathlib import Path

    from kfp_gates.components.common.errors import InputNotFoundError
    from kfp_gates.components.isolation.gate import backend_for, launch

    policy = _isolation.policy(args)
    workdir = Path(args.workdir).absolute() if args.workdir else Path.cwd()
    if not workdir.is_dir():
        raise InputNotFoundError("working directory not found", where=str(workdir), hint="check --workdir")
    home = Path(os.environ.get("HOME", "/root")).absolute()
    step = _isolation.step_spec(args, policy)
    # The working directory is readable inside, except a home directory itself
    # (it holds ~/.ssh, ~/.kube...): the step then starts in its private /tmp.
    if workdir in (home, Path("/root"), Path("/")) or workdir.parent == Path("/home"):
        step = replace(step, workdir=None)
    else:
        step = replace(step, workdir=str(workdir), inputs=(*step.inputs, workdir))
    backend = backend_for(policy, **({"hide": args.hide} if args.hide else {}))
    result, outcome = launch(policy, step, backend, explicit_env=args.env)
    return _isolation.finish(result, outcome, args)
