"""``kfp-gates verify-source REPO``: every commit signed by an allowed signer, and a clean work tree."""

from __future__ import annotations

import argparse

from .._common import add_output_options, add_policy_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify-source",
        help="verify signed commits (SSH or OpenPGP) and a clean work tree",
        description="Verify that REV (or every commit from BASE to REV) of a git repository carries a valid "
        "signature by an allowed signer, using git's own verification, and that the work tree is exactly that "
        "commit. Findings name each commit, its author and the reason. Makes no network call.",
    )
    p.add_argument("repo", metavar="REPO", help="path of the git checkout (or bare repository)")
    p.add_argument("--rev", default="HEAD", help="commit to verify (default: HEAD)")
    p.add_argument("--since", metavar="BASE", help="also verify every commit after BASE up to REV")
    p.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="SSH allowed-signers file (ssh-keygen ALLOWED SIGNERS format; default: the policy's allowed_signers)",
    )
    p.add_argument("--gpg-keys", metavar="FILE", help="ASCII-armored OpenPGP public keys of allowed signers")
    p.add_argument(
        "--allow-dirty", action="store_true", help="do not require the work tree to match the commit"
    )
    add_output_options(p)
    add_policy_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.source_integrity.source import SourceOptions, verify_source

    from .._common import emit, load_policy

    policy = load_policy(args)
    gate = policy.gate("source_integrity")
    section = policy.gates.source_integrity
    signers = args.allowed_signers or section.allowed_signers
    gpg_keys = args.gpg_keys or section.gpg_keys
    options = SourceOptions(
        rev=args.rev,
        since=args.since,
        allowed_signers=Path(signers) if signers else None,
        gpg_keys=Path(gpg_keys) if gpg_keys else None,
        require_clean_tree=section.require_clean_tree and not args.allow_dirty,
        timeout=section.timeout.total_seconds(),
    )
    settings = GateSettings.from_effective(
        gate, rev=args.rev, since=args.since, require_clean_tree=options.require_clean_tree
    )
    return emit([verify_source(args.repo, options, settings)], args)
