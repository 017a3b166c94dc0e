"""``kfp-gates sign-model``: sign a model after its gates passed (EC key, certificate, Vault Transit, Sigstore)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from .._common import add_output_options, add_policy_options, emit, load_policy
from ._model_signing_opts import (
    add_sigstore_online_option,
    add_vault_options,
    check_exists,
    close_progress,
    vault_client,
)

if TYPE_CHECKING:
    from kfp_gates.components.model_signing.signers.interface import Signer

EPILOG = """examples:
  kfp-gates sign-model model/ --key key.pem --passphrase-env KEY_PASS --gate-result scan.json
  kfp-gates sign-model model/ --vault-transit model-signing --vault-addr https://vault:8200 \\
      --vault-token-file /run/secrets/token --signature model.sig --public-key-out model.pub

The signature (default MODEL.sig next to the model) is a Sigstore bundle over
OpenSSF model-signing's manifest: `model_signing verify key MODEL --signature
MODEL.sig --public_key key.pub` verifies it too.

exit codes: 0 signed; 1 refused (a gate result failed, symlinks or special
files in the model); 2 usage error (missing model, key or passphrase, bad
key); 3 Vault unreachable or sealed, Sigstore offline."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sign-model",
        help="sign a model (OpenSSF model-signing bundle), binding the gate results it passed",
        description="Hash a model directory (or file) and sign the manifest: EC key file, certificate, "
        "Vault/OpenBao Transit (the key never leaves Vault) or Sigstore keyless (online only).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model directory or file")
    who = p.add_argument_group("signer (choose one)").add_mutually_exclusive_group(required=True)
    who.add_argument("--key", metavar="KEY.pem", help="EC private key (PEM, optionally encrypted)")
    who.add_argument("--vault-transit", metavar="NAME", help="sign with Vault/OpenBao Transit key NAME")
    who.add_argument("--sigstore", action="store_true", help="Sigstore keyless signing (needs --sigstore-online)")
    pw = p.add_argument_group("key file").add_mutually_exclusive_group()
    pw.add_argument("--passphrase-file", metavar="FILE", help="passphrase of an encrypted --key")
    pw.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the passphrase")
    p.add_argument("--certificate", metavar="CERT.pem", help="with --key: signing certificate (certificate signature)")
    p.add_argument(
        "--certificate-chain", metavar="PEM", action="append", default=[], help="with --certificate: intermediates"
    )
    p.add_argument("--signature", metavar="OUT", help="where to write the signature (default: MODEL.sig)")
    p.add_argument("--force", action="store_true", help="replace an existing signature file (refused otherwise)")
    p.add_argument(
        "--ignore-path",
        metavar="P",
        action="append",
        default=[],
        help="model-relative path to leave out (repeatable; added to the policy's, recorded in the signature)",
    )
    p.add_argument(
        "--gate-result",
        metavar="RESULT.json",
        action="append",
        default=[],
        help="bind this gate result (its digest and verdict) into the signed statement (repeatable)",
    )
    p.add_argument(
        "--hashing",
        choices=("auto", "files", "shards"),
        help="auto (policy default): shards when a file is >= 512 MiB, else files (upstream-CLI compatible)",
    )
    p.add_argument("--shard-size", type=int, metavar="BYTES", help="shard size for shard hashing")
    p.add_argument("--workers", type=int, default=0, metavar="N", help="hashing threads (default: one per CPU)")
    p.add_argument("--public-key-out", metavar="PEM", help="also write the signer's public key (PEM) here")
    add_vault_options(p)
    add_sigstore_online_option(p)
    add_output_options(p)
    add_policy_options(p)
    p.set_defaults(func=run)


def _signer(args: argparse.Namespace) -> Signer:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.model_signing.signers import ec_key

    if args.key:
        check_exists(args.key, "private key", "--key")
        passphrase = None
        if args.passphrase_file:
            passphrase = ec_key.passphrase_from_file(args.passphrase_file)
        elif args.passphrase_env:
            passphrase = ec_key.passphrase_from_env(args.passphrase_env)
        if args.certificate:
            from kfp_gates.components.model_signing.signers.certificate import CertificateSigner

            return CertificateSigner.from_files(args.key, args.certificate, args.certificate_chain, passphrase)
        if args.certificate_chain:
            raise ConfigError("--certificate-chain needs --certificate", hint="or drop it to sign with the bare key")
        return ec_key.ECKeySigner.from_file(args.key, passphrase)
    if args.passphrase_file or args.passphrase_env or args.certificate:
        raise ConfigError("--passphrase-*/--certificate apply to --key only")
    if args.vault_transit:
        from kfp_gates.components.model_signing.signers.transit import TransitSigner

        return TransitSigner(vault_client(args), args.vault_transit, args.vault_mount)
    from kfp_gates.components.model_signing.signers.sigstore import SigstoreSigner

    return SigstoreSigner(online=args.sigstore_online)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from cryptography.hazmat.primitives import serialization

    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.model_signing.gate import GATE, run_sign_gate
    from kfp_gates.components.model_signing.hashing import HashingConfig, total_size
    from kfp_gates.components.model_signing.progress import terminal_progress

    from .._common import write_text

    policy = load_policy(args)
    section = policy.gate(GATE).section
    check_exists(args.model, "model", "MODEL")
    for f in args.gate_result:
        check_exists(f, "gate result file", "--gate-result")
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.model_signing.sign import default_signature_path

    out = args.signature or str(default_signature_path(args.model))
    if os.path.lexists(out) and not args.force:
        # A signature is evidence: replacing one silently can destroy the record of what was signed before.
        raise ConfigError(
            "a signature file already exists", where=out,
            hint="pass --force to replace it, or --signature to write the new one elsewhere",
        )
    config = HashingConfig(
        method=args.hashing or section.hashing,  # type: ignore[attr-defined]
        shard_size=args.shard_size or section.shard_size,  # type: ignore[attr-defined]
        ignore_paths=(*section.ignore_paths, *args.ignore_path),  # type: ignore[attr-defined]
        workers=args.workers,
    )
    signer = _signer(args)
    progress = None
    if sys.stderr.isatty():
        progress = terminal_progress(total_size(args.model, config.ignore_paths), "hashing")
    try:
        result, signing = run_sign_gate(
            args.model,
            signer,
            GateSettings.from_effective(policy.gate(GATE)),
            signature=args.signature,
            config=replace(config),
            gate_result_files=args.gate_result,
            progress=progress,
        )
    finally:
        close_progress(progress)
    code = emit([result], args)
    if signing is None:
        return 1  # nothing was signed, whatever the policy says about warnings
    if args.public_key_out:
        pub = getattr(signer, "public_key", None)
        if pub is not None:
            pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            write_text(args.public_key_out, pem.decode())
    sys.stderr.write(f"signature written to {signing.signature_path}\n")
    return code
