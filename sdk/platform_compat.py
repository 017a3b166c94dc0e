"""Which PlatformSpec fields a target KFP backend honours.

kfp-kubernetes 2.17 writes fields into a compiled pipeline's PlatformSpec
(``platforms.kubernetes.deploymentSpec.executors.<label>``) that older backends
do not know. Backends 2.2.0-2.4.0 unmarshal the executor config strictly, so an
unknown field fails the task's driver at run start; from 2.4.1 unknown fields
are discarded without a word — a ``securityContext`` written for hardening then
silently does nothing on Kubeflow 1.10/1.11. Neither may pass unnoticed.

The field tables (``sdk/data/kfp_platform_fields.json``) were derived from
``kubernetes_executor_config.proto`` at the commit each backend release builds
with; each entry records its provenance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.common.kfp_ir import CompiledPipeline
from kfp_gates.components.common.result import Finding, Location
from kfp_gates.components.common.severity import Severity

BACKEND_FIELD = "KFPG-CHECK-BACKEND-FIELD"
ROOT_MESSAGE = "KubernetesExecutorConfig"
# The oldest KFP backend kfp-gates supports: the one Kubeflow 1.9 ships. Override with
# KFP_GATES_KFP_BACKEND or `kfp-gates check --kfp-backend`.
DEFAULT_BACKEND = "2.2.0"
_DATA = Path(__file__).resolve().parent / "data" / "kfp_platform_fields.json"


@cache
def _tables() -> dict[str, Any]:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def supported_backends() -> list[str]:
    """Backend versions with a field table, oldest first."""
    return sorted(_tables()["versions"], key=Version)


def resolve_backend(value: str | None = None) -> str:
    """The table to judge by for backend ``value`` (default ``$KFP_GATES_KFP_BACKEND`` or DEFAULT_BACKEND).

    A version between two tables uses the older one (fields only ever get added).
    Raises ConfigError for a version that does not parse or is older than the oldest supported.
    """
    text = (value or os.environ.get("KFP_GATES_KFP_BACKEND") or DEFAULT_BACKEND).strip().lstrip("v")
    try:
        wanted = Version(text)
    except InvalidVersion:
        raise ConfigError(
            f"KFP backend version {text!r} is not a version", where="--kfp-backend",
            hint=f"give the backend's release, e.g. {DEFAULT_BACKEND} (Kubeflow 1.9) or 2.5.0 (Kubeflow 1.10)",
        ) from None
    known = [v for v in supported_backends() if Version(v) <= wanted]
    if not known:
        raise ConfigError(
            f"KFP backend {text} is older than the oldest supported ({supported_backends()[0]})",
            where="--kfp-backend",
        )
    return known[-1]


def _message_fields(backend: str, message: str) -> dict[str, dict[str, Any]]:
    """json name and proto name -> field entry, for ``message`` as ``backend`` knows it."""
    fields = _tables()["versions"][backend]["messages"].get(message) or {}
    out: dict[str, dict[str, Any]] = {}
    for proto_name, entry in fields.items():
        out[proto_name] = entry
        out[entry["json"]] = entry  # protojson accepts both spellings
    return out


def unknown_fields(config: dict[str, Any], backend: str) -> Iterator[str]:
    """Dotted paths of every key of an executor's config that ``backend``'s proto does not define."""

    def walk(value: Any, message: str, path: str) -> Iterator[str]:
        if not isinstance(value, dict):
            return
        fields = _message_fields(backend, message)
        for key, item in value.items():
            entry = fields.get(key)
            where = f"{path}.{key}" if path else key
            if entry is None:
                yield where
                continue
            nested = entry.get("message")
            if nested is None or entry["kind"] == "map":
                continue
            items = item if entry["kind"] == "repeated" and isinstance(item, list) else [item]
            for i, sub in enumerate(items):
                yield from walk(sub, nested, f"{where}[{i}]" if entry["kind"] == "repeated" else where)

    yield from walk(config, ROOT_MESSAGE, "")


def first_backend_knowing(config: dict[str, Any], path: str) -> str | None:
    """The oldest supported backend that knows ``path`` of ``config`` (None: no supported backend does)."""
    for backend in supported_backends():
        if path not in set(unknown_fields(config, backend)):
            return backend
    return None


def backend_field_findings(pipeline: CompiledPipeline, backend: str | None = None) -> list[Finding]:
    """One high finding per PlatformSpec field that the target backend would reject or silently drop."""
    target = resolve_backend(backend)
    strict = Version(target) <= Version(_tables()["strict_until"])
    findings: list[Finding] = []
    for label, ex in sorted(pipeline.executors.items()):
        for path in unknown_fields(ex.platform, target):
            needed = first_backend_knowing(ex.platform, path)
            fate = (
                "fails the task's driver at run start (this backend rejects unknown fields)"
                if strict
                else "is silently dropped (this backend discards unknown fields), so the setting would be lost"
            )
            need = f"it needs KFP backend >= {needed}" if needed else "no supported KFP backend knows it"
            findings.append(
                Finding(
                    id=BACKEND_FIELD,
                    severity=Severity.HIGH,
                    message=f"executor {label} sets platform field {path}, unknown to KFP backend {target}: it "
                    f"{fate}; {need} — upgrade the backend, or express it another way (cluster policy in deploy/)",
                    location=Location(
                        path=pipeline.path,
                        field=f"platforms.kubernetes.deploymentSpec.executors.{label}.{path}",
                    ),
                    data={
                        "executor": label, "field": path, "backend": target, "minimum_backend": needed,
                        "aliases": [f"{BACKEND_FIELD}:{label}"],
                    },
                )
            )
    return findings
