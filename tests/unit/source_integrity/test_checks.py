"""sdk.checks: runtime pip installs, unpinned images, the lock, and require_reviewed for secure()."""

# No `from __future__ import annotations`: this module defines KFP components.

import os
from pathlib import Path

import pytest
from kfp import compiler, dsl

from kfp_gates.components.common.errors import GateBlocked
from kfp_gates.components.common.kfp_ir import load_pipeline
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision, Severity
from kfp_gates.components.source_integrity import create_lock
from kfp_gates.components.source_integrity import lock as lk
from kfp_gates.sdk import checks

from .sample_pipeline import BUNDLED, compile_to

IMAGE_PINNED = "python@sha256:" + "1" * 64


@dsl.component(base_image="python:3.11", packages_to_install=["requests==2.31.0"])
def fetch(url: str) -> str:
    import requests

    return requests.get(url, timeout=5).text[:10]


@dsl.component(base_image="python:3.11")
def plain(x: int) -> int:
    return x + 1


@dsl.pipeline(name="unsafe")
def unsafe_pipeline(url: str = "https://example.com") -> None:
    fetch(url=url)
    plain(x=1)


@pytest.fixture(scope="module")
def unsafe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("unsafe") / "unsafe.yaml"
    compiler.Compiler().compile(unsafe_pipeline, str(path))
    return path


def test_bundled_sample_is_up_to_date(tmp_path):
    fresh = compile_to(tmp_path / "fresh.yaml").read_text()
    if os.environ.get("KFP_GATES_UPDATE_GOLDEN") == "1":
        BUNDLED.write_text(fresh)
    assert BUNDLED.read_text() == fresh, "regenerate with KFP_GATES_UPDATE_GOLDEN=1"


def test_runtime_pip_installs_are_flagged_per_executor(unsafe):
    findings = checks.runtime_install_findings(load_pipeline(unsafe))
    by_exec = {f.data["executor"]: f for f in findings}
    assert set(by_exec) == {"exec-fetch", "exec-plain"}  # install_kfp_package=True installs kfp in both
    assert "requests==2.31.0" in by_exec["exec-fetch"].data["requirements"]
    assert any(r.startswith("kfp==") for r in by_exec["exec-plain"].data["requirements"])
    assert all(f.severity is Severity.HIGH for f in findings)


def test_tag_only_images_are_flagged(unsafe):
    findings = checks.image_pin_findings(load_pipeline(unsafe))
    assert {(f.data["executor"], f.data["image"]) for f in findings} == {
        ("exec-fetch", "python:3.11"), ("exec-plain", "python:3.11")}
    relaxed = checks.image_pin_findings(load_pipeline(unsafe), required=False)
    assert {f.severity for f in relaxed} == {Severity.LOW}


def test_sample_pipeline_is_clean(sample):
    assert checks.runtime_install_findings(sample) == []
    assert checks.image_pin_findings(sample) == []


def test_check_pipeline_results(unsafe, sample):
    policy = GatePolicy.default("standard")
    [hygiene] = checks.check_pipeline(load_pipeline(unsafe), policy)
    assert hygiene.gate == checks.CHECKS_GATE and hygiene.decision is Decision.FAIL
    assert {f.id for f in hygiene.findings} == {checks.RUNTIME_INSTALL, checks.UNPINNED_IMAGE}
    results = checks.check_pipeline(sample, policy, lock=create_lock(sample), lock_path="components.lock")
    assert [(r.gate, r.decision) for r in results] == [
        (checks.CHECKS_GATE, Decision.PASS), ("source_integrity", Decision.PASS)]
    assert results[0].subject == results[1].subject


def test_check_waivers_come_from_the_dependency_gate(unsafe):
    policy = GatePolicy.parse(
        "tier: standard\ngates:\n  dependency_scan:\n    require_image_digest: false\n    waivers:\n"
        "      - {id: 'KFPG-CHECK-RUNTIME-INSTALL:exec-plain', reason: kfp only, owner: me, expires: 2999-01-01}\n"
        "      - {id: 'KFPG-CHECK-RUNTIME-INSTALL:exec-fetch', reason: legacy, owner: me, expires: 2999-01-01}\n"
        "      - {id: PYSEC-2000-1, reason: not ours, owner: me, expires: 2999-01-01}\n"
    )
    [result] = checks.check_pipeline(load_pipeline(unsafe), policy)
    assert result.decision is Decision.WARN  # only low (unpinned, not required) findings remain
    assert all(f.waived for f in result.findings if f.id == checks.RUNTIME_INSTALL)
    assert "KFPG-WAIVER-UNUSED" not in {f.id for f in result.findings}  # PYSEC waiver is not ours


def test_require_reviewed_blocks_an_edited_pipeline(sample, edited):
    lock = create_lock(sample)
    checks.require_reviewed(sample, lock)  # untouched: no error

    def edit(doc):
        c = doc["deploymentSpec"]["executors"]["exec-prepare-data"]["container"]
        c["command"] = [p.replace("2 * i + 1", "2 * i + 2") for p in c["command"]]

    with pytest.raises(GateBlocked) as exc:
        checks.require_reviewed(edited(edit), lock)
    assert "exec-prepare-data" in exc.value.message and exc.value.exit_code == 1


def test_check_text_on_yaml_text(sample):
    results = checks.check_text(BUNDLED.read_text(), GatePolicy.default(), lock=create_lock(sample))
    assert [r.decision for r in results] == [Decision.PASS, Decision.PASS]
    assert lk.DAG_CHANGED not in {f.id for r in results for f in r.findings}


@dsl.pipeline(name="gated")
def gated_pipeline(signers: str) -> None:
    from kfp_gates.components import enforce_verdict, verify_source
    from kfp_gates.components.source_integrity.component import verify_source as direct

    assert verify_source is direct
    repo = dsl.importer(artifact_uri="gs://bucket/repo", artifact_class=dsl.Artifact)
    gate = verify_source(repo=repo.output, allowed_signers=signers)
    enforce_verdict(gate="source_integrity", verdict=gate.outputs["Output"])


def test_our_own_gate_components_pass_the_checks_only_with_a_real_image_digest(tmp_path):
    from kfp_gates.components._image import IMAGE

    path = tmp_path / "gated.yaml"
    compiler.Compiler().compile(gated_pipeline, str(path))
    pipeline = load_pipeline(path)
    assert {e.kind for e in pipeline.executors.values()} == {"container", "importer"}
    [hygiene] = checks.check_pipeline(pipeline, GatePolicy.default("critical"))
    # gate tasks compile with caching off (only the importer caches); the placeholder digest pins nothing
    assert checks.GATE_CACHED not in {f.id for f in hygiene.findings}
    assert hygiene.decision is Decision.FAIL and {f.id for f in hygiene.findings} == {checks.UNPINNED_IMAGE}
    real = tmp_path / "real.yaml"
    real.write_text(path.read_text().replace(IMAGE.split("@")[1], "sha256:" + "5e" * 32))
    [ok] = checks.check_pipeline(load_pipeline(real), GatePolicy.default("critical"))
    assert ok.decision is Decision.PASS and ok.findings == ()


@dsl.component(base_image=IMAGE_PINNED, install_kfp_package=False)
def installs_in_code(x: int) -> int:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "pip", "install", "left-pad"], check=True)
    return x


@dsl.component(base_image=IMAGE_PINNED, install_kfp_package=False)
def mentions_in_comment(x: int) -> int:
    # never `pip install` here: the image has everything
    return x


@dsl.pipeline(name="code-installs")
def code_pipeline() -> None:
    installs_in_code(x=1)
    mentions_in_comment(x=1)


def test_pip_in_embedded_code(tmp_path):
    path = tmp_path / "code.yaml"
    compiler.Compiler().compile(code_pipeline, str(path))
    findings = checks.runtime_install_findings(load_pipeline(path))
    assert [(f.id, f.data["executor"], f.severity) for f in findings] == [
        (checks.CODE_INSTALL, "exec-installs-in-code", Severity.MEDIUM)]
    assert "-m" in findings[0].message
