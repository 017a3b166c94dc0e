"""``kfp-gates policy validate|show|schema|eval|test``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._common import TIERS, add_output_options, add_policy_options

EVAL_EPILOG = """exit codes:
  0  no deny (pass, or only warn messages)
  1  a deny rule fired, or a rule reads a metric or gate result the input lacks
  2  the policy cannot decide: Rego that does not compile, no deny/warn rule in the
     package, a deny/warn that is undefined or not a set (the v0 form deny[msg] {...}),
     a data.<key> the rules read that --data / the policy does not set

examples:
  kfp-gates policy eval --rego policies/ --input run.json --data thresholds.yaml
  kfp-gates policy eval --input run.json --policy policy.yaml --format json"""


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

    e = psub.add_parser(
        "eval",
        help="evaluate Rego deny/warn rules on metrics and gate results (exit 0 pass/warn, 1 deny, 2 bad policy)",
        description=(
            "Evaluate the Rego policy in-process (regopy), Conftest conventions: `deny contains msg` blocks, "
            "`warn contains msg` warns. INPUT is {\"metrics\": {...}, \"gates\": {\"<gate>\": <result>, ...}}."
        ),
        epilog=EVAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--rego", metavar="PATH", help="Rego file or directory (default: the policy's, else promotion.rego)")
    e.add_argument("--input", required=True, metavar="FILE", help="input document, JSON or YAML")
    e.add_argument("--data", metavar="FILE", help="data (thresholds), JSON or YAML; replaces gates.policy_gate.data")
    e.add_argument("--package", metavar="NAME", help="package whose deny/warn rules decide (default: main)")
    add_policy_options(e)
    add_output_options(e)
    e.set_defaults(func=_eval)

    t = psub.add_parser(
        "test",
        help="run a Rego policy's own tests (test_* rules); exit 1 if one fails, 2 if there are none",
    )
    t.add_argument("dir", metavar="DIR", help="Rego file or directory (tests live in *_test.rego)")
    t.add_argument("--data", metavar="FILE", help="data for the tests, JSON or YAML")
    t.set_defaults(func=_test)


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


def _read_document(path: str, what: str) -> Any:
    from kfp_gates.components.common.yamlio import load_document

    return load_document(path, what=what).data


def _eval(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.rego_policy import run

    from .._common import emit, load_policy

    policy = load_policy(args)
    document = _read_document(args.input, "policy input")
    data = None
    if args.data:
        data = _read_document(args.data, "policy data")
        if not isinstance(data, dict):
            raise ConfigError("policy data must be a mapping of names to values", where=args.data)
    result = run(document, policy, rego=args.rego, data=data, package=args.package)
    return emit([result], args)


def _test(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.rego_policy import PolicyEngine, load_rego

    data = _read_document(args.data, "policy data") if args.data else {}
    if not isinstance(data, dict):
        raise ConfigError("policy data must be a mapping of names to values", where=args.data)
    engine = PolicyEngine(load_rego(args.dir), data, tests=True)
    outcomes = engine.run_tests()
    if not outcomes:
        raise ConfigError("no Rego tests (test_* rules) found", where=args.dir, hint="put tests in *_test.rego files")
    for o in outcomes:
        status = "PASS" if o.passed else "FAIL"
        detail = f" ({o.detail})" if o.detail else ""
        print(f"{status}  {o.name}  {o.file}:{o.line}{detail}")
    failed = sum(not o.passed for o in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed")
    return 1 if failed else 0
