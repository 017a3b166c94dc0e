"""What the KFP components run, with flat string/int parameters (the component bodies stay one call).

Kept apart from the component definitions so it can be tested without KFP
and so only a call, not logic, is embedded in the compiled pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import hvac

from kfp_gates.components.common import redact
from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.policy import parse_duration
from kfp_gates.components.common.result import GateResult

from . import login
from .auth import auth_from_options
from .auth.interface import AuthMethod
from .config import VaultConfig
from .leases import LeaseRegistry, RevokeReport, revoke_self
from .reading import SecretRef
from .wrapping import WrappedSecret, fetch_wrapped


@dataclass(frozen=True)
class StepAuth:
    """How a step logs in. ``credential_file`` is the secret-id / JWT / SA-token / token file by method."""

    method: str = "kubernetes"
    role: str = ""
    role_id: str = ""
    credential_file: str = ""
    mount: str = ""

    def build(self) -> AuthMethod:
        f = self.credential_file or None
        return auth_from_options(
            self.method,
            role=self.role or None,
            role_id=self.role_id or None,
            secret_id_file=f if self.method == "approle" else None,
            jwt_file=f if self.method in ("kubernetes", "jwt", "oidc") else None,
            token_file=f if self.method == "token" else None,
            mount=self.mount or None,
        )


def refuse_secret_looking(**params: object) -> None:
    """ConfigError when a parameter value looks like a credential (a token, a key, a JWT).

    Pipeline parameters are stored in the metadata store and shown in the UI:
    a credential passed as one has already leaked. The message names the
    parameter, never the value.
    """
    for name, value in params.items():
        if isinstance(value, str) and value and redact.redact(value) != value:
            raise ConfigError(
                "this parameter looks like a credential; pipeline parameters are visible in the KFP UI",
                where=name,
                hint="pass credentials as files (a mounted Kubernetes secret) or use the pod's service account",
            )


def _config(vault_addr: str, namespace: str, ca_cert_file: str) -> VaultConfig:
    return VaultConfig.from_env(vault_addr or None, namespace=namespace or None, ca_cert=ca_cert_file or None)


def _registry_location(lease_registry: str) -> tuple[str, str]:
    mount, _, prefix = lease_registry.strip("/").partition("/")
    if not mount:
        raise ConfigError("lease registry must be MOUNT/PREFIX", where="lease_registry")
    return mount, prefix or "kfp-gates/leases"


def fetch_step(
    *,
    vault_addr: str,
    secret_path: str,
    auth: StepAuth,
    mount: str = "",
    secret_field: str = "",
    kv_version: int = 2,
    version: int = 0,
    dynamic: bool = False,
    params: dict[str, object] | None = None,
    wrap_ttl: str = "5m",
    max_wrap_ttl: str = "1h",
    namespace: str = "",
    ca_cert_file: str = "",
    run_id: str = "",
    lease_registry: str = "secret/kfp-gates/leases",
) -> WrappedSecret:
    """Log in, read the secret wrapped, record a dynamic lease for ``run_id``; return the wrapping token.

    The login token is revoked afterwards unless it owns a dynamic secret's
    lease (revoking it would revoke the secret before the consumer uses it).
    """
    refuse_secret_looking(
        vault_addr=vault_addr,
        secret_path=secret_path,
        role=auth.role,
        role_id=auth.role_id,
        mount=mount,
        secret_field=secret_field,
        run_id=run_id,
        **{f"params[{k}]": v for k, v in (params or {}).items()},
    )
    if params and not dynamic:
        raise ConfigError("params apply to dynamic secrets only", where="params")
    if kv_version not in (1, 2):
        raise ConfigError("kv_version must be 1 or 2", where="kv_version")
    try:
        ttl, max_ttl = parse_duration(wrap_ttl), parse_duration(max_wrap_ttl)
    except ValueError as exc:
        raise ConfigError(str(exc), where="wrap_ttl") from None
    ref = SecretRef.parse(
        secret_path,
        mount=mount or None,
        kind="dynamic" if dynamic else ("kv2" if kv_version == 2 else "kv1"),
        version=version or None,
        field=secret_field or None,
        params=dict(params or {}),
    )
    client, _ = login(_config(vault_addr, namespace, ca_cert_file), auth.build())
    return wrap_for_step(
        client, ref, ttl, max_ttl=max_ttl, owns_token=auth.method != "token", run_id=run_id,
        lease_registry=lease_registry,
    )  # fmt: skip


def wrap_for_step(
    client: hvac.Client,
    ref: SecretRef,
    ttl: timedelta,
    *,
    max_ttl: timedelta,
    owns_token: bool,
    run_id: str = "",
    lease_registry: str = "secret/kfp-gates/leases",
) -> WrappedSecret:
    """Fetch ``ref`` wrapped; record a dynamic secret's lease for ``run_id``; revoke the login if done with it.

    ``owns_token`` is true when the client's token came from a login of this
    step (not a token the caller handed in): it is revoked once the secret is
    wrapped, except when it owns a dynamic secret's lease (revoking it would
    revoke the secret before the consumer uses it).
    """
    wrapped = fetch_wrapped(client, ref, ttl, max_ttl=max_ttl)
    if wrapped.lease is not None:
        if run_id:
            rmount, prefix = _registry_location(lease_registry)
            LeaseRegistry(client, mount=rmount, prefix=prefix).record(run_id, wrapped.lease)
    elif owns_token:
        revoke_self(client)
    return wrapped


def revoke_step(
    *,
    vault_addr: str,
    run_id: str,
    auth: StepAuth,
    lease_registry: str = "secret/kfp-gates/leases",
    namespace: str = "",
    ca_cert_file: str = "",
) -> RevokeReport:
    """Revoke every lease recorded for ``run_id``; raises ConfigError when any revocation failed."""
    refuse_secret_looking(vault_addr=vault_addr, run_id=run_id, role=auth.role, role_id=auth.role_id)
    client, _ = login(_config(vault_addr, namespace, ca_cert_file), auth.build())
    rmount, prefix = _registry_location(lease_registry)
    report = LeaseRegistry(client, mount=rmount, prefix=prefix).revoke_run(run_id)
    if auth.method != "token":
        revoke_self(client)
    if not report.ok:
        failed = ", ".join(f"{lid}: {why}" for lid, why in report.failed)
        raise ConfigError(f"{len(report.failed)} lease(s) could not be revoked: {failed}")
    return report


def check_age_step(
    *,
    vault_addr: str,
    auth: StepAuth,
    mount: str = "secret",
    prefixes: str = "",
    max_secret_age: str = "",
    policy: str = "",
    tier: str = "standard",
    namespace: str = "",
    ca_cert_file: str = "",
) -> GateResult:
    """Rotation hygiene as a gate: KV v2 secrets under ``prefixes`` (comma/newline separated) older than the max.

    ``max_secret_age`` overrides the policy's; one of them must be set
    (ConfigError otherwise). Only metadata is read.
    """
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import GatePolicy, format_duration

    from .age import check_age

    refuse_secret_looking(vault_addr=vault_addr, role=auth.role, role_id=auth.role_id, mount=mount)
    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    section = gate_policy.gates.secrets
    try:
        max_age = parse_duration(max_secret_age) if max_secret_age.strip() else section.max_secret_age
    except ValueError as exc:
        raise ConfigError(str(exc), where="max_secret_age") from None
    if max_age is None:
        raise ConfigError(
            "no maximum secret age",
            where="max_secret_age",
            hint="pass max_secret_age='90d' or set gates.secrets.max_secret_age in the policy",
        )
    client, _ = login(_config(vault_addr, namespace, ca_cert_file), auth.build())
    settings = GateSettings.from_effective(gate_policy.gate("secrets"), max_secret_age=format_duration(max_age))
    wanted = tuple(p.strip() for p in prefixes.replace("\n", ",").split(",") if p.strip()) or ("",)
    try:
        return check_age(
            client, mount=mount, prefixes=wanted, max_age=max_age, settings=settings, severity=section.stale_severity
        )
    finally:
        if auth.method != "token":
            revoke_self(client)
