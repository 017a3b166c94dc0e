"""The dependency gate's own reports: upgrade advice first, advisories grouped by package, ids as links,
"unknown (treated as high)" for the fail-closed default severity; SARIF still valid 2.1.0."""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import UTC, datetime

import jsonschema
import pytest
import yaml

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.publish import publish
from kfp_gates.components.dependency_scan.engine import scan_inputs
from kfp_gates.components.dependency_scan.report import (
    advisory_url,
    render_html,
    render_markdown,
    render_sarif,
    render_table,
)

NOW = datetime(2024, 10, 20, tzinfo=UTC)
WAIVED = GatePolicy.parse("""apiVersion: kfp-gates/v1
kind: GatePolicy
gates:
  dependency_scan:
    waivers:
      - {id: CVE-2019-10906, reason: sandbox not used, owner: sec@example.com, expires: 2099-01-01}
""")
REQS = "requests==2.19.0\njinja2==2.10\npy==1.11.0\nflask>=0.1\napache-skywalking==8.0.0\n"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    req = tmp_path_factory.mktemp("r") / "requirements.txt"
    req.write_text(REQS)
    return scan_inputs([req], policy=WAIVED, now=NOW)


def _package_block(md: str, heading: str) -> str:
    start = md.index(f"#### {heading}")
    ends = [i for i in (md.find("\n#### ", start + 1), md.find("\n### ", start + 1)) if i != -1]
    return md[start:min(ends)]


def test_links_per_database() -> None:
    assert advisory_url("PYSEC-2018-28") == "https://osv.dev/vulnerability/PYSEC-2018-28"
    assert advisory_url("GHSA-x84v-xcm2-53pg") == "https://github.com/advisories/GHSA-x84v-xcm2-53pg"
    assert advisory_url("CVE-2018-18074") == "https://nvd.nist.gov/vuln/detail/CVE-2018-18074"
    assert advisory_url("SNYK-PYTHON-JINJA2-1012994") is None  # not served by OSV: text, not a dead link
    for crafted in ("PYSEC-1)](javascript:alert(1)", "CVE-1'><script>", "javascript:alert(1)", ""):
        assert advisory_url(crafted) is None


def test_markdown_upgrades_come_first_then_one_block_per_package(result) -> None:
    md = render_markdown(result)
    upgrades, by_package, other = md.index("### Upgrades"), md.index("### Vulnerabilities by package"), md.index(
        "### Other findings")
    assert upgrades < by_package < other
    assert "| requests | 2.19.0 | upgrade to 2.31.0 fixes 2 advisories |" in md
    py_link = "[PYSEC-2022-42969](https://osv.dev/vulnerability/PYSEC-2022-42969)"
    assert f"| py | 1.11.0 | no fixed version for {py_link} |" in md
    for heading in ("#### requests 2.19.0: 2 advisories", "#### jinja2 2.10: 2 advisories",
                    "#### py 1.11.0: 1 advisory", "#### apache-skywalking 8.0.0: 1 advisory"):
        assert heading in md
    block = _package_block(md, "requests 2.19.0")
    assert "[PYSEC-2018-28](https://osv.dev/vulnerability/PYSEC-2018-28)" in block
    assert "[CVE-2018-18074](https://nvd.nist.gov/vuln/detail/CVE-2018-18074)" in block
    assert "[GHSA-x84v-xcm2-53pg](https://github.com/advisories/GHSA-x84v-xcm2-53pg)" in block
    assert "PYSEC-2019-217" not in block  # jinja2's advisory is in jinja2's block
    # KFPG rules stay in their own table, after the packages
    assert md.index("KFPG-DEP-RANGE-VULNERABLE") > other


def test_markdown_severities_are_honest(result) -> None:
    md = render_markdown(result)
    rows = [line for line in md.splitlines() if line.startswith("| ") and len(line.split(" | ")) == 5]
    assert rows
    # PyPA records without CVSS: never a bare "high"
    requests_row = next(r for r in rows if r.split(" | ")[1].startswith("[PYSEC-2018-28]"))
    assert requests_row.startswith("| unknown \\(treated as high\\) |")
    # apache-skywalking's record has a CVSS v3 vector: its computed severity, no "unknown"
    skywalking_row = next(r for r in rows if r.split(" | ")[1].startswith("[PYSEC-2020-342]"))
    assert skywalking_row.startswith("| critical |")
    assert "fail closed" in md and "severity\\_source" in md


def test_waived_advisory_is_marked_in_its_package_block(result) -> None:
    md = render_markdown(result)
    assert "[PYSEC-2019-217](https://osv.dev/vulnerability/PYSEC-2019-217) (waived)" in md


def test_html_has_links_groups_and_the_upgrade_summary(result) -> None:
    page = render_html(result)
    assert page.index("<h3>Upgrades</h3>") < page.index("<h3>Vulnerabilities by package</h3>")
    assert "<td>requests</td><td>2.19.0</td><td>upgrade to 2.31.0 fixes 2 advisories</td>" in page
    assert "<h4>requests 2.19.0: 2 advisories</h4>" in page
    for url in ("https://osv.dev/vulnerability/PYSEC-2018-28", "https://nvd.nist.gov/vuln/detail/CVE-2018-18074",
                "https://github.com/advisories/GHSA-x84v-xcm2-53pg"):
        assert f"<a href='{url}' rel='noopener noreferrer' target='_blank'>" in page
    assert "<td>unknown (treated as high)</td>" in page
    assert "<script" not in page


def test_reports_escape_a_crafted_advisory(tmp_path, data_dir, write) -> None:
    # A real record (wagtail PYSEC-2021-114) whose id, aliases and summary an attacker controls.
    src = tmp_path / "osv" / "wagtail"
    shutil.copytree(data_dir / "advisories" / "wagtail", src)
    path = next(src.glob("*.yaml"))
    rec = yaml.safe_load(path.read_text())
    rec["id"] = "PYSEC-1)](javascript:alert(1))"
    rec["aliases"] = ["CVE-2'><img src=x onerror=alert(1)>"]
    rec["summary"] = "<script>alert(1)</script> [x](javascript:alert(2))"
    path.write_text(yaml.safe_dump(rec))
    version = next(v for v in rec["affected"][0]["versions"] if re.fullmatch(r"[0-9.]+", v))
    res = scan_inputs([write("r.txt", f"wagtail=={version}\n")], advisories=tmp_path / "osv", now=NOW)
    assert any(f.id == rec["id"] for f in res.findings)
    page = render_html(res)
    assert "<script>" not in page and "<img" not in page and "javascript:" not in page.replace(
        html.escape("javascript:"), "")
    assert "href='javascript" not in page
    md = render_markdown(res)
    assert "](javascript" not in md and "<script>" not in md and "<img" not in md


def test_table_shows_upgrades_and_unknown_severity(result) -> None:
    text = render_table([result])
    lines = text.splitlines()
    assert lines[0].startswith("FAIL  dependency_scan")
    assert lines[1] == "  upgrades:"
    assert "    requests 2.19.0: upgrade to 2.31.0 fixes 2 advisories" in lines
    assert any(line.startswith("  unknown (treated as high) PYSEC-2018-28") for line in lines)
    assert any(line.startswith("  critical PYSEC-2020-342") for line in lines)


@pytest.fixture(scope="module")
def sarif_validator():
    from .conftest import DATA

    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_sarif_names_the_fix_and_validates(result, sarif_validator) -> None:
    doc = json.loads(render_sarif([result]))
    assert sorted(sarif_validator.iter_errors(doc), key=str) == []
    run = doc["runs"][0]
    res = {r["ruleId"]: r for r in run["results"]}
    msg = res["PYSEC-2018-28"]["message"]["text"]
    assert "for requests 2.19.0: upgrade to 2.31.0 fixes 2 advisories" in msg
    assert msg.endswith("severity unknown (treated as high)")
    assert res["PYSEC-2018-28"]["properties"] == {"severity": "high", "severity_source": "default",
                                                  "fix_version": "2.31.0"}
    assert "no fixed version for PYSEC-2022-42969" in res["PYSEC-2022-42969"]["message"]["text"]
    assert "fix_version" not in res["PYSEC-2022-42969"]["properties"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    help_ = rules["PYSEC-2018-28"]["help"]
    assert help_["text"].startswith("PYSEC-2018-28 (CVE-2018-18074, GHSA-x84v-xcm2-53pg) affects requests; "
                                    "fixed in: 2.20.0. Severity unknown (treated as high): ")
    assert "(https://nvd.nist.gov/vuln/detail/CVE-2018-18074)" in help_["markdown"]
    assert rules["PYSEC-2020-342"]["help"]["text"].endswith(
        "Severity critical: CVSS base score 9.8 (CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H).")
    # KFPG rule results are untouched
    assert "upgrade" not in res["KFPG-DEP-UNPINNED"]["message"]["text"]


def test_publish_with_the_gate_renderers_writes_the_gate_reports(result, tmp_path) -> None:
    # what the scan_dependencies component passes to publish
    publish(result, result_path=str(tmp_path / "r.json"), html_path=str(tmp_path / "r.html"),
            markdown_path=str(tmp_path / "r.md"), html_renderer=render_html, markdown_renderer=render_markdown)
    assert "### Upgrades" in (tmp_path / "r.md").read_text()
    assert "<h3>Upgrades</h3>" in (tmp_path / "r.html").read_text()


def test_component_uses_the_gate_renderers() -> None:
    import inspect

    from kfp_gates.components.dependency_scan import component

    body = inspect.getsource(component.scan_dependencies.python_func)
    assert "html_renderer=render_html" in body and "markdown_renderer=render_markdown" in body
    assert "dependency_scan.report import" in body


def test_cli_renders_the_gate_report(cli, write, tmp_path) -> None:
    req = write("requirements.txt", "requests==2.19.0\n")
    r = cli("scan-deps", str(req), "--format", "markdown", "--no-cache")
    assert r.code == 1
    assert "| requests | 2.19.0 | upgrade to 2.31.0 fixes 2 advisories |" in r.out
    r = cli("scan-deps", str(req), "--format", "html", "-o", str(tmp_path / "out.html"), "--no-cache")
    assert "  upgrades:" in r.out and "unknown (treated as high)" in r.out
    assert "https://nvd.nist.gov/vuln/detail/CVE-2018-18074" in (tmp_path / "out.html").read_text()


def test_a_result_without_upgrades_metadata_still_renders(result) -> None:
    # a result JSON written by an older kfp-gates has no metadata.upgrades: the report says so, it does not guess
    old = result.model_copy(update={"metadata": {k: v for k, v in result.metadata.items() if k != "upgrades"}})
    md = render_markdown(old)
    assert "| requests | 2.19.0 | no upgrade advice in this result" in md
    assert "#### requests 2.19.0: 2 advisories" in md
    json.loads(render_sarif([old]))
