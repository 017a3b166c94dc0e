"""KFP components ``sign_model`` and ``verify_model``.

``sign_model`` runs right after the gates pass: it signs the model artifact
and outputs the signature (a Sigstore bundle) as an artifact whose metadata
names the model and its manifest digest; the gate results given as inputs are
bound into what is signed. ``verify_model`` runs before deployment or
promotion. Both write their result, HTML and Markdown reports and return the
verdict ("report, then enforce": ``enforce_verdict`` or a ``dsl.If`` on it
stops the pipeline). When they cannot decide (no key given, key file missing,
Vault unreachable) they raise, so the task fails: never a pass by default.

Keys never travel as parameters: ``private_key_file`` is the path of a key
mounted from a Kubernetes secret, its passphrase comes from an environment
variable (``passphrase_env``, set from a secret with kfp-kubernetes), and the
Vault token from ``VAULT_TOKEN`` or Kubernetes auth (``vault_k8s_role``).
Public keys are not secret and may be parameters (``public_key_pem``).
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def sign_model(
    model: dsl.Input[dsl.Model],
    signature: dsl.Output[dsl.Artifact],
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    model_scan_result: dsl.Input[dsl.Artifact] = None,
    data_validation_result: dsl.Input[dsl.Artifact] = None,
    dependency_scan_result: dsl.Input[dsl.Artifact] = None,
    metrics_result: dsl.Input[dsl.Artifact] = None,
    private_key_file: str = "",
    passphrase_env: str = "",
    vault_transit_key: str = "",
    vault_addr: str = "",
    vault_mount: str = "transit",
    vault_k8s_role: str = "",
    ignore_paths: str = "",
    policy: str = "",
    tier: str = "standard",
) -> str:
    """Sign ``model`` with a key file or a Vault Transit key; bind the given gate results. Returns the verdict."""
    from dataclasses import replace
    from pathlib import Path

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.model_signing.gate import GATE, run_sign_gate
    from kfp_gates.components.model_signing.hashing import HashingConfig

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    gate = gate_policy.gate(GATE)
    section = gate.section
    if bool(private_key_file) == bool(vault_transit_key):
        raise ConfigError("give exactly one of private_key_file and vault_transit_key")
    from kfp_gates.components.model_signing.signers.interface import Signer

    signer: Signer
    if private_key_file:
        from kfp_gates.components.model_signing.signers.ec_key import ECKeySigner, passphrase_from_env

        passphrase = passphrase_from_env(passphrase_env) if passphrase_env else None
        signer = ECKeySigner.from_file(private_key_file, passphrase)
    else:
        from kfp_gates.components.model_signing.signers.transit import TransitSigner, VaultSettings, connect

        client = connect(
            VaultSettings.from_env(addr=vault_addr or None, mount=vault_mount, k8s_role=vault_k8s_role or None)
        )
        signer = TransitSigner(client, vault_transit_key, vault_mount)
    config = HashingConfig(
        method=section.hashing,  # type: ignore[attr-defined]
        shard_size=section.shard_size,  # type: ignore[attr-defined]
        ignore_paths=(*section.ignore_paths, *[p.strip() for p in ignore_paths.split(",") if p.strip()]),  # type: ignore[attr-defined]
    )
    bound = [a.path for a in (model_scan_result, data_validation_result, dependency_scan_result, metrics_result) if a]
    outcome, signing = run_sign_gate(
        model.path,
        signer,
        GateSettings.from_effective(gate),
        signature=signature.path,
        config=replace(config),
        gate_result_files=bound,
    )
    verdict = publish(
        outcome,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics={
            "files_signed": float(outcome.metadata.get("files", 0)),
            "bound_gates": float(len(outcome.metadata.get("bound_gate_results", []))),
        },
        result_metadata=result.metadata,
        title="kfp-gates: model signing",
    )
    if signing is None:
        Path(signature.path).write_text("", encoding="utf-8")
        print(f"kfp-gates: model_signing refused to sign {model.uri}")
        for f in outcome.active_findings():
            print(f"  {f.severity.value:<8} {f.id}: {f.message}")
        return "fail"
    signature.metadata["model_uri"] = model.uri
    signature.metadata["model_sha256"] = outcome.subject.sha256 or ""
    signature.metadata["manifest_sha256"] = signing.manifest.root_digest()
    signature.metadata["method"] = signing.manifest.method
    signature.metadata["bound_gates"] = ",".join(g.gate for g in signing.gate_results)
    print(f"kfp-gates: model_signing signed {model.uri} (model sha256:{outcome.subject.sha256})")
    return verdict


@gate_component
def verify_model(
    model: dsl.Input[dsl.Model],
    signature: dsl.Input[dsl.Artifact],
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    public_key_pem: str = "",
    public_key_file: str = "",
    vault_transit_key: str = "",
    vault_addr: str = "",
    vault_mount: str = "transit",
    vault_k8s_role: str = "",
    transit_verify: bool = False,
    require_gates: str = "",
    policy: str = "",
    tier: str = "standard",
) -> str:
    """Verify ``model`` against ``signature``; ``fail`` names every file that differs. Returns the verdict."""
    from cryptography.hazmat.primitives import serialization

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.model_signing.gate import GATE, run_verify_gate
    from kfp_gates.components.model_signing.signers.ec_key import PublicKeyVerifier
    from kfp_gates.components.model_signing.signers.interface import Verifier

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    gate = gate_policy.gate(GATE)
    if sum(bool(x) for x in (public_key_pem, public_key_file, vault_transit_key)) != 1:
        raise ConfigError("give exactly one of public_key_pem, public_key_file and vault_transit_key")
    verifier: Verifier
    if public_key_pem:
        try:
            key = serialization.load_pem_public_key(public_key_pem.encode())
        except ValueError:
            raise ConfigError("public_key_pem is not a PEM public key") from None
        verifier = PublicKeyVerifier(key)  # type: ignore[arg-type]
    elif public_key_file:
        verifier = PublicKeyVerifier.from_file(public_key_file)
    else:
        from kfp_gates.components.model_signing.signers.transit import TransitVerifier, VaultSettings, connect

        client = connect(
            VaultSettings.from_env(addr=vault_addr or None, mount=vault_mount, k8s_role=vault_k8s_role or None)
        )
        verifier = TransitVerifier(client, vault_transit_key, vault_mount, remote=transit_verify)
    required = [*gate.section.require_gates, *[g.strip() for g in require_gates.split(",") if g.strip()]]  # type: ignore[attr-defined]
    outcome = run_verify_gate(
        model.path,
        signature.path,
        verifier,
        GateSettings.from_effective(gate),
        require_gates=list(dict.fromkeys(required)),
    )
    verdict = publish(
        outcome,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics={
            "files_verified": float(outcome.metadata.get("files", 0)),
            "differences": float(len(outcome.active_findings())),
            "passed": 1.0 if outcome.passed else 0.0,
        },
        result_metadata=result.metadata,
        title="kfp-gates: model verification",
    )
    result.metadata["model_sha256"] = outcome.subject.sha256 or ""
    for f in outcome.active_findings():
        print(f"  {f.severity.value:<8} {f.id}: {f.message}")
    return verdict
