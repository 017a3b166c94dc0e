"""Demo of the dependency and image gates on bundled samples (offline, embedded PyPA advisory snapshot)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult

from ..demo import SAMPLES, DemoStep

HERE = SAMPLES / "dependency_scan"


def _scan(name: str) -> Callable[[GatePolicy, Path], GateResult]:
    def run(policy: GatePolicy, tmp: Path) -> GateResult:
        from kfp_gates.components.dependency_scan.engine import scan_inputs

        return scan_inputs([HERE / name], policy=policy)

    return run


def _image(policy: GatePolicy, tmp: Path) -> GateResult:
    from kfp_gates.components.dependency_scan.trivy import scan_image

    return scan_image(report=HERE / "trivy-debian-buster.json", policy=policy)


STEPS: list[DemoStep] = [
    DemoStep("dependency scan: requirements with known-vulnerable pins", "dependency_scan",
             _scan("requirements-vulnerable.txt"), "fail"),
    # No known advisories, but the embedded snapshot is months old and the sample policy sets no
    # max_advisory_age: the result says so (KFPG-ADV-OLD, low), so the verdict is warn, not pass.
    DemoStep("dependency scan: pinned requirements without known advisories (old embedded advisory data)",
             "dependency_scan", _scan("requirements-clean.txt"), "warn"),
    DemoStep("image scan: Trivy report of a Debian 10 image (critical libidn2 CVE)", "image_scan", _image, "fail"),
]
