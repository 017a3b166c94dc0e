"""Report formats: SARIF 2.1.0 validates against the OASIS schema, CycloneDX 1.6 against its schema, no leaks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from kfp_gates.components.common.formats import render, render_sarif
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.dependency_scan.engine import scan_inputs
from kfp_gates.components.dependency_scan.sbom import render_cyclonedx
from kfp_gates.components.dependency_scan.trivy import scan_image

NOW = datetime(2024, 10, 20, tzinfo=UTC)
WAIVED = GatePolicy.parse("""apiVersion: kfp-gates/v1
kind: GatePolicy
gates:
  dependency_scan:
    waivers:
      - {id: CVE-2018-18074, reason: not reachable, owner: sec@example.com, expires: 2099-01-01}
""")


@pytest.fixture
def dep_result(write):
    p = write("requirements.txt", """\
--index-url https://builder:hunter2-token@mirror.example/simple
requests==2.19.0
apache-skywalking==8.0.0
git+https://github.com/org/repo@main#egg=thing
jinja2>=2
""")
    src = write("train.py", 'from transformers import AutoModel\nAutoModel.from_pretrained("org/m")\n')
    return scan_inputs([p, src], policy=WAIVED, now=NOW)


@pytest.fixture(scope="module")
def sarif_validator(data_dir_module):
    schema = json.loads((data_dir_module / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def data_dir_module():
    from .conftest import DATA

    return DATA


def test_sarif_validates_against_the_2_1_0_schema(dep_result, sarif_validator, data_dir) -> None:
    image = scan_image(report=data_dir / "trivy" / "debian-buster.json", now=NOW)
    doc = json.loads(render_sarif([dep_result, image]))
    errors = sorted(sarif_validator.iter_errors(doc), key=str)
    assert errors == []
    run = doc["runs"][0]
    results = {r["ruleId"]: r for r in run["results"]}
    assert results["PYSEC-2018-28"]["suppressions"][0]["status"] == "accepted"  # waived via its CVE alias
    region = results["PYSEC-2020-342"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3}
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["PYSEC-2020-342"]["properties"]["security-severity"] == "9.8"
    assert rules["PYSEC-2020-342"]["helpUri"] == "https://osv.dev/vulnerability/PYSEC-2020-342"


def test_sarif_schema_rejects_a_broken_document(sarif_validator) -> None:
    # the committed schema is a real one: it refuses what SARIF forbids
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{"level": "fatal"}]}]}
    assert len(list(sarif_validator.iter_errors(bad))) >= 2


def test_cyclonedx_sbom_validates_and_links_vulnerabilities(dep_result) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = render_cyclonedx(dep_result)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    purls = {c["purl"] for c in bom["components"]}
    assert "pkg:pypi/requests@2.19.0" in purls and "pkg:pypi/apache-skywalking@8.0.0" in purls
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    assert vulns["PYSEC-2020-342"]["ratings"][0]["score"] == 9.8
    assert vulns["PYSEC-2018-28"]["affects"][0]["ref"] == "pkg:requests@2.19.0"
    assert "waived" in vulns["PYSEC-2018-28"]["analysis"]["detail"]
    assert {r["id"] for r in vulns["PYSEC-2018-28"]["references"]} >= {"CVE-2018-18074"}


def test_image_sbom_validates(data_dir) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    r = scan_image(report=data_dir / "trivy" / "pip.json", now=NOW)
    text = render_cyclonedx(r)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert len(json.loads(text)["components"]) == 7


@pytest.mark.parametrize("fmt", ["json", "table", "markdown", "html", "sarif"])
def test_no_credentials_in_any_output(dep_result, fmt: str) -> None:
    text = render([dep_result], fmt)
    assert "hunter2" not in text and "builder:" not in text
    assert "PYSEC-2018-28" in text
    assert "hunter2" not in render_cyclonedx(dep_result)
