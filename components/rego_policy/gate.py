"""The policy gate: Rego over the run's metrics and every gate result decides promotion.

``run(subject, policy)`` evaluates the policy's ``policy_gate`` section (Rego
files, package, data thresholds) on ``subject``, the input document
``{"metrics": {...}, "gates": {"<gate>": <GateResult dict>, ...}}``, and
returns a :class:`GateResult` whose subject is that document's content digest
(sha256 of its canonical JSON), named ``policy input``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from kfp_gates.components.common.errors import ConfigError, UnsafeInputError
from kfp_gates.components.common.gate import Clock, GateSettings, finalize
from kfp_gates.components.common.policy import GatePolicy, PolicyGateSection
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity

from .engine import Evaluation, Message, PolicyEngine, load_rego

GATE = "policy_gate"
TOOL_NAME = "kfp-gates policy-gate (regopy)"
SUBJECT_NAME = "policy input"

DENY = "KFPG-POLICY-DENY"
WARN = "KFPG-POLICY-WARN"
INPUT_MISSING = "KFPG-POLICY-INPUT-MISSING"
# Ids the gate gives itself: a waiver of one would waive every rule without an id, or a missing input.
RESERVED = (DENY, WARN, INPUT_MISSING)


@functools.cache
def _version() -> str:
    from importlib import metadata

    try:
        rego = metadata.version("regopy")
    except metadata.PackageNotFoundError:  # pragma: no cover
        rego = "?"
    try:
        own = metadata.version("kfp-gates")
    except metadata.PackageNotFoundError:  # source tree without install
        own = "0+unknown"
    return f"{own} (regopy {rego})"


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: the bytes the subject digest is taken of."""
    try:
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except ValueError as exc:  # NaN/Infinity: not a metric value anyone can compare
        raise UnsafeInputError(f"the policy input is not canonical JSON: {exc}") from None
    except TypeError as exc:
        raise ConfigError(f"the policy input is not JSON: {exc}") from None


def build_engine(
    section: PolicyGateSection,
    *,
    rego: str | os.PathLike[str] | None = None,
    rego_text: str | None = None,
    data: Mapping[str, Any] | None = None,
    package: str | None = None,
) -> PolicyEngine:
    """The engine for a policy section; arguments override the section (CLI flags, component inputs)."""
    files = load_rego(rego if rego is not None else section.rego, text=rego_text or None)
    return PolicyEngine(files, section.data if data is None else data, package or section.package)


def _finding(m: Message, engine: PolicyEngine) -> Finding:
    path_line = engine.rules.get(m.rule)
    loc = Location(path=path_line[0], line=path_line[1], field=f"data.{engine.package}.{m.rule}") if path_line else None
    if m.rule == "deny":
        severity = Severity.CRITICAL if m.severity == "critical" else Severity.HIGH
    else:
        severity = Severity.MEDIUM
    return Finding(
        id=m.id or (DENY if m.rule == "deny" else WARN),
        severity=severity,
        message=m.text,
        location=loc,
        data={"rule": m.rule, "package": engine.package, "value": m.value},
    )


def findings_of(evaluation: Evaluation, engine: PolicyEngine) -> list[Finding]:
    out = [_finding(m, engine) for m in (*evaluation.deny, *evaluation.warn)]
    for miss in evaluation.missing:
        out.append(
            Finding(
                id=INPUT_MISSING,
                severity=Severity.CRITICAL,
                message=miss.describe() + "; a rule about a value that is not there decides nothing",
                location=Location(path=miss.file, line=miss.ref.line, field=f"input.{miss.ref.root}.{miss.ref.name}"),
                data={"root": miss.ref.root, "name": miss.ref.name, "why": miss.why},
            )
        )
    return out


def run(
    subject: Mapping[str, Any],
    policy: GatePolicy | None = None,
    *,
    rego: str | os.PathLike[str] | None = None,
    rego_text: str | None = None,
    data: Mapping[str, Any] | None = None,
    package: str | None = None,
    engine: PolicyEngine | None = None,
) -> GateResult:
    """Evaluate the Rego policy on the input document ``subject`` and return the gate's result.

    ``deny`` messages are high findings (``critical`` when the message object
    says so) and block; ``warn`` messages are medium and warn; unless the
    section sets ``fail_on``, the gate blocks at ``high`` in every tier (the
    rule, not the tier, says what blocks). An input a rule reads that the run
    did not produce is a critical finding that always blocks: no waiver, no
    ``on_fail: warn``. Pass ``engine`` (from :func:`build_engine`) to reuse
    one interpreter across calls.

    Raises :class:`ConfigError` (exit 2) for Rego that does not compile, a
    package without deny/warn rules, an entry rule that is undefined or not a
    set (the v0 ``deny[msg]`` form), a threshold the rules read that the data
    does not set, or a waiver of the gate's own ids.
    """
    clock = Clock()
    policy = policy or GatePolicy.default()
    eff = policy.gate(GATE)
    section = eff.section
    assert isinstance(section, PolicyGateSection)
    for w in eff.waivers:
        if w.id in RESERVED:
            raise ConfigError(
                f"waiver {w.id!r}: the policy gate's own ids cannot be waived",
                where="gates.policy_gate.waivers",
                hint='give the rule an id (`msg := {"id": "MIN-ACCURACY", "msg": ...}`) and waive that id',
            )
    engine = engine or build_engine(section, rego=rego, rego_text=rego_text, data=data, package=package)
    digest = hashlib.sha256(canonical_json(subject)).hexdigest()
    evaluation = engine.evaluate(subject)
    findings = findings_of(evaluation, engine)
    settings = GateSettings(
        fail_on=section.fail_on or Severity.HIGH,
        on_fail="block" if evaluation.missing else eff.on_fail,
        waivers=eff.waivers,
        extra={
            "tier": policy.tier,
            "package": engine.package,
            "rego": [{"name": f.name, "sha256": f.sha256} for f in engine.files],
            "data": engine.data,
        },
    )
    metrics = subject.get("metrics") or {}
    gates = subject.get("gates") or {}
    metadata: dict[str, Any] = {
        "rego": [{"name": f.name, "sha256": f.sha256} for f in engine.files],
        "package": engine.package,
        "data": engine.data,
        "reads": engine.required(),
        "input": {"metrics": sorted(metrics), "gates": sorted(gates)},
        "counts": {"deny": len(evaluation.deny), "warn": len(evaluation.warn), "missing": len(evaluation.missing)},
        "evaluation_ms": round(evaluation.seconds * 1000, 3),
        "duration_seconds": round(clock.elapsed(), 3),
    }
    return finalize(
        gate=GATE,
        subject=Subject(name=SUBJECT_NAME, digest={"sha256": digest}),
        tool=Tool(name=TOOL_NAME, version=_version()),
        findings=findings,
        settings=settings,
        started_at=clock.started_at,
        metadata=metadata,
    )


def input_document(
    metrics: Mapping[str, Any] | None, results: Sequence[GateResult | Mapping[str, Any]]
) -> dict[str, Any]:
    """``{"metrics": ..., "gates": {gate: result}}``; two results of one gate are an error (which would decide?)."""
    gates: dict[str, Any] = {}
    for r in results:
        d = r.to_dict() if isinstance(r, GateResult) else dict(r)
        name = str(d.get("gate", ""))
        if not name:
            raise ConfigError("a gate result without a gate name cannot be policy input")
        if name in gates:
            raise ConfigError(f"two results of gate {name!r}: the policy input holds one result per gate")
        gates[name] = d
    return {"metrics": dict(metrics or {}), "gates": gates}
