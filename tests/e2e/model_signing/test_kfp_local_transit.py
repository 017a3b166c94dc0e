"""kfp.local: sign_model with a Vault/OpenBao Transit key (token from the environment), verify via Transit."""

# No `from __future__ import annotations` here: KFP reads real annotations.

import secrets
from typing import NamedTuple

from kfp import dsl

from kfp_gates.components import sign_model, verify_model

MOUNT = f"transit-e2e-{secrets.token_hex(3)}"


@dsl.component(base_image="python:3.11-slim")
def _train(model: dsl.Output[dsl.Model]):
    import os

    os.makedirs(model.path)
    with open(os.path.join(model.path, "weights.bin"), "wb") as fh:
        fh.write(os.urandom(50_000))


class _Verdicts(NamedTuple):
    signed: str
    verified: str


@dsl.pipeline(name="model-signing-transit-e2e")
def _pipeline(vault_addr: str, mount: str) -> _Verdicts:
    trained = _train()
    signed = sign_model(
        model=trained.outputs["model"], vault_transit_key="model-signing", vault_addr=vault_addr, vault_mount=mount
    )
    ok = verify_model(
        model=trained.outputs["model"],
        signature=signed.outputs["signature"],
        vault_transit_key="model-signing",
        vault_addr=vault_addr,
        vault_mount=mount,
        transit_verify=True,
    )
    return _Verdicts(signed=signed.outputs["Output"], verified=ok.outputs["Output"])


def test_transit_sign_and_verify_in_kfp_local(kfp_local, openbao, monkeypatch):
    admin = openbao.client()
    admin.sys.enable_secrets_engine("transit", path=MOUNT)
    admin.secrets.transit.create_key(name="model-signing", key_type="ecdsa-p256", mount_point=MOUNT)
    # The token reaches the component as an environment variable (kfp-kubernetes: a secret as env), never a parameter.
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    run = _pipeline(vault_addr=openbao.addr, mount=MOUNT)
    assert run.outputs["signed"] == "pass"
    assert run.outputs["verified"] == "pass"
    for f in kfp_local.rglob("*"):
        if f.is_file():
            assert openbao.root_token not in f.read_text(errors="replace")
