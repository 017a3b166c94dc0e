"""The model-scan gate: scan, turn findings into a decision with the policy, return a GateResult."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.gate import Clock, GateSettings, finalize, unread_subject_finding
from kfp_gates.components.common.policy import GatePolicy, ModelScanSection
from kfp_gates.components.common.result import GateResult, Subject, Tool
from kfp_gates.components.common.severity import Severity

from .globals_policy import GlobalsPolicy
from .scanner import DANGEROUS, ModelScanner, ScanLimits

GATE = "model_scan"
TOOL_NAME = "kfp-gates model-scan"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("kfp-gates")
    except metadata.PackageNotFoundError:  # source tree without install
        return "0+unknown"


def run_gate(
    path: str | os.PathLike[str],
    policy: GatePolicy | None = None,
    *,
    allow: tuple[str, ...] | list[str] = (),
    subject_name: str | None = None,
) -> GateResult:
    """Scan a model file or directory and return the gate's result.

    The decision follows the policy's ``model_scan`` section: ``allow`` adds
    trusted globals (``--allow`` adds more); ``unknown_globals: warn`` (only
    valid in the fast-track tier) reports unknown globals as medium instead
    of high. Unless the section sets ``fail_on`` itself, the gate blocks at
    ``high`` in every tier, because every high finding here means "this file
    may run code when loaded" or "cannot prove it does not". Dangerous
    globals always block: ``on_fail: warn`` does not downgrade them and a
    waiver cannot cover them.

    Raises :class:`ConfigError` (exit 2) for an invalid allow entry or a
    waiver of a dangerous global, :class:`InputNotFoundError` for a missing path.
    """
    clock = Clock()
    policy = policy or GatePolicy.default()
    eff = policy.gate(GATE)
    section = eff.section
    assert isinstance(section, ModelScanSection)
    for w in eff.waivers:
        if w.id == DANGEROUS or w.id.startswith(DANGEROUS + ":"):
            raise ConfigError(
                f"waiver {w.id!r}: dangerous globals cannot be waived",
                where="gates.model_scan.waivers",
                hint="remove the waiver; a model that imports a dangerous global must be rebuilt",
            )
    globals_policy = GlobalsPolicy([*section.allow, *allow])
    unknown_warns = section.unknown_globals == "warn"
    limits = ScanLimits(
        max_decompressed_bytes=section.max_decompressed_bytes,
        max_archive_members=section.max_archive_members,
        max_nesting_depth=section.max_nesting_depth,
    )
    scanner = ModelScanner(globals_policy, limits, Severity.MEDIUM if unknown_warns else Severity.HIGH,
                           accept_unanalysed=section.accept_unanalysed)
    report = scanner.scan(path)

    fail_on = section.fail_on or min(eff.fail_on, Severity.HIGH)
    dangerous = any(f.id == DANGEROUS for f in report.findings)
    on_fail = "block" if dangerous else eff.on_fail
    settings = GateSettings(
        fail_on=fail_on,
        on_fail=on_fail,
        waivers=eff.waivers,
        extra={
            "tier": policy.tier,
            "allow": list(globals_policy.allow),
            "accept_unanalysed": [e.model_dump(exclude_none=True) for e in section.accept_unanalysed],
            "unknown_globals": "warn" if unknown_warns else "block",
            "max_decompressed_bytes": limits.max_decompressed_bytes,
            "max_archive_members": limits.max_archive_members,
            "max_nesting_depth": limits.max_nesting_depth,
        },
    )
    p = Path(path)
    name = subject_name or p.name or str(p)
    digest = report.model_digest()  # taken from the bytes the scan read, in the same pass
    findings = list(report.findings)
    if digest is None:
        findings.append(unread_subject_finding(name, "the scan read no model file or directory"))
    metadata: dict[str, Any] = {
        "files": [f.to_dict() for f in report.files],
        "globals": dict(sorted(report.globals_seen.items())),
        "duration_seconds": round(clock.elapsed(), 3),
    }
    if report.accepted_unanalysed:
        # What passed without analysis, and the policy's reason: part of the result and of its evidence.
        metadata["accepted_unanalysed"] = report.accepted_unanalysed
    return finalize(
        gate=GATE,
        subject=Subject(name=name, digest={"sha256": digest}) if digest else Subject.unread(name),
        tool=Tool(name=TOOL_NAME, version=_version()),
        findings=findings,
        settings=settings,
        started_at=clock.started_at,
        metadata=metadata,
    )
