"""``kfp-gates schema result|policy|evidence``: the published JSON Schemas."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print a JSON Schema: the gate result, the policy file")
    p.add_argument("which", choices=("result", "policy"), help="which schema")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.which == "result":
        from kfp_gates.components.common.result import result_json_schema

        print(json.dumps(result_json_schema(), indent=2))
    else:
        from kfp_gates.components.common.policy import policy_json_schema

        print(json.dumps(policy_json_schema(), indent=2))
    return 0
