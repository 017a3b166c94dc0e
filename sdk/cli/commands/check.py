"""``kfp-gates check PIPELINE.yaml``: the SDK's checks on a compiled pipeline."""

from __future__ import annotations

import argparse

from .._common import add_output_options, add_policy_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check a compiled pipeline: component lock, runtime pip installs, digest-pinned images",
        description="Check a compiled pipeline (KFP IR YAML): executors that `pip install` at start "
        "(packages_to_install, install_kfp_package) and images not pinned by digest are findings; with a "
        "component lock, every executor changed, added or removed since the lock blocks.",
    )
    p.add_argument("pipeline", metavar="PIPELINE.yaml")
    p.add_argument("--lock", metavar="FILE", help="component lock to verify (default: the policy's lock_file)")
    p.add_argument(
        "--kfp-backend", metavar="VERSION",
        help="KFP backend the pipeline will run on: PlatformSpec fields it would reject or silently drop are "
        "findings (default: $KFP_GATES_KFP_BACKEND, else 2.2.0, the oldest supported)",
    )
    add_output_options(p)
    add_policy_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.kfp_ir import parse_pipeline, read_pipeline_text
    from kfp_gates.components.source_integrity.lock import load_lock
    from kfp_gates.sdk.checks import check_pipeline

    from .._common import emit, load_policy

    policy = load_policy(args)
    # One open of a regular file: the text digested as the subject is the text checked.
    text = read_pipeline_text(args.pipeline)
    pipeline = parse_pipeline(text, args.pipeline)
    lock_path = args.lock or policy.gates.source_integrity.lock_file
    lock = load_lock(lock_path) if lock_path else None
    results = check_pipeline(pipeline, policy, lock=lock, lock_path=lock_path, text=text, backend=args.kfp_backend)
    return emit(results, args)
