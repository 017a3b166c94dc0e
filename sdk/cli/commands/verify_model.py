"""``kfp-gates verify-model``: check that a model is exactly what was signed, with the gates it must carry."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .._common import add_output_options, add_policy_options, emit, load_policy
from ._model_signing_opts import (
    add_sigstore_online_option,
    add_vault_options,
    check_exists,
    close_progress,
    split_csv,
    vault_client,
)

if TYPE_CHECKING:
    from kfp_gates.components.model_signing.signers.interface import Verifier

EPILOG = """examples:
  kfp-gates verify-model model/ --signature model.sig --public-key key.pub --require-gates model_scan
  kfp-gates verify-model model/ --signature model.sig --vault-transit model-signing --transit-verify

Signatures made by upstream `model_signing sign key|certificate` verify too.

exit codes: 0 the model is what was signed (and carries the required gates);
1 blocked: a file modified, added, removed or renamed, a symlink swapped in,
the signature not a bundle, signed by another key, or a required gate result
absent or failed; 2 usage error (missing model, signature or key); 3 Vault
unreachable or sealed, Sigstore offline."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify-model",
        help="verify a model against its signature; block naming every file that differs",
        description="Verify an OpenSSF model-signing signature and compare the model file by file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL", help="model directory or file")
    p.add_argument("--signature", metavar="SIG", required=True, help="signature (Sigstore bundle) to verify")
    who = p.add_argument_group("verifier (choose one)").add_mutually_exclusive_group(required=True)
    who.add_argument("--public-key", metavar="PUB.pem", help="EC public key of the signer")
    who.add_argument(
        "--certificate-chain",
        metavar="PEM",
        action="append",
        help="trust anchors (root, intermediates) for certificate signatures (repeatable)",
    )
    who.add_argument("--vault-transit", metavar="NAME", help="verify with Vault/OpenBao Transit key NAME")
    who.add_argument("--sigstore-identity", metavar="ID", help="Sigstore keyless: expected signer identity")
    p.add_argument(
        "--transit-verify",
        action="store_true",
        help="with --vault-transit: ask Transit to verify (default: verify locally with its public key)",
    )
    p.add_argument("--sigstore-issuer", metavar="URL", help="with --sigstore-identity: expected OIDC issuer")
    p.add_argument(
        "--require-gates",
        metavar="G1,G2",
        action="append",
        default=[],
        help="gates whose passing results the signature must carry (added to the policy's require_gates)",
    )
    p.add_argument(
        "--gate-result",
        metavar="RESULT.json",
        action="append",
        default=[],
        help="also check that this gate result file is one of those bound to the signature (repeatable)",
    )
    add_vault_options(p)
    add_sigstore_online_option(p)
    add_output_options(p)
    add_policy_options(p)
    p.set_defaults(func=run)


def _verifier(args: argparse.Namespace) -> Verifier:
    from kfp_gates.components.common.errors import ConfigError

    if args.public_key:
        from kfp_gates.components.model_signing.signers.ec_key import PublicKeyVerifier

        check_exists(args.public_key, "public key", "--public-key")
        return PublicKeyVerifier.from_file(args.public_key)
    if args.certificate_chain:
        from kfp_gates.components.model_signing.signers.certificate import CertificateVerifier

        for c in args.certificate_chain:
            check_exists(c, "certificate file", "--certificate-chain")
        return CertificateVerifier.from_files(args.certificate_chain)
    if args.vault_transit:
        from kfp_gates.components.model_signing.signers.transit import TransitVerifier

        return TransitVerifier(vault_client(args), args.vault_transit, args.vault_mount, remote=args.transit_verify)
    if not args.sigstore_issuer:
        raise ConfigError("--sigstore-identity needs --sigstore-issuer", hint="e.g. https://accounts.google.com")
    from kfp_gates.components.model_signing.signers.sigstore import SigstoreVerifier

    return SigstoreVerifier(
        identity=args.sigstore_identity, oidc_issuer=args.sigstore_issuer, online=args.sigstore_online
    )


def run(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.model_signing.gate import GATE, run_verify_gate
    from kfp_gates.components.model_signing.hashing import total_size
    from kfp_gates.components.model_signing.progress import terminal_progress

    policy = load_policy(args)
    section = policy.gate(GATE).section
    check_exists(args.model, "model", "MODEL")
    check_exists(args.signature, "signature file", "--signature")
    for f in args.gate_result:
        check_exists(f, "gate result file", "--gate-result")
    require = list(dict.fromkeys([*section.require_gates, *split_csv(args.require_gates)]))  # type: ignore[attr-defined]
    verifier = _verifier(args)
    progress = None
    if sys.stderr.isatty():
        progress = terminal_progress(total_size(args.model, ()), "verifying")
    try:
        result = run_verify_gate(
            args.model,
            args.signature,
            verifier,
            GateSettings.from_effective(policy.gate(GATE)),
            require_gates=require,
            gate_result_files=args.gate_result,
            progress=progress,
        )
    finally:
        close_progress(progress)
    return emit([result], args)
