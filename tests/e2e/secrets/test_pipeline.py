"""A kfp.local pipeline passes a wrapped secret from fetch_secret to a consuming step.

The secret value must not appear in the compiled pipeline YAML, in any file
of the run's outputs (artifacts, executor output, logs the runner keeps), or
in the captured stdout/stderr, on the passing path and on the failing ones.
"""

# No `from __future__ import annotations` here: KFP reads real annotations.

import hashlib
import os
import time
from pathlib import Path

import pytest
from kfp import compiler, dsl

from kfp_gates.components import check_secret_age, enforce_verdict, fetch_secret, revoke_leases
from kfp_gates.components._image import IMAGE

pytestmark = pytest.mark.filterwarnings("ignore:You may be attemping:RuntimeWarning")


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def use_secret(wrapped: dsl.Input[dsl.Artifact]) -> str:
    """Unwrap once (Python helper) and prove the value arrived by returning only its sha256."""
    import hashlib

    from kfp_gates.components.secrets.consumer import unwrap_artifact

    secret = unwrap_artifact(wrapped)
    return hashlib.sha256(secret["password"].encode()).hexdigest()


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def use_secret_files(wrapped: dsl.Input[dsl.Artifact]) -> str:
    """Unwrap into private files (the helper removes them afterwards); echo nothing secret."""
    import hashlib
    import os
    import stat

    from kfp_gates.components.secrets.consumer import secret_files

    with secret_files(wrapped) as folder:
        modes = sorted(oct(stat.S_IMODE(os.stat(folder / n).st_mode)) for n in os.listdir(folder))
        digest = hashlib.sha256((folder / "certificate").read_bytes()).hexdigest()
    print(f"consumer: {len(modes)} files with modes {modes}")
    return digest


@dsl.pipeline(name="wrapped-secret")
def wrapped_secret_pipeline(vault_addr: str, path: str, role_id: str, secret_id_file: str, mount: str) -> str:
    fetched = fetch_secret(
        vault_addr=vault_addr,
        secret_path=path,
        auth_method="approle",
        role_id=role_id,
        credential_file=secret_id_file,
        auth_mount=mount,
        wrap_ttl="2m",
    )
    return use_secret(wrapped=fetched.outputs["wrapped"]).output


@dsl.pipeline(name="wrapped-secret-used-twice")
def used_twice_pipeline(vault_addr: str, path: str, role_id: str, secret_id_file: str, mount: str):
    fetched = fetch_secret(
        vault_addr=vault_addr,
        secret_path=path,
        auth_method="approle",
        role_id=role_id,
        credential_file=secret_id_file,
        auth_mount=mount,
    )
    first = use_secret(wrapped=fetched.outputs["wrapped"])
    use_secret(wrapped=fetched.outputs["wrapped"]).after(first)  # the token is spent: this step must fail


def _files_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())


def _args(vault, sid: Path) -> dict:
    return {
        "vault_addr": vault.addr,
        "path": f"{vault.kv}/app/db",
        "role_id": vault.role_id,
        "secret_id_file": str(sid),
        "mount": vault.approle,
    }


def test_wrapped_secret_reaches_the_consumer_and_nowhere_else(kfp_local, vault, tmp_path, capfd):
    yaml_path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(wrapped_secret_pipeline, str(yaml_path))
    sid = vault.new_secret_id()
    task = wrapped_secret_pipeline(**_args(vault, sid))
    assert task.output == hashlib.sha256(vault.password_v2.encode()).hexdigest()

    out, err = capfd.readouterr()
    outputs = _files_text(kfp_local)
    compiled = yaml_path.read_text()
    vault.assert_no_leak(compiled, outputs, out, err)
    assert sid.read_text() not in compiled + outputs + out + err
    # Only the spent wrapping token travelled, as an artifact, with public metadata.
    wrapped = [p for p in kfp_local.rglob("wrapped") if p.is_file()]
    assert len(wrapped) == 1
    assert wrapped[0].read_text().startswith(("s.", "hvs."))
    assert "pip install" not in compiled and "fetch_step(" in compiled


def test_second_consumer_of_the_same_token_fails_without_leaking(kfp_local, vault, capfd):
    sid = vault.new_secret_id()
    with pytest.raises(RuntimeError):
        used_twice_pipeline(**_args(vault, sid))
    out, err = capfd.readouterr()
    assert "KFPG-SECRETS-WRAP" in out + err or "already unwrapped" in out + err
    vault.assert_no_leak(_files_text(kfp_local), out, err)


def test_credential_passed_as_a_parameter_is_refused(kfp_local, vault, capfd):
    # A Vault token pasted into a parameter has already leaked (UI, metadata store); fail, never use it.
    sid = vault.new_secret_id()
    args = _args(vault, sid) | {"role_id": "s.ThisLooksLikeAVaultToken1234"}
    with pytest.raises(RuntimeError):
        wrapped_secret_pipeline(**args)
    out, err = capfd.readouterr()
    assert "looks like a credential" in out + err
    vault.assert_no_leak(out, err)


# ----- dynamic secret + exit handler ---------------------------------------------------------------------


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def fail_step(wrapped: dsl.Input[dsl.Artifact]):
    raise RuntimeError("training crashed")


@dsl.pipeline(name="dynamic-secret-revoked")
def dynamic_pipeline(vault_addr: str, path: str, role_id: str, secret_id_file: str, mount: str,
                     registry: str, revoke_token_file: str, crash: bool):  # fmt: skip
    cleanup = revoke_leases(
        vault_addr=vault_addr,
        run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        auth_method="token",
        credential_file=revoke_token_file,
        lease_registry=registry,
    )
    with dsl.ExitHandler(cleanup):
        fetched = fetch_secret(
            vault_addr=vault_addr,
            secret_path=path,
            auth_method="approle",
            role_id=role_id,
            credential_file=secret_id_file,
            auth_mount=mount,
            dynamic=True,
            dynamic_params={"common_name": "train.example.test"},
            run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            lease_registry=registry,
        )
        used = use_secret_files(wrapped=fetched.outputs["wrapped"])
        with dsl.If(crash == True):  # noqa: E712 - KFP condition syntax
            fail_step(wrapped=fetched.outputs["wrapped"]).after(used)


@pytest.fixture(scope="module")
def pki_role(vault):
    mount = f"pki-e2e-{vault.kv}"
    a = vault.admin
    a.sys.enable_secrets_engine("pki", path=mount, config={"max_lease_ttl": "24h"})
    a.adapter.post(f"/v1/{mount}/root/generate/internal", json={"common_name": "ca.example.test", "ttl": "24h"})
    a.adapter.post(
        f"/v1/{mount}/roles/train",
        json={"allowed_domains": "example.test", "allow_subdomains": True, "generate_lease": True, "ttl": "1h"},
    )
    policy = f"e2e-dyn-{vault.kv}"
    a.sys.create_or_update_policy(
        policy,
        f'path "{mount}/issue/train" {{ capabilities = ["update"] }}\n'
        f'path "{vault.kv}/data/kfp-gates/leases/*" {{ capabilities = ["create", "update"] }}\n',
    )
    a.auth.approle.create_or_update_approle("e2e-dyn", token_policies=[policy], mount_point=vault.approle)
    return mount


def _leases(vault, mount: str) -> list[str]:
    try:
        return vault.admin.adapter.list(f"/v1/sys/leases/lookup/{mount}/issue/train")["data"]["keys"]
    except Exception:  # noqa: BLE001 - no leases left under the prefix answers 404
        return []


@pytest.mark.parametrize("crash", [False, True], ids=["run-succeeds", "run-fails"])
def test_exit_handler_revokes_the_runs_leases(kfp_local, vault, pki_role, tmp_path, crash, capfd):
    role_id = vault.admin.auth.approle.read_role_id("e2e-dyn", mount_point=vault.approle)["data"]["role_id"]
    sid = vault.admin.auth.approle.generate_secret_id("e2e-dyn", mount_point=vault.approle)["data"]["secret_id"]
    sid_file = tmp_path / "sid"
    sid_file.write_text(sid)
    os.chmod(sid_file, 0o600)
    before = set(_leases(vault, pki_role))
    args = dict(
        vault_addr=vault.addr, path=f"{pki_role}/issue/train", role_id=role_id, secret_id_file=str(sid_file),
        mount=vault.approle, registry=f"{vault.kv}/kfp-gates/leases", revoke_token_file=str(vault.root_token_file),
        crash=crash,
    )  # fmt: skip
    if crash:
        with pytest.raises(RuntimeError):
            dynamic_pipeline(**args)
    else:
        dynamic_pipeline(**args)
    deadline = time.monotonic() + 10
    while set(_leases(vault, pki_role)) - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(_leases(vault, pki_role)) - before == set(), "the run's lease outlived the run"
    out, err = capfd.readouterr()
    assert "revoked 1 lease(s)" in out + err
    assert sid not in out + err + _files_text(kfp_local)


# ----- rotation hygiene gate ------------------------------------------------------------------------------


@dsl.pipeline(name="secret-rotation")
def rotation_pipeline(vault_addr: str, token_file: str, mount: str, max_age: str, tier: str) -> str:
    check = check_secret_age(
        vault_addr=vault_addr,
        auth_method="token",
        credential_file=token_file,
        mount=mount,
        prefixes="app/, other/",
        max_secret_age=max_age,
        tier=tier,
    )
    enforce_verdict(gate="secrets", verdict=check.outputs["Output"])
    return check.outputs["Output"]


def test_rotation_gate_reports_then_enforces(kfp_local, vault, capfd):
    import json

    args = dict(vault_addr=vault.addr, token_file=str(vault.root_token_file), mount=vault.kv)
    assert rotation_pipeline(**args, max_age="90d", tier="critical").output == "pass"
    time.sleep(1.1)
    assert rotation_pipeline(**args, max_age="1s", tier="standard").output == "warn"
    with pytest.raises(RuntimeError):
        rotation_pipeline(**args, max_age="1s", tier="critical")  # medium finding blocks in critical
    results = [json.loads(p.read_text()) for p in kfp_local.rglob("result") if p.is_file()]
    assert sorted(r["decision"] for r in results) == ["fail", "pass", "warn"]
    assert any(p.name == "html_report" for p in kfp_local.rglob("*"))
    out, err = capfd.readouterr()
    vault.assert_no_leak(_files_text(kfp_local), out, err)
