"""``kfp-gates evidence RESULT.json``: a gate result as an in-toto Statement v1."""

from __future__ import annotations

import argparse
import sys

from .._common import write_text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evidence", help="turn a gate result (JSON) into an in-toto Statement v1")
    p.add_argument("result", metavar="RESULT.json")
    p.add_argument("--output", "-o", metavar="FILE", help="write the statement here (default: stdout)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
    from kfp_gates.components.common.evidence import statement_json
    from kfp_gates.components.common.result import GateResult

    try:
        with open(args.result, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise InputNotFoundError("result file not found", where=args.result) from None
    try:
        result = GateResult.from_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"not a kfp-gates result: {loc}: {first['msg']}", where=args.result) from None
    text = statement_json(result) + "\n"
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
