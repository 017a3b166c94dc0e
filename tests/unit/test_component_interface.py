"""Every gate component has the same public interface, so pipelines can wire any gate the same way.

Inputs ``policy`` (GatePolicy YAML text) and ``tier``; outputs ``result``,
``html_report``, ``markdown_report`` and ``metrics``, and the verdict as the
return value. Each body is run with stand-in artifacts: it publishes once
through ``common.publish`` and returns exactly the verdict it published.
"""

# No `from __future__ import annotations`: kept free of it like every file that touches KFP components.
import importlib
import json
from pathlib import Path

import pytest

from tests.support.kfp_stubs import StubArtifact, gate_outputs

GATE_COMPONENTS = [
    "validate_data",
    "scan_dependencies",
    "scan_container_image",
    "scan_model",
    "sign_model",
    "verify_model",
    "check_secret_age",
    "launch_isolated",
    "verify_source",
    "policy_gate",
]

COMMON_INPUTS = {"policy": "String", "tier": "String"}
COMMON_OUTPUTS = {
    "result": "system.Artifact@0.0.1",
    "html_report": "system.HTML@0.0.1",
    "markdown_report": "system.Markdown@0.0.1",
    "metrics": "system.Metrics@0.0.1",
    "Output": "String",  # the verdict
}
OLD_NAMES = {"policy_yaml", "report_html", "report_md", "report_markdown"}


def _component(name: str):
    return getattr(importlib.import_module("kfp_gates.components"), name)


@pytest.mark.parametrize("name", GATE_COMPONENTS)
def test_gate_component_has_the_common_inputs_and_outputs(name):
    spec = _component(name).component_spec
    inputs = {k: v.type for k, v in spec.inputs.items()}
    outputs = {k: v.type for k, v in spec.outputs.items()}
    assert {k: inputs.get(k) for k in COMMON_INPUTS} == COMMON_INPUTS
    assert {k: outputs.get(k) for k in COMMON_OUTPUTS} == COMMON_OUTPUTS
    assert not OLD_NAMES & (set(inputs) | set(outputs))
    assert spec.inputs["policy"].default == ""
    assert spec.inputs["tier"].default == "standard"


@pytest.mark.parametrize("name", GATE_COMPONENTS)
def test_gate_component_logs_metrics_only_through_publish(name):
    code = "\n".join(_component(name).component_spec.implementation.container.command)
    assert "log_metric(" not in code, "metrics go through publish(extra_metrics=...)"


# ----- running each body ---------------------------------------------------------------------------------
# Each case gives a component the least it needs to decide, offline; most are built to fail, so a body that
# returned a constant "pass" (or anything but what it published) is caught.


def _keys(d):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (d / "key.pem").write_bytes(pem)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public.decode()


def _model_dir(d):
    (d / "model").mkdir()
    (d / "model" / "weights.bin").write_bytes(b"weights")
    return StubArtifact(d / "model")


def _validate_data(d, _):
    (d / "d.csv").write_text("age\n1\n500\n")
    suite = {
        "name": "s",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "age", "min_value": 0, "max_value": 120},
            }
        ],
    }
    return {"dataset": StubArtifact(d / "d.csv"), "suite": json.dumps(suite)}, (), "fail"


def _scan_dependencies(d, _):
    return {"requirements": "urllib3==1.24.1\n"}, ("sarif", "sbom"), "fail"


def _scan_container_image(d, _):
    vuln = {
        "VulnerabilityID": "CVE-2024-0001",
        "PkgName": "openssl",
        "InstalledVersion": "1",
        "FixedVersion": "2",
        "Severity": "CRITICAL",
        "Title": "t",
    }
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "img@sha256:" + "a" * 64,
        "ArtifactType": "container_image",
        "Results": [{"Target": "x", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": [vuln]}],
    }
    (d / "trivy.json").write_text(json.dumps(report))
    return {"trivy_report": StubArtifact(d / "trivy.json")}, ("sarif", "sbom"), "fail"


def _scan_model(d, _):
    # GLOBAL posix system + REDUCE: what pickle.dumps of an os.system payload holds (written, never loaded).
    (d / "m.pkl").write_bytes(
        b"\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system"
        b"\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94."
    )
    return {"model": StubArtifact(d / "m.pkl")}, (), "fail"


def _sign_model(d, _):
    _keys(d)
    return {"model": _model_dir(d), "private_key_file": str(d / "key.pem")}, ("signature",), "pass"


def _verify_model(d, _):
    public = _keys(d)
    (d / "signature.json").write_text("{}")
    return (
        {"model": _model_dir(d), "signature": StubArtifact(d / "signature.json"), "public_key_pem": public},
        (),
        "fail",
    )


def _check_secret_age(d, request):
    import time
    import uuid

    server = request.getfixturevalue("openbao")
    prefix = f"interface-{uuid.uuid4().hex[:8]}"
    server.client().secrets.kv.v2.create_or_update_secret(path=f"{prefix}/db", secret={"password": "x"})
    (d / "token").write_text(server.root_token)
    time.sleep(2.1)  # older than the 2s maximum below
    kwargs = {
        "vault_addr": server.addr,
        "auth_method": "token",
        "credential_file": str(d / "token"),
        "mount": "secret",
        "prefixes": prefix,
        "max_secret_age": "2s",
        "ca_cert_file": server.ca_cert or "",
    }
    return kwargs, (), "warn"  # standard tier: a stale secret warns


def _launch_isolated(d, _):
    policy = "tier: fast-track\ngates:\n  isolation:\n    isolation: none\n"
    return {"command": ["sh", "-c", "exit 3"], "backend": "policy", "policy": policy}, ("output_data",), "fail"


def _verify_source(d, _):
    import subprocess

    repo = d / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=repo,
        check=True,
    )  # unsigned
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "id")], check=True)
    kind, key = (d / "id.pub").read_text().split()[:2]
    return {"repo": StubArtifact(repo), "allowed_signers": f"a@b {kind} {key}"}, (), "fail"


def _policy_gate(d, _):
    metrics = StubArtifact(d / "model_metrics")
    metrics.metadata = {"accuracy": 0.5}
    policy = "gates:\n  policy_gate:\n    data: {min_accuracy: 0.9}\n"
    return {"model_metrics": metrics, "policy": policy}, (), "fail"


CASES = {
    "validate_data": _validate_data,
    "scan_dependencies": _scan_dependencies,
    "scan_container_image": _scan_container_image,
    "scan_model": _scan_model,
    "sign_model": _sign_model,
    "verify_model": _verify_model,
    "check_secret_age": _check_secret_age,
    "launch_isolated": _launch_isolated,
    "verify_source": _verify_source,
    "policy_gate": _policy_gate,
}


def test_every_gate_component_has_a_running_case():
    assert sorted(CASES) == sorted(GATE_COMPONENTS)


@pytest.mark.parametrize("name", GATE_COMPONENTS)
def test_gate_component_body_returns_the_verdict_it_published(name, tmp_path, monkeypatch, request):
    """Run the body with stand-in artifacts: it publishes once, and returns exactly that verdict."""
    from kfp_gates.components.common import publish as publish_module
    from kfp_gates.components.common.result import GateResult

    real = publish_module.publish
    calls = []

    def spy(result, **kw):
        verdict = real(result, **kw)
        calls.append((result, verdict))
        return verdict

    monkeypatch.setattr(publish_module, "publish", spy)
    kwargs, extra_outputs, expected = CASES[name](tmp_path, request)
    outputs = gate_outputs(tmp_path, *extra_outputs)
    returned = _component(name).python_func(**kwargs, **outputs)

    assert len(calls) == 1, "the body publishes its result exactly once, through common.publish"
    result, published = calls[0]
    on_disk = GateResult.from_json(Path(outputs["result"].path).read_text())
    assert returned == published == result.decision.value == on_disk.decision.value
    if expected is not None:
        assert returned == expected
    assert Path(outputs["html_report"].path).read_text().strip()
    assert Path(outputs["markdown_report"].path).read_text().strip()
    assert outputs["metrics"].logged["blocked"] == (1.0 if returned == "fail" else 0.0)
