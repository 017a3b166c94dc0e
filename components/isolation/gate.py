"""The ``isolation`` gate: run a step through a backend and report how it was confined.

:func:`launch` picks the backend the policy asks for, runs the step, and turns
the outcome into a :class:`GateResult` with :func:`finalize`. A step that did
not succeed (non-zero exit, killed, deadline) makes the verdict ``fail``
whatever the policy's ``on_fail`` says: a gate never passes a step that did
not finish. ``isolation: none`` runs unconfined and always carries a
high-severity ``KFPG-ISO-UNISOLATED`` finding.

What can be judged before the step runs is judged before it runs: when the
request alone (a secret-looking ``--env``, an egress exception) already makes
the verdict ``fail``, :func:`launch` does not start the step, so a credential
never reaches a step whose outputs the gate would then have to withhold.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import Clock, GateSettings, finalize
from kfp_gates.components.common.policy import GatePolicy, IsolationSection
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Decision, Severity

from .interface import (
    BASE_ENV_ALLOWLIST,
    DEFAULT_PATH,
    SANDBOX_TMP,
    IsolationBackend,
    Limits,
    StepOutcome,
    StepSpec,
    looks_secret,
    parse_size,
)

GATE = "isolation"
TOOL = Tool(name="kfp-gates-isolation", version="1")

UNISOLATED = "KFPG-ISO-UNISOLATED"
STEP_FAILED = "KFPG-ISO-STEP-FAILED"
TIMEOUT = "KFPG-ISO-TIMEOUT"
SECRET_ENV = "KFPG-ISO-SECRET-ENV"  # noqa: S105 - a finding id, not a secret
EGRESS_ALLOWED = "KFPG-ISO-EGRESS-ALLOWED"
OUTPUT_REFUSED = "KFPG-ISO-OUTPUT-REFUSED"
NOT_RUN = "KFPG-ISO-NOT-RUN"


def section(policy: GatePolicy) -> IsolationSection:
    sec = policy.gate(GATE).section
    assert isinstance(sec, IsolationSection)
    return sec


def limits_from_policy(sec: IsolationSection, *, memory: str | None = None) -> Limits:
    """The :class:`Limits` a policy section asks for; ``memory`` overrides the section's value."""
    mem = memory or sec.memory
    defaults = Limits()
    return Limits(
        memory=parse_size(mem, what="memory") if mem else None,
        cpu_seconds=int(sec.cpu_time.total_seconds()) if sec.cpu_time else None,
        file_size=parse_size(sec.max_file_size, what="max_file_size") if sec.max_file_size else defaults.file_size,
        processes=sec.max_processes or defaults.processes,
    )


def build_env(pass_names: Sequence[str], caller_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The step's environment: the base allowlist plus the named variables, from ``caller_env``.

    Every other variable of the caller (tokens, cloud credentials, proxies) is
    dropped. A named variable that is not set is a :class:`ConfigError`.
    """
    src = os.environ if caller_env is None else caller_env
    env = {k: src[k] for k in BASE_ENV_ALLOWLIST if k in src}
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("LANG", "C.UTF-8")
    env["HOME"] = env["TMPDIR"] = SANDBOX_TMP
    for name in pass_names:
        if name not in src:
            raise ConfigError(f"--env {name}: not set in the caller's environment", hint="export it or drop --env")
        env[name] = src[name]
    return env


def subject_for(step: StepSpec, extra: Mapping[str, Any] | None = None) -> Subject:
    """The step as a subject: its command line, and the sha256 of its canonical description."""
    desc = {**step.describe(), **(extra or {})}
    digest = hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()
    return Subject(name="step: " + shlex.join(step.argv)[:200], digest={"sha256": digest})


def request_findings(explicit_env: Sequence[str] = (), egress: Sequence[str] = ()) -> list[Finding]:
    """Findings about what the step asks for, known before it runs: secret-looking env names, egress."""
    out: list[Finding] = []
    for name in explicit_env:
        if looks_secret(name):
            out.append(
                Finding(
                    id=SECRET_ENV,
                    severity=Severity.MEDIUM,
                    message=f"environment variable {name} was passed into the step on request; "
                    "its name suggests a credential",
                    data={"name": name},
                )
            )
    for rule in egress:
        out.append(
            Finding(
                id=EGRESS_ALLOWED,
                severity=Severity.LOW,
                message=f"egress exception {rule!r} allowed by policy",
                data={"rule": rule},
            )
        )
    return out


def findings_for(
    step: StepSpec, outcome: StepOutcome, *, explicit_env: Sequence[str] = (), egress: Sequence[str] = ()
) -> list[Finding]:
    out: list[Finding] = []
    if not outcome.ran:
        out.append(
            Finding(
                id=NOT_RUN,
                severity=Severity.INFO,
                message="step not started: the request alone already blocks under this policy; "
                "nothing ran and no outputs were produced",
            )
        )
    if not outcome.isolated:
        out.append(
            Finding(
                id=UNISOLATED,
                severity=Severity.HIGH,
                message="step ran WITHOUT isolation (policy isolation: none): it could reach the network "
                "and every file the caller can read; only the environment, rlimits and deadline applied",
            )
        )
    if outcome.timed_out:
        out.append(
            Finding(
                id=TIMEOUT,
                severity=Severity.CRITICAL,
                message=f"step exceeded its deadline of {step.timeout:g}s; it and its children were killed",
            )
        )
    elif outcome.ran and not outcome.succeeded:
        how = (
            f"exited with status {outcome.exit_code}"
            if outcome.exit_code is not None
            else f"was killed by signal {outcome.signal}"
        )
        out.append(Finding(id=STEP_FAILED, severity=Severity.CRITICAL, message=f"step {how}"))
    for entry in outcome.refused_outputs:
        out.append(
            Finding(
                id=OUTPUT_REFUSED,
                severity=Severity.CRITICAL,
                message=f"output {entry}: only regular files and directories are handed back; it was removed",
                location=Location(path=entry.split(": ", 1)[0]),
            )
        )
    out.extend(request_findings(explicit_env, egress))
    return out


def result_for(
    policy: GatePolicy,
    step: StepSpec,
    outcome: StepOutcome,
    clock: Clock,
    *,
    explicit_env: Sequence[str] = (),
    egress: Sequence[str] = (),
    subject_extra: Mapping[str, Any] | None = None,
) -> GateResult:
    """The gate result for one step outcome (see the module docstring for the rules)."""
    settings = GateSettings.from_effective(
        policy.gate(GATE), backend=outcome.backend, timeout_seconds=step.timeout, limits=step.limits.describe()
    )
    result = finalize(
        gate=GATE,
        subject=subject_for(step, subject_extra),
        tool=TOOL,
        findings=findings_for(step, outcome, explicit_env=explicit_env, egress=egress),
        settings=settings,
        started_at=clock.started_at,
        metadata={
            "step": step.describe(),
            "exit_code": outcome.exit_code,
            "signal": outcome.signal,
            "timed_out": outcome.timed_out,
            "status": outcome.status,
            "duration_seconds": round(outcome.duration, 3),
            "backend": outcome.backend,
            "isolated": outcome.isolated,
            "isolation": dict(outcome.details),
            "ran": outcome.ran,
        },
    )
    if not outcome.succeeded and result.decision is not Decision.FAIL:
        # A step that did not finish never passes, whatever on_fail says.
        result = result.model_copy(
            update={"decision": Decision.FAIL, "policy": {**result.policy, "step_failure_always_fails": True}}
        )
    return result


def backend_for(
    policy: GatePolicy, *, hide: Sequence[str] = (), stdout: int | None = None, stderr: int | None = None
) -> IsolationBackend:
    """The local backend the policy asks for: namespaces (default) or, in fast-track only, none.

    ``hide`` adds host paths to hide to the policy's own list. ``isolation:
    kubernetes`` needs a client: build
    :class:`~kfp_gates.components.isolation.kubernetes.KubernetesBackend` instead.
    """
    from .local import LocalNamespaceBackend, UnisolatedBackend

    sec = section(policy)
    mode = sec.isolation or "namespaces"
    if mode == "none":
        if policy.tier != "fast-track":  # policy.py refuses this too; checked again where it matters
            raise ConfigError("isolation: none is only allowed in the fast-track tier", where="gates.isolation")
        return UnisolatedBackend(stdout=stdout, stderr=stderr)
    if mode == "kubernetes":
        raise ConfigError(
            "the policy asks for isolation: kubernetes; this runs locally",
            where="gates.isolation.isolation",
            hint="use `kfp-gates launch` (Kubernetes) or set isolation: namespaces",
        )
    return LocalNamespaceBackend(hide=(*sec.hide, *hide), stdout=stdout, stderr=stderr)


def launch(
    policy: GatePolicy,
    step: StepSpec,
    backend: IsolationBackend | None = None,
    *,
    explicit_env: Sequence[str] = (),
    egress: Sequence[str] = (),
    subject_extra: Mapping[str, Any] | None = None,
) -> tuple[GateResult, StepOutcome]:
    """Run ``step`` isolated and return (gate result, outcome).

    When the request alone (:func:`request_findings`) already fails under the
    policy, the step is not started: the outcome has ``ran=False``, the result
    is ``fail``, and no output is written. Raises what the backend raises when
    it cannot isolate (never runs the step unconfined unless the policy says
    ``isolation: none``).
    """
    clock = Clock()
    backend = backend or backend_for(policy)
    effective = policy.gate(GATE)
    pre = finalize(
        gate=GATE,
        subject=subject_for(step, subject_extra),
        tool=TOOL,
        findings=request_findings(explicit_env, egress),
        settings=GateSettings.from_effective(effective),
        started_at=clock.started_at,
    )
    if pre.decision is Decision.FAIL:
        outcome = StepOutcome(backend=backend.name, exit_code=None, ran=False, isolated=backend.name != "none")
    else:
        outcome = backend.run(step)
    result = result_for(
        policy, step, outcome, clock, explicit_env=explicit_env, egress=egress, subject_extra=subject_extra
    )
    return result, outcome
