"""No stale verdicts, no placeholder pins: gate tasks never cache, and `check` holds pipelines to it.

# No `from __future__ import annotations`: this module defines KFP pipelines.
"""

import importlib
import inspect
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl

import kfp_gates.components as C
from kfp_gates.components._component import GateComponent
from kfp_gates.components.common.kfp_ir import is_digest_pinned, is_placeholder_digest, load_pipeline
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision
from kfp_gates.sdk import checks

pytestmark = pytest.mark.unit

REAL = "registry.example/kfp-gates@sha256:" + "4f" * 32
ZERO = "ghcr.io/kfp-gates/kfp-gates@sha256:" + "0" * 64


def _tasks(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text())
    return spec["root"]["dag"]["tasks"]


@pytest.mark.parametrize("name", sorted(C._COMPONENTS))
def test_every_component_is_a_gate_component_with_caching_off(name: str, tmp_path: Path) -> None:
    comp = getattr(C, name)
    assert isinstance(comp, GateComponent)
    inputs = comp.component_spec.inputs or {}
    fn = comp.python_func
    params = inspect.signature(fn).parameters

    @dsl.pipeline(name="one-gate")
    def one() -> None:
        args = {}
        for arg, spec in inputs.items():
            if params[arg].default is not inspect.Parameter.empty:
                continue
            literals = {"String": "x", "Integer": 1, "Float": 1.0, "Boolean": True, "List": ["x"], "Dict": {}}
            if spec.type in literals:
                args[arg] = literals[spec.type]
            else:
                args[arg] = dsl.importer(artifact_uri="gs://b/x", artifact_class=dsl.Artifact, reimport=True).output
        comp(**args)

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(one, str(out))
    gate_tasks = {k: v for k, v in _tasks(out).items() if not k.startswith("importer")}
    assert gate_tasks and all(v.get("cachingOptions") == {} for v in gate_tasks.values()), gate_tasks
    # ... and `check` finds nothing cached
    assert checks.gate_caching_findings(load_pipeline(out), blocking=True) == []


def test_caching_stays_off_even_when_the_pipeline_default_is_on(tmp_path: Path) -> None:
    @dsl.pipeline(name="p")
    def p(v: str = "pass") -> None:
        C.enforce_verdict(gate="model_scan", verdict=v)

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(p, str(out))
    assert _tasks(out)["enforce-verdict"]["cachingOptions"] == {}


def _cached_gate_pipeline(tmp_path: Path, image: str) -> Path:
    """A pipeline built from kfp-gates components whose gate task someone turned caching back on for."""

    @dsl.pipeline(name="cached")
    def p(v: str = "pass") -> None:
        C.enforce_verdict(gate="model_scan", verdict=v)

    out = tmp_path / "cached.yaml"
    compiler.Compiler().compile(p, str(out))
    docs = list(yaml.safe_load_all(out.read_text()))
    docs[0]["root"]["dag"]["tasks"]["enforce-verdict"]["cachingOptions"] = {"enableCache": True}
    for ex in docs[0]["deploymentSpec"]["executors"].values():
        ex["container"]["image"] = image
    out.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return out


def test_check_critical_blocks_a_cached_gate_task(tmp_path: Path, cli) -> None:
    path = _cached_gate_pipeline(tmp_path, REAL)
    pipeline = load_pipeline(path)
    [result] = checks.check_pipeline(pipeline, GatePolicy.default("critical"))
    assert result.decision is Decision.FAIL
    assert [f.id for f in result.findings] == [checks.GATE_CACHED]
    [standard] = checks.check_pipeline(pipeline, GatePolicy.default("standard"))
    assert standard.decision is Decision.WARN and standard.findings[0].id == checks.GATE_CACHED
    r = cli("check", str(path), "--tier", "critical")
    assert r.code == 1 and checks.GATE_CACHED in r.out


def test_check_critical_blocks_the_placeholder_digest(tmp_path: Path, cli) -> None:
    assert is_placeholder_digest(ZERO) and not is_digest_pinned(ZERO)
    assert is_digest_pinned(REAL) and not is_placeholder_digest(REAL)
    path = _cached_gate_pipeline(tmp_path, ZERO)
    docs = list(yaml.safe_load_all(path.read_text()))
    docs[0]["root"]["dag"]["tasks"]["enforce-verdict"]["cachingOptions"] = {}
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    r = cli("check", str(path), "--tier", "critical")
    assert r.code == 1 and checks.UNPINNED_IMAGE in r.out and "placeholder" in r.out
    real = tmp_path / "real.yaml"
    real.write_text(path.read_text().replace(ZERO, REAL))
    assert cli("check", str(real), "--tier", "critical").code == 0


def test_compiling_with_the_placeholder_image_warns(monkeypatch) -> None:
    import kfp_gates.components._component as comp

    monkeypatch.setattr(comp, "_warned", False)
    monkeypatch.setattr(comp, "IMAGE", ZERO)
    with pytest.warns(comp.PlaceholderImageWarning, match="placeholder image"):

        @comp.gate_component
        def noop() -> None:
            pass

    monkeypatch.setattr(comp, "_warned", False)
    monkeypatch.setattr(comp, "IMAGE", REAL)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", comp.PlaceholderImageWarning)

        @comp.gate_component
        def noop2() -> None:
            pass


def test_every_component_module_uses_gate_component() -> None:
    for module in set(C._COMPONENTS.values()):
        src = inspect.getsource(importlib.import_module(module))
        assert "@dsl.component" not in src, f"{module}: use @gate_component (caching off, pinned image)"


def test_components_built_with_a_real_image_digest_pass_check_critical(tmp_path: Path, cli) -> None:
    """KFP_GATES_IMAGE=<repo>@sha256:<real> at compile time: every executor carries it and check passes."""
    import subprocess
    import sys

    out = tmp_path / "gated.yaml"
    script = f"""
from kfp import compiler, dsl
from kfp_gates.components import enforce_verdict, scan_model

@dsl.pipeline(name="gated")
def p() -> None:
    m = dsl.importer(artifact_uri="gs://b/model", artifact_class=dsl.Model, reimport=True)
    s = scan_model(model=m.output)
    enforce_verdict(gate="model_scan", verdict=s.outputs["Output"])

compiler.Compiler().compile(p, {str(out)!r})
"""
    env = {"KFP_GATES_IMAGE": REAL, "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True, timeout=120)
    images = set(load_pipeline(out).images().values())
    assert images == {REAL}
    assert cli("check", str(out), "--tier", "critical").code == 0
    placeholder = tmp_path / "placeholder.yaml"
    placeholder.write_text(out.read_text().replace(REAL, ZERO))
    assert cli("check", str(placeholder), "--tier", "critical").code == 1


def test_enforce_tasks_are_named_after_their_gate(tmp_path: Path) -> None:
    @dsl.pipeline(name="p")
    def p(v: str = "pass") -> None:
        C.enforce_verdict(gate="model_scan", verdict=v)
        C.enforce_verdict(gate="data_validation", verdict=v)

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(p, str(out))
    names = {t["taskInfo"]["name"] for t in _tasks(out).values()}
    assert names == {"enforce model_scan", "enforce data_validation"}
