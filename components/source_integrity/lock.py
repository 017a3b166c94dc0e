"""The component lock: the executors of a compiled pipeline, as they were reviewed.

A compiled KFP pipeline carries everything its tasks will execute: each
executor's image, command and args, and for lightweight components the Python
source itself, embedded in the command. :func:`create_lock` records a sha256 of
each of those parts per executor (plus the rest of the container spec, the
executor's Kubernetes platform settings, and the DAG that wires the tasks);
:func:`verify_lock` compares a pipeline with a lock and returns one finding per
executor that was changed, added or removed, naming it, its component and the
tasks that run it, and which parts changed.

The lock file is canonical JSON (sorted keys, no timestamps), so locking the
same pipeline twice gives the same bytes and a review diff shows only real
changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.files import parser_limits, read_regular_file
from kfp_gates.components.common.kfp_ir import CompiledPipeline, Executor
from kfp_gates.components.common.result import Finding, Location
from kfp_gates.components.common.severity import Severity

from ._text import printable

CHANGED = "KFPG-LOCK-EXECUTOR-CHANGED"
ADDED = "KFPG-LOCK-EXECUTOR-ADDED"
REMOVED = "KFPG-LOCK-EXECUTOR-REMOVED"
RENAMED = "KFPG-LOCK-EXECUTOR-RENAMED"
DAG_CHANGED = "KFPG-LOCK-DAG-CHANGED"

_RECREATE = "create it from the reviewed pipeline: `kfp-gates lock create PIPELINE.yaml -o components.lock`"
_CODE_MARKER = "<embedded_code>"
PARTS = ("image", "command", "args", "embedded_code", "container", "platform", "spec")


def _sha(value: Any) -> str:
    if isinstance(value, str):
        data = value.encode("utf-8")
    else:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExecutorDigests(_Strict):
    """sha256 of each part of one executor; ``embedded_code`` is None for container components."""

    image: str | None = None
    command: str = Field(description="the command with the embedded code replaced by a marker (the wrapper)")
    args: str
    embedded_code: str | None = None
    container: str = Field(description="the container spec without image, command and args (env, resources...)")
    platform: str = Field(description="the executor's Kubernetes PlatformSpec settings")
    spec: str = Field(description="the whole executor body, for non-container executors (importer, resolver)")


class LockedExecutor(_Strict):
    kind: str
    image: str | None = None
    components: tuple[str, ...] = ()
    digests: ExecutorDigests


class ComponentLock(_Strict):
    """A parsed lock file. Unknown keys are an error: a lock is a security record."""

    api_version: Literal["kfp-gates/v1"] = Field(default="kfp-gates/v1", alias="apiVersion")
    kind: Literal["ComponentLock"] = "ComponentLock"
    pipeline: str
    dag: str = Field(description="sha256 of the pipeline's root DAG and component interfaces")
    executors: dict[str, LockedExecutor]

    def to_json(self) -> str:
        """Canonical JSON text of the lock (stable bytes for the same pipeline)."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True) + "\n"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()


def executor_digests(executor: Executor) -> ExecutorDigests:
    """The digests of one executor's parts (see :data:`PARTS`)."""
    container = dict(executor.raw.get("container") or {})
    for key in ("image", "command", "args"):
        container.pop(key, None)
    code = executor.embedded_code
    # The code is digested on its own, so a finding can tell an edited function from an edited wrapper
    # (e.g. a `pip install` slipped into the shell line around it).
    wrapper = [_CODE_MARKER if code is not None and part == code else part for part in executor.command]
    return ExecutorDigests(
        image=_sha(executor.image) if executor.image is not None else None,
        command=_sha(wrapper),
        args=_sha(list(executor.args)),
        embedded_code=_sha(code) if code is not None else None,
        container=_sha(container),
        platform=_sha(executor.platform or {}),
        spec=_sha(executor.raw),
    )


def components_by_executor(pipeline: CompiledPipeline) -> dict[str, tuple[str, ...]]:
    """Executor label -> names of the components (``comp-*``) that run it."""
    out: dict[str, list[str]] = {}
    for name, comp in (pipeline.spec.get("components") or {}).items():
        label = (comp or {}).get("executorLabel") if isinstance(comp, dict) else None
        if label:
            out.setdefault(str(label), []).append(str(name))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def tasks_by_component(pipeline: CompiledPipeline) -> dict[str, list[str]]:
    """Component name -> names of the tasks (in any DAG, nested ones too) that use it."""
    dags = [pipeline.spec.get("root") or {}]
    dags += [c for c in (pipeline.spec.get("components") or {}).values() if isinstance(c, dict)]
    out: dict[str, list[str]] = {}
    for holder in dags:
        tasks = ((holder.get("dag") or {}).get("tasks") or {}) if isinstance(holder, dict) else {}
        for tname, task in tasks.items():
            ref = ((task or {}).get("componentRef") or {}).get("name") if isinstance(task, dict) else None
            if ref:
                out.setdefault(str(ref), []).append(str(tname))
    return out


def dag_digest(pipeline: CompiledPipeline) -> str:
    """sha256 of what wires the executors together: the root DAG and every component's interface and DAG."""
    return _sha({"root": pipeline.spec.get("root"), "components": pipeline.spec.get("components")})


def create_lock(pipeline: CompiledPipeline) -> ComponentLock:
    """Record the digests of every executor of ``pipeline``."""
    comps = components_by_executor(pipeline)
    return ComponentLock(
        pipeline=pipeline.name,
        dag=dag_digest(pipeline),
        executors={
            label: LockedExecutor(
                kind=e.kind, image=e.image, components=comps.get(label, ()), digests=executor_digests(e)
            )
            for label, e in sorted(pipeline.executors.items())
        },
    )


def parse_lock(text: str, path: str = "<lock>") -> ComponentLock:
    """Parse lock file text. Raises :class:`ConfigError` (exit 2) naming the line or field."""
    try:
        with parser_limits("lock file", path):
            data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"lock file is not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}",
                          hint=_RECREATE) from None
    if not isinstance(data, dict):
        raise ConfigError("lock file must be a JSON object", where=path)
    try:
        return ComponentLock.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"not a kfp-gates component lock: {loc}: {err['msg']}", where=path,
                          hint=_RECREATE) from None


def load_lock(path: str | Path) -> ComponentLock:
    """Read a lock file. Raises InputNotFoundError / ConfigError (both exit 2)."""
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise InputNotFoundError("lock file not found", where=str(p), hint=_RECREATE)
    data = read_regular_file(p, "lock file")  # a FIFO or directory is refused, not read
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read lock file: {exc}", where=str(p)) from None
    return parse_lock(text, str(p))


def _describe(label: str, comps: tuple[str, ...], tasks: dict[str, list[str]]) -> str:
    names = sorted({t for c in comps for t in tasks.get(c, [])})
    where = f"component {', '.join(comps)}" if comps else "no component"
    return printable(f"executor {label} ({where}" + (f"; task {', '.join(names)})" if names else ")"))


def verify_lock(pipeline: CompiledPipeline, lock: ComponentLock) -> list[Finding]:
    """Findings for every difference between ``pipeline`` and ``lock``; empty when they match.

    Each changed executor is one finding listing the changed parts; an added or
    removed executor is one finding each, except that an added executor whose
    digests equal a removed one's is reported once as renamed (low severity: it
    runs exactly the reviewed code under a new label).
    """
    current = create_lock(pipeline)
    tasks = tasks_by_component(pipeline)
    loc = Location(path=pipeline.path)
    findings: list[Finding] = []
    added = sorted(set(current.executors) - set(lock.executors))
    removed = sorted(set(lock.executors) - set(current.executors))
    renamed: dict[str, str] = {}
    for new in added:
        twin = next((old for old in removed if old not in renamed.values()
                     and lock.executors[old].digests == current.executors[new].digests), None)
        if twin is not None:
            renamed[new] = twin
    for label in sorted(set(current.executors) & set(lock.executors)):
        old, new_e = lock.executors[label].digests, current.executors[label].digests
        parts = [p for p in PARTS if p != "spec" and getattr(old, p) != getattr(new_e, p)]
        if not parts and old.spec != new_e.spec:
            parts = ["spec"]
        if parts:
            what = _describe(label, current.executors[label].components, tasks)
            detail = ""
            if "image" in parts:
                detail = printable(f" (image {lock.executors[label].image} -> {current.executors[label].image})")
            findings.append(Finding(
                id=CHANGED, severity=Severity.HIGH,
                message=f"{what} changed since the lock was reviewed: {', '.join(parts)}{detail}",
                location=loc.model_copy(update={"field": f"deploymentSpec.executors.{label}"}),
                data={"executor": label, "parts": parts, "aliases": [f"{CHANGED}:{label}"]},
            ))
    for label in added:
        what = _describe(label, current.executors[label].components, tasks)
        if label in renamed:
            findings.append(Finding(
                id=RENAMED, severity=Severity.LOW,
                message=f"{what} is locked executor {renamed[label]} under a new name (same digests)",
                location=loc.model_copy(update={"field": f"deploymentSpec.executors.{label}"}),
                data={"executor": label, "was": renamed[label]},
            ))
            continue
        findings.append(Finding(
            id=ADDED, severity=Severity.HIGH,
            message=f"{what} was added after the lock was reviewed"
            + (printable(f" (image {current.executors[label].image})") if current.executors[label].image else ""),
            location=loc.model_copy(update={"field": f"deploymentSpec.executors.{label}"}),
            data={"executor": label, "aliases": [f"{ADDED}:{label}"]},
        ))
    for label in removed:
        if label in renamed.values():
            continue
        comps = lock.executors[label].components
        findings.append(Finding(
            id=REMOVED, severity=Severity.HIGH,
            message=printable(f"executor {label} ({'component ' + ', '.join(comps) if comps else 'no component'}) ")
            + "was removed after the lock was reviewed (a gate step may have been taken out)",
            location=loc.model_copy(update={"field": f"deploymentSpec.executors.{label}"}),
            data={"executor": label, "aliases": [f"{REMOVED}:{label}"]},
        ))
    if current.dag != lock.dag:
        findings.append(Finding(
            id=DAG_CHANGED, severity=Severity.HIGH,
            message="the pipeline's DAG or component interfaces changed since the lock was reviewed "
            "(tasks, their inputs, dependencies, conditions or caching)",
            location=loc.model_copy(update={"field": "root"}),
            data={"locked": lock.dag, "current": current.dag},
        ))
    return findings
