"""Reading compiled pipelines: executors, images, embedded code, runtime pip installs."""

# No `from __future__ import annotations`: KFP reads real annotations of the components below.

import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.kfp_ir import is_digest_pinned, load_pipeline, parse_pipeline


def _compile(tmp_path):
    from kfp import compiler, dsl, kubernetes

    @dsl.component(base_image="python:3.11-slim", packages_to_install=["requests==2.19.0"])
    def step(x: str) -> str:
        return x

    @dsl.container_component
    def box():
        return dsl.ContainerSpec(image="alpine@sha256:" + "a" * 64, command=["echo"], args=["hi"])

    @dsl.pipeline(name="ir-probe")
    def pipe():
        t = step(x="y")
        kubernetes.add_pod_label(t, "team", "ml")
        box()

    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipe, str(out))
    return out


def test_reads_executors_from_a_real_compiled_pipeline(tmp_path):
    p = load_pipeline(_compile(tmp_path))
    assert p.name == "ir-probe"
    step = p.executors["exec-step"]
    assert step.image == "python:3.11-slim"
    assert "requests==2.19.0" in step.runtime_pip_installs()
    assert "def step(x: str) -> str:" in step.embedded_code
    assert step.platform == {"podMetadata": {"labels": {"team": "ml"}}}
    box = p.executors["exec-box"]
    assert box.embedded_code is None and box.runtime_pip_installs() == []
    assert is_digest_pinned(box.image) and not is_digest_pinned(step.image)


def test_not_a_pipeline_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no deploymentSpec"):
        parse_pipeline("a: 1\n", "x.yaml")
    with pytest.raises(ConfigError, match=r"x.yaml:2: not valid YAML"):
        parse_pipeline("a: [\n", "x.yaml")
    with pytest.raises(InputNotFoundError):
        load_pipeline(tmp_path / "missing.yaml")
