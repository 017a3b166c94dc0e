"""KFP component ``scan_dependencies``: report, then enforce.

The task writes the result JSON, an HTML and a Markdown report, SARIF, a
CycloneDX SBOM and metrics, returns the verdict and succeeds; follow it with
``enforce_verdict`` (or a ``dsl.If`` on the verdict) to stop the pipeline.
Bad input (unreadable requirements, empty advisory data) fails the task:
a gate that cannot decide never passes.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def scan_dependencies(
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    sarif: dsl.Output[dsl.Artifact],
    sbom: dsl.Output[dsl.Artifact],
    sources: dsl.Input[dsl.Artifact] = None,
    requirements: str = "",
    policy: str = "",
    tier: str = "standard",
    advisories: str = "",
    scan_environment: bool = False,
    fail_on: str = "",
) -> str:
    """Scan dependencies offline against OSV advisories and the policy; return 'pass', 'warn' or 'fail'.

    ``sources`` is a file or directory (requirements, lock files, compiled
    pipelines, Python sources); ``requirements`` is requirements-file text;
    ``scan_environment`` also scans this task's own site-packages.
    ``advisories`` is a path inside the container (a mounted OSV directory,
    zip or compact snapshot); empty means the snapshot embedded in kfp-gates.
    """
    import os
    import site
    import tempfile

    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.dependency_scan.engine import scan_inputs
    from kfp_gates.components.dependency_scan.report import render_html, render_markdown, render_sarif
    from kfp_gates.components.dependency_scan.sbom import render_cyclonedx

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    paths = []
    workdir = tempfile.mkdtemp(prefix="kfp-gates-deps-")
    if requirements.strip():
        req_path = os.path.join(workdir, "requirements.txt")
        with open(req_path, "w", encoding="utf-8") as fh:
            fh.write(requirements)
        paths.append(req_path)
    if sources is not None and sources.path and os.path.exists(sources.path):
        paths.append(sources.path)
    envs = [p for p in site.getsitepackages() if os.path.isdir(p)] if scan_environment else []
    gate_result = scan_inputs(
        paths, envs=envs, policy=gate_policy, advisories=advisories or None, fail_on=fail_on or None, cache_dir=None
    )

    with open(sarif.path, "w", encoding="utf-8") as fh:
        fh.write(render_sarif([gate_result]))
    with open(sbom.path, "w", encoding="utf-8") as fh:
        fh.write(render_cyclonedx(gate_result))
    inv = gate_result.metadata.get("inventory", {})
    return publish(
        gate_result,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics={
            "dependencies": inv.get("dependencies", 0),
            "unverifiable": inv.get("unverifiable", 0),
            "advisory_age_days": gate_result.metadata["advisory_source"].get("age_days") or -1,
        },
        result_metadata=result.metadata,
        title="kfp-gates dependency scan",
        # upgrade advice first, advisories grouped by package with CVE/GHSA links, honest "unknown" severities
        html_renderer=render_html,
        markdown_renderer=render_markdown,
    )


@gate_component
def scan_container_image(
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    sarif: dsl.Output[dsl.Artifact],
    sbom: dsl.Output[dsl.Artifact],
    trivy_report: dsl.Input[dsl.Artifact] = None,
    image: str = "",
    trivy_db: str = "",
    policy: str = "",
    tier: str = "standard",
    fail_on: str = "",
) -> str:
    """Gate a container image on Trivy results; return 'pass', 'warn' or 'fail'.

    Give ``trivy_report`` (the JSON of ``trivy image --format json``) or
    ``image`` (scanned with the trivy binary of the component image, offline,
    against ``trivy_db``). A missing or invalid report fails the task.
    """
    from kfp_gates.components.common.formats import render_sarif
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.dependency_scan.sbom import render_cyclonedx
    from kfp_gates.components.dependency_scan.trivy import scan_image

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    report_path = trivy_report.path if trivy_report is not None and trivy_report.path else None
    gate_result = scan_image(
        image=None if report_path else image or None,
        report=report_path,
        policy=gate_policy,
        fail_on=fail_on or None,
        trivy_db=trivy_db or None,
    )

    with open(sarif.path, "w", encoding="utf-8") as fh:
        fh.write(render_sarif([gate_result]))
    with open(sbom.path, "w", encoding="utf-8") as fh:
        fh.write(render_cyclonedx(gate_result))
    return publish(
        gate_result,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        result_metadata=result.metadata,
        title="kfp-gates image scan",
    )
