"""The components compile to a pipeline that carries no key material and installs nothing at run time."""

# No `from __future__ import annotations` here: KFP reads real annotations.

from kfp import compiler, dsl

from kfp_gates.components import enforce_verdict, sign_model, verify_model
from kfp_gates.components._image import IMAGE
from kfp_gates.components.common.kfp_ir import load_pipeline


@dsl.component(base_image="python:3.11-slim")
def _train(model: dsl.Output[dsl.Model]):
    open(model.path, "w").write("weights")


@dsl.pipeline(name="sign-and-verify")
def _pipeline(public_key_pem: str):
    model = _train().outputs["model"]
    signed = sign_model(model=model, vault_transit_key="model-signing", vault_k8s_role="signer")
    check = verify_model(model=model, signature=signed.outputs["signature"], public_key_pem=public_key_pem)
    enforce_verdict(gate="model_signing", verdict=check.outputs["Output"])


def test_compiled_pipeline_has_pinned_images_no_runtime_installs_and_no_secrets(tmp_path) -> None:
    out = tmp_path / "p.yaml"
    compiler.Compiler().compile(_pipeline, str(out))
    text = out.read_text()
    assert "PRIVATE KEY" not in text and "VAULT_TOKEN=" not in text
    pipeline = load_pipeline(out)
    ours = [e for e in pipeline.executors.values() if "sign-model" in e.label or "verify-model" in e.label]
    assert len(ours) == 2
    for e in ours:
        assert e.image == IMAGE  # the configured image; a real digest is checked in test_no_stale_verdicts
        assert not e.runtime_pip_installs()
        assert "from kfp_gates.components.model_signing" in (e.embedded_code or "")
