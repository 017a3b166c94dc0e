"""The isolation gate's rules: sizes, environment allowlist, findings, decisions, policy keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError, PolicyError
from kfp_gates.components.common.gate import Clock
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.isolation import gate
from kfp_gates.components.isolation.interface import StepOutcome, StepSpec, looks_secret, parse_size
from kfp_gates.components.isolation.local import LocalNamespaceBackend, UnisolatedBackend


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512Mi", 512 << 20), ("2Gi", 2 << 30), ("1G", 10**9), ("4096", 4096), ("1.5Gi", 3 << 29), ("100k", 100_000)],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "-1", "lots", "1Xi", "0", "Gi", "9" * 400, "99999Ei", "8Ei"])
def test_parse_size_refuses_garbage(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_size(text)


@given(st.text(max_size=20))
def test_parse_size_only_raises_config_error(text: str) -> None:
    try:
        assert parse_size(text) > 0
    except ConfigError:
        pass


def test_build_env_keeps_only_the_allowlist_and_named_variables() -> None:
    caller = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "VAULT_TOKEN": "hvs.secret",
        "AWS_SECRET_ACCESS_KEY": "x" * 40,
        "KUBECONFIG": "/root/.kube/config",
        "HTTPS_PROXY": "http://proxy:3128",
        "SEED": "42",
    }
    env = gate.build_env(["SEED"], caller)
    assert env == {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp", "SEED": "42"}
    with pytest.raises(ConfigError, match="not set"):
        gate.build_env(["MISSING"], caller)


def test_secret_looking_names() -> None:
    assert all(looks_secret(n) for n in ("VAULT_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY"))
    assert not any(looks_secret(n) for n in ("SEED", "EPOCHS", "LANG"))


def _result(policy: GatePolicy, outcome: StepOutcome, **kw):
    step = StepSpec(argv=("python", "train.py"), timeout=60)
    return gate.result_for(policy, step, outcome, Clock(), **kw)


def test_success_passes_with_evidence_of_how_it_was_isolated() -> None:
    r = _result(GatePolicy.default(), StepOutcome(backend="namespaces", exit_code=0, details={"network": "loopback"}))
    assert r.decision.value == "pass"
    assert r.metadata["isolated"] is True and r.metadata["isolation"] == {"network": "loopback"}
    assert r.subject.name == "step: python train.py"
    assert "env_names" in r.metadata["step"] and "VAULT" not in r.to_json()


def test_a_failed_step_fails_even_where_the_policy_only_warns() -> None:
    policy = GatePolicy.parse("tier: fast-track\ngates:\n  isolation:\n    on_fail: warn\n")
    r = _result(policy, StepOutcome(backend="namespaces", exit_code=3))
    assert r.decision.value == "fail"
    assert [f.id for f in r.findings] == [gate.STEP_FAILED]
    r = _result(policy, StepOutcome(backend="namespaces", exit_code=None, signal=9, timed_out=True))
    assert r.decision.value == "fail" and r.findings[0].id == gate.TIMEOUT


def test_unisolated_run_carries_a_loud_finding() -> None:
    policy = GatePolicy.parse("tier: fast-track\ngates:\n  isolation:\n    isolation: none\n")
    r = _result(policy, StepOutcome(backend="none", exit_code=0, isolated=False))
    assert r.decision.value == "warn"
    f = r.findings[0]
    assert f.id == gate.UNISOLATED and f.severity.value == "high" and "WITHOUT isolation" in f.message


def test_secret_env_and_egress_exceptions_are_reported() -> None:
    r = _result(
        GatePolicy.default("critical"),
        StepOutcome(backend="kubernetes", exit_code=0),
        explicit_env=["VAULT_TOKEN", "SEED"],
        egress=["dns"],
    )
    ids = sorted(f.id for f in r.findings)
    assert ids == [gate.EGRESS_ALLOWED, gate.SECRET_ENV]
    assert r.decision.value == "fail"  # critical tier: medium blocks


def test_backend_selection_follows_the_policy() -> None:
    assert isinstance(gate.backend_for(GatePolicy.default()), LocalNamespaceBackend)
    ft = GatePolicy.parse("tier: fast-track\ngates:\n  isolation:\n    isolation: none\n")
    assert isinstance(gate.backend_for(ft), UnisolatedBackend)
    kube = GatePolicy.parse("gates:\n  isolation:\n    isolation: kubernetes\n")
    with pytest.raises(ConfigError, match="kubernetes"):
        gate.backend_for(kube)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("tier: standard\ngates:\n  isolation:\n    isolation: none\n", "only allowed in the fast-track tier"),
        ("gates:\n  isolation:\n    allow_egress: [everything]\n", "unknown egress exception"),
        ("gates:\n  isolation:\n    memory: lots\n", "invalid size"),
        ("gates:\n  isolation:\n    hide: [relative/path]\n", "must be absolute"),
        ("gates:\n  isolation:\n    isolaton: namespaces\n", "did you mean 'isolation'"),
    ],
)
def test_policy_section_refuses_bad_settings(yaml_text: str, message: str) -> None:
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(yaml_text)
    assert message in exc.value.diagnostics()


def test_limits_from_policy() -> None:
    policy = GatePolicy.parse(
        "gates:\n  isolation:\n    memory: 1Gi\n    cpu_time: 30m\n    max_file_size: 10Mi\n    max_processes: 64\n"
    )
    limits = gate.limits_from_policy(gate.section(policy))
    assert (limits.memory, limits.cpu_seconds, limits.file_size, limits.processes) == (1 << 30, 1800, 10 << 20, 64)
    assert gate.limits_from_policy(gate.section(policy), memory="256Mi").memory == 256 << 20


def test_step_spec_refuses_an_empty_command_and_bad_timeout() -> None:
    with pytest.raises(ConfigError, match="no command"):
        StepSpec(argv=())
    with pytest.raises(ConfigError, match="timeout"):
        StepSpec(argv=("true",), timeout=0)
