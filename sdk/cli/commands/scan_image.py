"""``kfp-gates scan-image``: container image vulnerabilities from Trivy, under the kfp-gates policy."""

from __future__ import annotations

import argparse

from .._common import FORMATS, add_output_options, add_policy_options, load_policy
from .scan_deps import SEVERITIES, emit_with_sbom

EPILOG = """examples:
  kfp-gates scan-image --trivy-report report.json            # a report from `trivy image --format json`
  kfp-gates scan-image --trivy-db /var/lib/trivy IMAGE@sha256:...   # run trivy offline (needs trivy on PATH)

exit codes:
  0  passed or warnings only     1  the gate blocked
  2  missing/invalid report, trivy not on PATH     3  trivy failed or timed out
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan-image",
        help="gate a container image on a Trivy JSON report (or run trivy offline)",
        description="Apply the image_scan policy (threshold, waivers, staleness, digest pinning) to Trivy "
        "results. Secrets and failed misconfiguration checks in the report are findings too.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image reference to scan with the local trivy")
    p.add_argument("--trivy-report", metavar="FILE", help="Trivy JSON report to ingest instead of running trivy")
    p.add_argument("--trivy-db", metavar="DIR", help="offline Trivy cache directory (default: the policy's)")
    p.add_argument("--ignore-unfixed", action="store_true", default=None,
                   help="skip vulnerabilities without a fixed version")
    p.add_argument("--fail-on", choices=SEVERITIES, help="lowest severity that fails (default: the policy's)")
    p.add_argument("--sbom", metavar="FILE", help="also write a CycloneDX 1.6 SBOM with vulnerabilities")
    add_output_options(p, (*FORMATS, "cyclonedx"))
    add_policy_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.dependency_scan.trivy import scan_image

    if bool(args.image) == bool(args.trivy_report):
        raise ConfigError("give exactly one of IMAGE or --trivy-report FILE",
                          hint="`kfp-gates scan-image --help` shows both forms")
    policy = load_policy(args)
    result = scan_image(
        image=args.image,
        report=args.trivy_report,
        policy=policy,
        fail_on=args.fail_on,
        trivy_db=args.trivy_db,
        ignore_unfixed=args.ignore_unfixed,
    )
    return emit_with_sbom(result, args)
