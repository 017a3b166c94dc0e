"""CVSS v4.0: an advisory that carries only a v4 vector is scored (by the ``cvss`` library), not defaulted."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
import yaml

from kfp_gates.components.common.severity import Severity
from kfp_gates.components.dependency_scan.cvss import advisory_severity, cvss4_base_score, score
from kfp_gates.components.dependency_scan.engine import scan_inputs
from kfp_gates.components.dependency_scan.model import Advisory

NOW = datetime(2024, 10, 20, tzinfo=UTC)
# Base vectors with their scores from the FIRST CVSS v4.0 calculator (https://www.first.org/cvss/calculator/4.0).
V4_CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3
V4_ALL_HIGH = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"  # 10.0
V4_NO_IMPACT = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N"  # 0.0


@pytest.mark.parametrize(("vector", "expected"), [(V4_CRITICAL, 9.3), (V4_ALL_HIGH, 10.0), (V4_NO_IMPACT, 0.0)])
def test_v4_base_scores(vector: str, expected: float) -> None:
    assert cvss4_base_score(vector) == expected
    assert score("CVSS_V4", vector) == expected


@pytest.mark.parametrize("vector", [
    "CVSS:4.0/AV:N/AC:L",  # base metrics missing
    "CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # no such AV value
    "garbage",
])
def test_malformed_v4_vector_is_not_scored(vector: str) -> None:
    assert score("CVSS_V4", vector) is None
    with pytest.raises(ValueError):
        cvss4_base_score(vector)


def test_v4_only_advisory_gets_its_score_not_the_default() -> None:
    adv = Advisory(id="GHSA-test-v4only", severity=(("CVSS_V4", V4_CRITICAL),))
    assert advisory_severity(adv) == (Severity.CRITICAL, 9.3, V4_CRITICAL, "cvss")


def test_highest_of_v3_and_v4_wins() -> None:
    v3_medium = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"  # 5.3
    adv = Advisory(id="GHSA-test-both", severity=(("CVSS_V3", v3_medium), ("CVSS_V4", V4_ALL_HIGH)))
    assert advisory_severity(adv)[:2] == (Severity.CRITICAL, 10.0)


def test_a_scan_scores_a_v4_only_record(tmp_path, data_dir, write) -> None:
    # The real PyPA record for pillow (PYSEC-2023-175, no severity of its own) given the v4 vector a GHSA
    # record would carry: the finding is critical with the v4 score, not "high (default)".
    adv_dir = tmp_path / "osv"
    shutil.copytree(data_dir / "advisories" / "pillow", adv_dir / "pillow")
    rec_path = adv_dir / "pillow" / "PYSEC-2023-175.yaml"
    rec = yaml.safe_load(rec_path.read_text())
    assert not rec.get("severity")
    rec["severity"] = [{"type": "CVSS_V4", "score": V4_CRITICAL}]
    rec_path.write_text(yaml.safe_dump(rec))
    req = write("requirements.txt", "pillow==9.5.0\n")

    result = scan_inputs([req], advisories=adv_dir, now=NOW)
    (finding,) = [f for f in result.findings if f.id == "PYSEC-2023-175"]
    assert finding.severity is Severity.CRITICAL
    assert finding.data["cvss_score"] == 9.3
    assert finding.data["cvss_vector"] == V4_CRITICAL
    assert finding.data["severity_source"] == "cvss"
