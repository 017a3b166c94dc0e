"""KFP components for Vault secret delivery.

* ``fetch_secret`` logs in with the pod's service-account token (or a
  credential *file*), reads a secret response-wrapped and outputs only the
  single-use wrapping token, as an artifact. The Vault address, role and path
  are parameters; credentials never are (a parameter that looks like one is
  refused).
* The consuming step unwraps it once with
  :func:`kfp_gates.components.secrets.consumer.unwrap_artifact`.
* ``revoke_leases`` is an exit handler: it revokes the dynamic-secret leases
  recorded for the run, whether the run succeeded or failed.
* ``check_secret_age`` is the rotation-hygiene gate (report, then enforce):
  KV v2 secrets older than ``max_secret_age``, from metadata only.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from typing import Optional

from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def fetch_secret(
    vault_addr: str,
    secret_path: str,
    wrapped: dsl.Output[dsl.Artifact],
    auth_method: str = "kubernetes",
    role: str = "",
    role_id: str = "",
    credential_file: str = "",
    auth_mount: str = "",
    mount: str = "",
    secret_field: str = "",
    kv_version: int = 2,
    version: int = 0,
    dynamic: bool = False,
    dynamic_params: Optional[dict] = None,  # noqa: UP045 - KFP reads typing.Optional, not X | None
    wrap_ttl: str = "5m",
    namespace: str = "",
    ca_cert_file: str = "",
    run_id: str = "",
    lease_registry: str = "secret/kfp-gates/leases",
) -> None:
    """Read ``secret_path`` (MOUNT/PATH) response-wrapped; ``wrapped`` holds only the wrapping token.

    ``credential_file`` is the AppRole secret-id file, the JWT file, the
    projected service-account token (kubernetes; default: the pod's SA token)
    or the token file (token; default: $VAULT_TOKEN), mounted from a Kubernetes
    secret. For a dynamic secret pass ``run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER``
    so ``revoke_leases`` can revoke its lease when the run ends; ``dynamic_params``
    makes the read a POST (e.g. ``{"common_name": "svc.example.com"}`` for PKI).
    """
    from kfp_gates.components.secrets.steps import StepAuth, fetch_step

    result = fetch_step(
        vault_addr=vault_addr,
        secret_path=secret_path,
        auth=StepAuth(auth_method, role, role_id, credential_file, auth_mount),
        mount=mount,
        secret_field=secret_field,
        kv_version=kv_version,
        version=version,
        dynamic=dynamic,
        params=dynamic_params,
        wrap_ttl=wrap_ttl,
        namespace=namespace,
        ca_cert_file=ca_cert_file,
        run_id=run_id,
        lease_registry=lease_registry,
    )
    with open(wrapped.path, "w", encoding="utf-8") as fh:
        fh.write(result.token)
    wrapped.metadata.update(result.public())
    print(f"kfp-gates: wrapped {result.creation_path} (single use, expires in {result.ttl}s)")


@gate_component
def revoke_leases(
    vault_addr: str,
    run_id: str,
    auth_method: str = "kubernetes",
    role: str = "",
    role_id: str = "",
    credential_file: str = "",
    auth_mount: str = "",
    lease_registry: str = "secret/kfp-gates/leases",
    namespace: str = "",
    ca_cert_file: str = "",
) -> int:
    """Exit handler: revoke every lease recorded for ``run_id``; returns how many were revoked."""
    from kfp_gates.components.secrets.steps import StepAuth, revoke_step

    report = revoke_step(
        vault_addr=vault_addr,
        run_id=run_id,
        auth=StepAuth(auth_method, role, role_id, credential_file, auth_mount),
        lease_registry=lease_registry,
        namespace=namespace,
        ca_cert_file=ca_cert_file,
    )
    print(f"kfp-gates: revoked {len(report.revoked)} lease(s) of run {run_id}")
    return len(report.revoked)


@gate_component
def check_secret_age(
    vault_addr: str,
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    auth_method: str = "kubernetes",
    role: str = "",
    role_id: str = "",
    credential_file: str = "",
    auth_mount: str = "",
    mount: str = "secret",
    prefixes: str = "",
    max_secret_age: str = "",
    policy: str = "",
    tier: str = "standard",
    namespace: str = "",
    ca_cert_file: str = "",
) -> str:
    """Report KV v2 secrets older than ``max_secret_age`` (or the policy's); return the verdict.

    ``prefixes`` are paths under ``mount``, separated by commas or newlines
    (empty: the whole mount). ``policy`` is GatePolicy YAML text (empty: the
    ``tier`` defaults). Follow with ``enforce_verdict`` to block.
    """
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.secrets.steps import StepAuth, check_age_step

    gate_result = check_age_step(
        vault_addr=vault_addr,
        auth=StepAuth(auth_method, role, role_id, credential_file, auth_mount),
        mount=mount,
        prefixes=prefixes,
        max_secret_age=max_secret_age,
        policy=policy,
        tier=tier,
        namespace=namespace,
        ca_cert_file=ca_cert_file,
    )
    return publish(
        gate_result,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics={"secrets_checked": int(gate_result.metadata.get("secrets_checked", 0))},
        result_metadata=result.metadata,
    )
