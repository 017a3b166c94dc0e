"""Fuzzed inputs: lock files and Trivy reports either parse or raise ConfigError (exit 2), nothing else."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.dependency_scan.parsers import parse_poetry_lock, parse_pylock, parse_uv_lock
from kfp_gates.components.dependency_scan.trivy import evaluate_report, parse_report

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6)
KEYS = ["SchemaVersion", "Results", "Vulnerabilities", "VulnerabilityID", "PkgName", "InstalledVersion",
        "FixedVersion", "Severity", "Secrets", "Misconfigurations", "Packages", "Target", "Metadata", "CVSS"]
docs = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5), max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(docs)
def test_trivy_reports(doc) -> None:
    if isinstance(doc, dict) and doc.get("SchemaVersion") is None and len(doc) % 2:
        doc["SchemaVersion"] = 2  # reach deeper than the schema check more often
    try:
        report = parse_report(json.dumps(doc).encode(), "fuzz.json")
    except ConfigError:
        return
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.dependency_scan.trivy import ImageOptions

    try:
        evaluate_report(report, settings=GateSettings(), options=ImageOptions())
    except ConfigError:
        pass


toml_lines = st.lists(st.sampled_from([
    '[[package]]', '[[packages]]', 'name = "x"', 'version = "1.0"', 'version = 1', 'lock-version = "1.0"',
    '[metadata]', 'source = { registry = "https://pypi.org/simple" }', 'source = { git = "https://g/x#abc" }',
    'files = [{file = "x.whl", hash = "sha256:00"}]', '[package.source]', 'type = "git"', 'url = "u"',
    '[packages.vcs]', 'commit-id = "0"', 'name = 3', '= broken', 'version = "1"',
]), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(toml_lines)
def test_lock_files(tmp_path, lines) -> None:
    text = "\n".join(lines) + "\n"
    for name, parser in (("pylock.toml", parse_pylock), ("uv.lock", parse_uv_lock), ("poetry.lock", parse_poetry_lock)):
        p = tmp_path / name
        p.write_text(text)
        try:
            parser(p)
        except ConfigError:
            pass
