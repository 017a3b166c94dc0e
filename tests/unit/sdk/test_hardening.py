"""sdk.hardening on compiled pipelines of several shapes: every executor hardened, nothing replaced, valid IR.

# No `from __future__ import annotations`: this module defines KFP components.
"""

from pathlib import Path

import pytest
import yaml
from kfp import compiler, components, dsl, kubernetes

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.kfp_ir import parse_pipeline
from kfp_gates.sdk import checks
from kfp_gates.sdk.hardening import (
    HardeningOptions,
    add_pod_labels,
    harden_text,
    load_documents,
    platform_executors,
    validate_platform,
)
from kfp_gates.sdk.hardening.options import ISOLATION_LABEL

pytestmark = pytest.mark.unit


@dsl.component(base_image="python:3.11")  # a tag image, as an ordinary user writes it
def make(n: int, out: dsl.Output[dsl.Dataset]) -> None:
    open(out.path, "w").write(str(n))


@dsl.component(base_image="python:3.11")
def use(data: dsl.Input[dsl.Dataset]) -> str:
    return open(data.path).read()


@dsl.pipeline(name="inner")
def inner(n: int = 1) -> str:
    d = make(n=n)
    return use(data=d.outputs["out"]).output


@dsl.pipeline(name="shapes")
def shapes(n: int = 2, flag: bool = True) -> None:
    first = make(n=n)
    kubernetes.add_pod_label(first, "team", "ml")  # the user's own setting: must survive
    kubernetes.set_timeout(first, 60)
    inner(n=n)
    with dsl.If(flag == True):  # noqa: E712 - KFP condition syntax
        use(data=first.outputs["out"])
    with dsl.ParallelFor([1, 2]) as i:
        make(n=i)


def _compiled(tmp_path: Path, pipeline=shapes) -> str:
    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline, str(out))
    return out.read_text()


def test_every_executor_is_hardened_and_user_settings_survive(tmp_path) -> None:
    text = harden_text(_compiled(tmp_path), HardeningOptions(timeout_seconds=3600))
    spec, platform = load_documents(text)
    executors = platform_executors(platform)
    labels = set(spec["deploymentSpec"]["executors"])
    assert len(labels) >= 4 and set(executors) == labels
    for label, cfg in executors.items():
        assert cfg["podMetadata"]["labels"][ISOLATION_LABEL] == "restricted", label
        assert cfg["imagePullPolicy"] == "Always"
        assert 0 < int(cfg["activeDeadlineSeconds"]) <= 3600
    user = executors["exec-make"]
    assert user["podMetadata"]["labels"]["team"] == "ml" and int(user["activeDeadlineSeconds"]) == 60
    # the result is a pipeline kfp loads, nests and recompiles
    loaded = components.load_component_from_text(text)

    @dsl.pipeline(name="outer")
    def outer() -> None:
        loaded(n=3)

    compiler.Compiler().compile(outer, str(tmp_path / "outer.yaml"))


def test_a_pipeline_loaded_from_yaml_is_hardened_too(tmp_path) -> None:
    inner_yaml = tmp_path / "inner.yaml"
    compiler.Compiler().compile(inner, str(inner_yaml))
    loaded = components.load_component_from_file(str(inner_yaml))

    @dsl.pipeline(name="wraps-loaded")
    def wraps() -> None:
        loaded(n=4)

    _, platform = load_documents(harden_text(_compiled(tmp_path, wraps)))
    assert all(c["podMetadata"]["labels"][ISOLATION_LABEL] for c in platform_executors(platform).values())


def test_gate_tasks_in_nested_dags_get_caching_off(tmp_path) -> None:
    from kfp_gates.components import enforce_verdict

    @dsl.pipeline(name="nested-gate")
    def nested(v: str = "pass") -> None:
        enforce_verdict(gate="model_scan", verdict=v)

    @dsl.pipeline(name="outer-gate")
    def outer(v: str = "pass") -> None:
        nested(v=v)

    text = _compiled(tmp_path, outer)
    docs = list(yaml.safe_load_all(text))
    for comp in docs[0]["components"].values():  # someone turned caching back on inside the sub-DAG
        for task in ((comp.get("dag") or {}).get("tasks") or {}).values():
            task["cachingOptions"] = {"enableCache": True}
    edited = yaml.safe_dump_all(docs)
    assert checks.gate_caching_findings(parse_pipeline(edited), blocking=True)
    hardened = harden_text(edited)
    assert checks.gate_caching_findings(parse_pipeline(hardened), blocking=True) == []


def test_a_conflicting_user_label_is_an_error_not_an_override(tmp_path) -> None:
    _, platform = load_documents(_compiled(tmp_path))
    add_pod_labels(platform, ["exec-make"], {"team": "ml"})
    with pytest.raises(ConfigError, match="already sets pod label team"):
        add_pod_labels(platform, ["exec-make"], {"team": "other"})


def test_fields_the_target_backend_drops_are_refused_naming_the_minimum(tmp_path) -> None:
    @dsl.pipeline(name="sc")
    def sc() -> None:
        kubernetes.set_security_context(make(n=1), run_as_user=1000)

    text = _compiled(tmp_path, sc)
    with pytest.raises(ConfigError, match=r"securityContext .*>= 2\.16\.0"):
        harden_text(text, HardeningOptions(backend="2.15.0"))
    harden_text(text, HardeningOptions(backend="2.16.0"))


def test_an_invalid_executor_config_is_refused(tmp_path) -> None:
    _, platform = load_documents(_compiled(tmp_path))
    platform_executors(platform)["exec-make"]["imagePullPolicyy"] = "Always"
    with pytest.raises(ConfigError, match="imagePullPolicyy"):
        validate_platform(platform, "2.17.0")
