"""CycloneDX 1.6 SBOM with vulnerabilities, from a dependency or image gate result (cyclonedx-python-lib).

Components come from ``result.metadata["components"]`` (every package with a
known version); vulnerabilities from the advisory findings (``data.package``
and ``data.installed_version``), each pointing at its component. A waived
finding carries its waiver as an analysis (state ``exploitable`` is not
claimed; the waiver reason is the detail).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kfp_gates.components.common.result import Finding, GateResult

_SOURCES = {"PYSEC": ("OSV", "https://osv.dev/vulnerability/"), "GHSA": ("GitHub", "https://github.com/advisories/"),
            "CVE": ("NVD", "https://nvd.nist.gov/vuln/detail/")}


def _source(vid: str) -> Any:
    from cyclonedx.model.vulnerability import VulnerabilitySource

    prefix = vid.split("-", 1)[0]
    name, base = _SOURCES.get(prefix, ("OSV", "https://osv.dev/vulnerability/"))
    from cyclonedx.model import XsUri

    return VulnerabilitySource(name=name, url=XsUri(base + vid))


def _purl(component: dict[str, Any]) -> Any:
    from packageurl import PackageURL

    text = component.get("purl") or ""
    if text:
        try:
            return PackageURL.from_string(text)
        except ValueError:
            pass
    return PackageURL(type="pypi", name=str(component["name"]).lower(), version=str(component["version"]))


def render_cyclonedx(result: GateResult) -> str:
    """The SBOM of ``result`` as CycloneDX 1.6 JSON text."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.vulnerability import (
        BomTarget,
        VulnerabilityAnalysis,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
    )
    from cyclonedx.output.json import JsonV1Dot6

    bom = Bom()
    bom.metadata.component = Component(name=result.subject.name, type=ComponentType.APPLICATION,
                                       bom_ref=f"subject:{(result.subject.sha256 or 'unread')[:16]}")
    refs: dict[tuple[str, str], Component] = {}

    def component(name: str, version: str, purl: str | None = None) -> Component:
        key = (name.lower(), version)
        if key not in refs:
            c = Component(name=name, version=version, type=ComponentType.LIBRARY,
                          purl=_purl({"name": name, "version": version, "purl": purl}),
                          bom_ref=f"pkg:{name.lower()}@{version}")
            refs[key] = c
            bom.components.add(c)
        return refs[key]

    for c in result.metadata.get("components") or []:
        component(str(c["name"]), str(c["version"]), c.get("purl"))

    for f in _advisory_findings(result):
        pkg, ver = str(f.data["package"]), str(f.data["installed_version"])
        target = component(pkg, ver, f.data.get("purl"))
        rating_kw: dict[str, Any] = {"severity": VulnerabilitySeverity(f.severity.value)}
        if f.data.get("cvss_score") is not None:
            rating_kw["score"] = Decimal(str(f.data["cvss_score"]))
            vector = f.data.get("cvss_vector")
            if vector:
                rating_kw["vector"] = vector
                rating_kw["method"] = (VulnerabilityScoreSource.CVSS_V3_1 if str(vector).startswith("CVSS:3.1")
                                       else VulnerabilityScoreSource.CVSS_V3)
        fixed = f.data.get("fixed_versions") or []
        from cyclonedx.model.vulnerability import Vulnerability

        v = Vulnerability(
            bom_ref=f"{f.id}:{pkg.lower()}@{ver}",
            id=f.id,
            source=_source(f.id),
            ratings=[VulnerabilityRating(**rating_kw)],
            description=f.message,
            recommendation=f"Upgrade {pkg} to {fixed[0]} or later" if fixed else None,
            references=[VulnerabilityReference(id=a, source=_source(a)) for a in f.data.get("aliases") or []],
            affects=[BomTarget(ref=str(target.bom_ref))],
            analysis=VulnerabilityAnalysis(detail=f"waived: {f.waiver.reason} (owner {f.waiver.owner}, "
                                                  f"expires {f.waiver.expires})") if f.waiver else None,
        )
        bom.vulnerabilities.add(v)
    bom.register_dependency(bom.metadata.component, list(refs.values()))
    return str(JsonV1Dot6(bom).output_as_string(indent=2)) + "\n"


def _advisory_findings(result: GateResult) -> list[Finding]:
    return [f for f in result.findings if "package" in f.data and "installed_version" in f.data
            and not f.id.startswith("KFPG-")]
