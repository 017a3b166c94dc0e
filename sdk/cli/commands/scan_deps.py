"""``kfp-gates scan-deps``: offline vulnerability and supply-chain scan of Python dependencies."""

from __future__ import annotations

import argparse
import sys

from .._common import FORMATS, add_output_options, add_policy_options, emit, load_policy, write_text

SEVERITIES = ("info", "low", "medium", "high", "critical")
EPILOG = """inputs:
  PATH is a requirements file (-r/-c includes, --hash, URLs, VCS), pylock.toml, uv.lock, poetry.lock,
  a .py file (Hugging Face loads, trust_remote_code), a compiled pipeline YAML, or a directory walked for all of them.

exit codes:
  0  passed or warnings only     1  the gate blocked (a finding at or above --fail-on)
  2  bad input: missing/unreadable/malformed file (file:line named), advisory data empty or unreadable
     (never reported as "no vulnerabilities")
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan-deps",
        help="scan Python dependencies against OSV advisories, offline, plus supply-chain hygiene",
        description="Scan requirements, lock files, installed environments and compiled pipelines against OSV "
        "advisories (embedded PyPA snapshot by default), and check pins, hashes, indexes, image digests and "
        "Hugging Face revision pins. Runs fully offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="requirements/lock/pipeline/.py files or directories")
    p.add_argument("--env", action="append", default=[], metavar="SITE_PACKAGES",
                   help="an installed environment's site-packages directory (repeatable)")
    p.add_argument("--pipeline", action="append", default=[], metavar="PIPELINE.yaml",
                   help="a compiled KFP pipeline: runtime pip installs, images, embedded code (repeatable)")
    p.add_argument("--advisories", metavar="DIR_OR_ZIP",
                   help="OSV advisories: directory, all.zip or compact .json.gz (default: policy, else embedded)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the parsed-advisory cache")
    p.add_argument("--fail-on", choices=SEVERITIES, help="lowest severity that fails (default: the policy's)")
    p.add_argument("--sbom", metavar="FILE", help="also write a CycloneDX 1.6 SBOM with vulnerabilities")
    add_output_options(p, (*FORMATS, "cyclonedx"))
    add_policy_options(p)
    p.set_defaults(func=_run)


def emit_with_sbom(result: object, args: argparse.Namespace) -> int:
    """Shared by scan-deps and scan-image: SBOM side output, ``--format cyclonedx``, else the common formats."""
    from kfp_gates.components.common.formats import render_table
    from kfp_gates.components.common.result import GateResult
    from kfp_gates.components.dependency_scan.sbom import render_cyclonedx

    assert isinstance(result, GateResult)
    if args.sbom:
        write_text(args.sbom, render_cyclonedx(result))
    if args.format == "cyclonedx":
        text = render_cyclonedx(result)
        if args.output:
            write_text(args.output, text)
            sys.stdout.write(render_table([result]))
            sys.stdout.write(f"report (cyclonedx) written to {args.output}\n")
        else:
            sys.stdout.write(text)
        return result.exit_code
    if result.gate == "dependency_scan":
        return _emit_dependency_report(result, args)
    return emit([result], args)


def _emit_dependency_report(result: object, args: argparse.Namespace) -> int:
    """The dependency gate's own table, Markdown, HTML and SARIF (upgrade advice, advisory links), as the component."""
    from kfp_gates.components.common.result import GateResult
    from kfp_gates.components.dependency_scan.report import render, render_table

    from .._common import use_color

    assert isinstance(result, GateResult)
    fmt = getattr(args, "format", None) or "table"
    if args.output:
        write_text(args.output, render(result, fmt))
        sys.stdout.write(render_table([result], color=use_color()))
        sys.stdout.write(f"report ({fmt}) written to {args.output}\n")
    else:
        sys.stdout.write(render_table([result], color=use_color()) if fmt == "table" else render(result, fmt))
    return result.exit_code


def _run(args: argparse.Namespace) -> int:
    from kfp_gates.components.dependency_scan.advisories.cache import default_cache_dir
    from kfp_gates.components.dependency_scan.engine import scan_inputs

    policy = load_policy(args)
    result = scan_inputs(
        args.paths,
        envs=args.env,
        pipelines=args.pipeline,
        policy=policy,
        advisories=args.advisories,
        fail_on=args.fail_on,
        cache_dir=None if args.no_cache else default_cache_dir(),
    )
    src = result.metadata.get("advisory_source") or {}
    # On stderr, so stdout stays the report: which data the verdict rests on, and how old it is.
    sys.stderr.write(
        f"advisories: {src.get('kind')} {src.get('location')}, snapshot {str(src.get('snapshot'))[:10]} "
        f"({src.get('age_days')} days old), {src.get('active')} active records\n"
    )
    return emit_with_sbom(result, args)
