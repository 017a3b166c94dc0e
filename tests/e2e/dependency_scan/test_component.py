"""``scan_dependencies`` in a real kfp.local run: report, then enforce."""

import json
from pathlib import Path

import pytest


def test_vulnerable_requirements_report_fail_and_enforce_stops(kfp_local: Path) -> None:
    from kfp import dsl

    from kfp_gates.components import enforce_verdict, scan_dependencies

    @dsl.pipeline(name="deps-gate")
    def gated(reqs: str):
        scan = scan_dependencies(requirements=reqs)
        enforce_verdict(gate="dependency_scan", verdict=scan.outputs["Output"])

    with pytest.raises(RuntimeError):
        gated(reqs="requests==2.19.0\n")
    runs = sorted(kfp_local.glob("deps-gate-*"))
    assert runs, "the pipeline root holds the run's artifacts"
    result = json.loads(next(runs[-1].glob("scan-dependencies/result")).read_text())
    assert result["decision"] == "fail" and result["gate"] == "dependency_scan"
    assert any(f["id"] == "PYSEC-2018-28" for f in result["findings"])
    sarif = json.loads(next(runs[-1].glob("scan-dependencies/sarif")).read_text())
    assert sarif["version"] == "2.1.0"
    assert "upgrade to 2.31.0" in sarif["runs"][0]["results"][0]["message"]["text"]
    markdown = next(runs[-1].glob("scan-dependencies/markdown_report")).read_text()
    assert "[PYSEC-2018-28](https://osv.dev/vulnerability/PYSEC-2018-28)" in markdown
    assert "| requests | 2.19.0 | upgrade to 2.31.0 fixes 2 advisories |" in markdown
    page = next(runs[-1].glob("scan-dependencies/html_report")).read_text()
    assert "<a href='https://nvd.nist.gov/vuln/detail/CVE-2018-18074'" in page
    assert result["metadata"]["upgrades"][0]["fix_version"] == "2.31.0"


def test_clean_requirements_only_warn_about_old_advisory_data(kfp_local: Path) -> None:
    from kfp import dsl

    from kfp_gates.components import scan_dependencies

    @dsl.pipeline(name="deps-clean")
    def clean(reqs: str) -> str:
        return scan_dependencies(requirements=reqs).outputs["Output"]

    # No advisory matches; the only finding is KFPG-ADV-OLD (low): the embedded snapshot is months old.
    assert clean(reqs="requests==2.32.3\n").output == "warn"


def test_image_gate_on_a_trivy_report_artifact(kfp_local: Path) -> None:
    from kfp import dsl

    from kfp_gates.components import scan_container_image

    report = Path(__file__).resolve().parents[2] / "data" / "dependency_scan" / "trivy" / "debian-buster.json"

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def fetch_report(text: str, out: dsl.Output[dsl.Artifact]) -> None:
        with open(out.path, "w", encoding="utf-8") as fh:
            fh.write(text)

    @dsl.pipeline(name="image-gate")
    def image_gate(text: str) -> str:
        fetched = fetch_report(text=text)
        return scan_container_image(trivy_report=fetched.outputs["out"]).outputs["Output"]

    assert image_gate(text=report.read_text()).output == "fail"  # CVE-2019-18224 is critical
