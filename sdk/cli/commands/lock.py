"""``kfp-gates lock create|verify``: pin the code a compiled pipeline executes."""

from __future__ import annotations

import argparse
import sys

from .._common import add_output_options, add_policy_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lock", help="record and verify digests of a compiled pipeline's executors")
    psub = p.add_subparsers(dest="lock_command", metavar="ACTION", required=True)

    c = psub.add_parser(
        "create",
        help="write the component lock of a reviewed pipeline",
        description="Record a sha256 of each executor's image, command, args and embedded code (and of the "
        "DAG) of a compiled pipeline. Commit the lock next to the pipeline after review.",
    )
    c.add_argument("pipeline", metavar="PIPELINE.yaml")
    c.add_argument("--output", "-o", metavar="FILE", help="lock file to write (default: stdout)")
    c.set_defaults(func=_create)

    v = psub.add_parser(
        "verify",
        help="block when an executor changed, was added or removed since the lock",
        description="Compare a compiled pipeline with its component lock; each changed, added or removed "
        "executor is a finding that names it.",
    )
    v.add_argument("pipeline", metavar="PIPELINE.yaml")
    v.add_argument("--lock", metavar="FILE", help="component lock (default: the policy's lock_file)")
    add_output_options(v)
    add_policy_options(v)
    v.set_defaults(func=_verify)


def _create(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.kfp_ir import load_pipeline
    from kfp_gates.components.source_integrity.lock import create_lock

    from .._common import write_text

    pipeline = load_pipeline(args.pipeline)
    lock = create_lock(pipeline)
    text = lock.to_json()
    if args.output:
        write_text(args.output, text)
        code = sum(1 for e in lock.executors.values() if e.digests.embedded_code)
        sys.stdout.write(
            f"locked {len(lock.executors)} executor(s) of pipeline {pipeline.name} ({code} with embedded code) "
            f"into {args.output} (sha256 {lock.sha256})\n"
        )
    else:
        sys.stdout.write(text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.kfp_ir import parse_pipeline, read_pipeline_text
    from kfp_gates.components.source_integrity.gate import lock_gate, pipeline_subject
    from kfp_gates.components.source_integrity.lock import load_lock

    from .._common import emit, load_policy

    policy = load_policy(args)
    lock_path = args.lock or policy.gates.source_integrity.lock_file
    if not lock_path:
        raise ConfigError("no lock file given", hint="pass --lock components.lock (from `kfp-gates lock create`)")
    # One open: the subject digest is of the same bytes that were verified.
    text = read_pipeline_text(args.pipeline)
    pipeline = parse_pipeline(text, args.pipeline)
    lock = load_lock(lock_path)
    settings = GateSettings.from_effective(policy.gate("source_integrity"), lock=lock_path)
    subject = pipeline_subject(pipeline, text)
    return emit([lock_gate(pipeline, lock, settings, lock_path=lock_path, subject=subject)], args)
