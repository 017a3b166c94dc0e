"""``kfp-gates policy validate|show|schema``."""

from __future__ import annotations

import argparse
import json
import sys

from .._common import TIERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("policy", help="validate, show and describe GatePolicy files")
    psub = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    v = psub.add_parser("validate", help="check a policy file; exit 2 naming every problem")
    v.add_argument("file", metavar="FILE")
    v.set_defaults(func=_validate)

    s = psub.add_parser("show", help="the effective gate settings of a tier or a policy file")
    s.add_argument("file", nargs="?", metavar="FILE", help="policy file (default: the tier's defaults)")
    s.add_argument("--tier", choices=TIERS, default=None, help="tier to show when no FILE is given")
    s.add_argument("--format", choices=("table", "yaml", "json"), default="table")
    s.set_defaults(func=_show)

    sc = psub.add_parser("schema", help="print the policy file's JSON Schema")
    sc.set_defaults(func=_schema)


def _validate(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.policy import GatePolicy

    policy = GatePolicy.load(args.file)
    print(f"{args.file}: valid GatePolicy (tier {policy.tier})")
    return 0


def _show(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.policy import GatePolicy

    if args.file and args.tier:
        raise ConfigError("give either FILE or --tier, not both", hint="the file's own tier applies")
    policy = GatePolicy.load(args.file) if args.file else GatePolicy.default(args.tier or "standard")
    if args.format == "json":
        print(json.dumps(policy.to_yaml_dict(), indent=2))
        return 0
    if args.format == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(policy.to_yaml_dict(), sort_keys=False))
        return 0
    rows = [("gate", "required", "on_fail", "fail_on", "waivers")]
    for g in policy.effective():
        rows.append((g.name, "yes" if g.required else "no", g.on_fail, g.fail_on.value, str(len(g.waivers))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"tier: {policy.tier}")
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _schema(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.policy import policy_json_schema

    print(json.dumps(policy_json_schema(), indent=2))
    return 0
