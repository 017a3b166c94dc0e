"""Checks on a compiled pipeline (KFP IR), reusable by the CLI and by ``secure()``.

Each ``*_findings`` function is pure: it takes a parsed pipeline and returns
findings. :func:`check_pipeline` runs them under a policy and returns gate
results; :func:`require_reviewed` is the one a pipeline wrapper calls to refuse
a pipeline that was edited after its component lock was reviewed.

What is checked:

* **component lock** (when a lock is given): every executor's image, command,
  args and embedded code matches the lock (gate ``source_integrity``);
* **runtime installs**: an executor that runs ``pip install`` when its container
  starts (``packages_to_install``, or kfp's own ``install_kfp_package``) pulls
  unreviewed code from an index at run time; the command line is parsed as the
  shell runs it, and a place it cannot see through is a finding too;
* **image pins**: an image referenced by tag can be moved to other bytes; only
  ``repo@sha256:...`` names fixed content.

* **backend fields**: a PlatformSpec field the target KFP backend
  (``--kfp-backend``, ``$KFP_GATES_KFP_BACKEND``, default 2.2.0) would reject or
  silently drop (:mod:`kfp_gates.sdk.platform_compat`);
* **gate caching**: a kfp-gates gate task with caching on. The KFP backend's
  cache key is input artifact names, parameters and image/command, not the
  artifact bytes, so a cached gate returns an old verdict for changed bytes (and
  time-dependent gates go stale); high in the ``critical`` tier (blocks),
  medium elsewhere. kfp-gates components turn caching off themselves.
"""

from __future__ import annotations

from pathlib import Path

from kfp_gates.components.common.digest import sha256_bytes
from kfp_gates.components.common.errors import GateBlocked
from kfp_gates.components.common.gate import Clock, GateSettings, finalize
from kfp_gates.components.common.kfp_ir import (
    CompiledPipeline,
    Executor,
    is_digest_pinned,
    is_placeholder_digest,
    parse_pipeline,
)
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity
from kfp_gates.components.dependency_scan.parsers.shell import PIP_CALL, analyze_executor
from kfp_gates.components.source_integrity.gate import lock_gate, tool
from kfp_gates.components.source_integrity.lock import ComponentLock, verify_lock
from kfp_gates.sdk.platform_compat import backend_field_findings, resolve_backend

CHECKS_GATE = "pipeline_checks"
RUNTIME_INSTALL = "KFPG-CHECK-RUNTIME-INSTALL"
RUNTIME_UNVERIFIABLE = "KFPG-CHECK-RUNTIME-UNVERIFIABLE"
CODE_INSTALL = "KFPG-CHECK-CODE-INSTALL"
UNPINNED_IMAGE = "KFPG-CHECK-UNPINNED-IMAGE"
GATE_CACHED = "KFPG-CHECK-GATE-CACHED"
_PREFIX = "KFPG-CHECK-"


def _where(pipeline: CompiledPipeline, label: str) -> Location:
    return Location(path=pipeline.path, field=f"deploymentSpec.executors.{label}")


def runtime_install_findings(pipeline: CompiledPipeline) -> list[Finding]:
    """Findings for every executor that installs packages, or may, when its container starts.

    Each executor's ``command + args`` is parsed as the kernel and the shell
    run it (:mod:`kfp_gates.components.dependency_scan.parsers.shell`, the
    parser ``scan-deps --pipeline`` uses too):

    * ``KFPG-CHECK-RUNTIME-INSTALL`` (high), one per executor that runs
      ``pip install``; ``data["requirements"]`` lists the requirement words
      pip receives, ``data["unresolved"]`` the ones only known at run time;
    * ``KFPG-CHECK-RUNTIME-UNVERIFIABLE`` (high), one per executor with a
      place where an install could hide that the parser cannot see through
      (a command name from an expansion, ``eval "$x"``, a shell reading
      stdin, a placeholder pasted into a script): fail closed;
    * ``KFPG-CHECK-CODE-INSTALL`` (medium): the embedded Python source
      mentions pip (``pip install`` in a string, ``pip.main``, ``-m pip``), a
      mention being no proof of a call.
    """
    findings: list[Finding] = []
    for label, e in sorted(pipeline.executors.items()):
        code = e.embedded_code
        shell = analyze_executor(e)
        if shell.installs:
            reqs = shell.requirements
            unresolved = [u for i in shell.installs for u in i.unresolved]
            named = reqs + [f"{u} (only known at run time)" for u in unresolved]
            what = ", ".join(named) if named else "packages the command line does not name"
            findings.append(
                Finding(
                    id=RUNTIME_INSTALL,
                    severity=Severity.HIGH,
                    message=f"executor {label} runs `pip install` at container start ({what}): code from a "
                    "package index runs unreviewed; bake it into the image and set install_kfp_package=False, "
                    "no packages_to_install",
                    location=_where(pipeline, label),
                    data={"executor": label, "requirements": reqs, "unresolved": unresolved,
                          "commands": [i.command for i in shell.installs],
                          "aliases": [f"{RUNTIME_INSTALL}:{label}"]},
                )
            )
        if shell.unverifiable:
            first = shell.unverifiable[0]
            findings.append(
                Finding(
                    id=RUNTIME_UNVERIFIABLE,
                    severity=Severity.HIGH,
                    message=f"executor {label}'s command line cannot be proven free of a runtime install: "
                    f"{first.reason} (`{first.text}`)"
                    + (f"; and {len(shell.unverifiable) - 1} more" if len(shell.unverifiable) > 1 else "")
                    + "; spell the command out literally in the component",
                    location=_where(pipeline, label),
                    data={"executor": label,
                          "reasons": [{"reason": u.reason, "text": u.text} for u in shell.unverifiable],
                          "aliases": [f"{RUNTIME_UNVERIFIABLE}:{label}"]},
                )
            )
        hits = _code_installs(code) if code else []
        if hits:
            findings.append(
                Finding(
                    id=CODE_INSTALL,
                    severity=Severity.MEDIUM,
                    message=f"executor {label}'s embedded code appears to install packages at run time "
                    f"(line {', '.join(str(n) for n, _ in hits[:5])}: {hits[0][1][:80]!r})",
                    location=_where(pipeline, label),
                    data={"executor": label, "lines": [n for n, _ in hits], "aliases": [f"{CODE_INSTALL}:{label}"]},
                )
            )
    return findings


_PIP_CALL = PIP_CALL  # the same pattern judges `python -c` code on a command line


def _code_installs(code: str) -> list[tuple[int, str]]:
    """(line number, line) of the embedded source lines that look like they call pip."""
    return [
        (n, line.strip())
        for n, line in enumerate(code.splitlines(), 1)
        if not line.lstrip().startswith("#") and _PIP_CALL.search(line)
    ]


def image_pin_findings(pipeline: CompiledPipeline, *, required: bool = True) -> list[Finding]:
    """One finding per executor whose image is not pinned by digest (high when ``required``, else low)."""
    findings: list[Finding] = []
    for label, image in sorted(pipeline.images().items()):
        if is_digest_pinned(image):
            continue
        if is_placeholder_digest(image):
            why = (f"executor {label} uses image {image}, pinned to a placeholder digest that names no real "
                   "image; build and push the image and pin its real digest (KFP_GATES_IMAGE for kfp-gates)")
        else:
            why = (f"executor {label} uses image {image} by tag: a tag can be moved to other content; "
                   "pin it as repo@sha256:<digest>")
        findings.append(
            Finding(
                id=UNPINNED_IMAGE,
                severity=Severity.HIGH if required else Severity.LOW,
                message=why,
                location=_where(pipeline, label),
                data={"executor": label, "image": image, "aliases": [f"{UNPINNED_IMAGE}:{label}"]},
            )
        )
    return findings


def _dag_tasks(spec: dict) -> list[tuple[str, str, dict]]:
    """(dag name, task name, task) of every task in the root DAG and in every sub-DAG component."""
    out: list[tuple[str, str, dict]] = []
    dags = [("root", spec.get("root") or {})]
    dags += [(name, comp) for name, comp in (spec.get("components") or {}).items() if isinstance(comp, dict)]
    for dag_name, holder in dags:
        tasks = ((holder.get("dag") or {}).get("tasks")) or {}
        if isinstance(tasks, dict):
            out += [(dag_name, t, body) for t, body in tasks.items() if isinstance(body, dict)]
    return out


def is_gate_executor(executor: Executor) -> bool:
    """True for the executor of a kfp-gates component: it runs one of our component functions
    (``--function_to_execute <name>``), or its embedded code calls into kfp_gates.components."""
    from kfp_gates.components import _COMPONENTS

    args = list(executor.args)
    func = args[args.index("--function_to_execute") + 1] if "--function_to_execute" in args[:-1] else None
    return func in _COMPONENTS or "kfp_gates.components" in (executor.embedded_code or "")


def gate_caching_findings(pipeline: CompiledPipeline, *, blocking: bool) -> list[Finding]:
    """One finding per kfp-gates gate task compiled with caching on (high when ``blocking``, else medium)."""
    components = pipeline.spec.get("components") or {}
    findings: list[Finding] = []
    for dag, name, task in _dag_tasks(pipeline.spec):
        if not ((task.get("cachingOptions") or {}).get("enableCache")):
            continue
        comp = components.get(((task.get("componentRef") or {}).get("name")) or "") or {}
        label = comp.get("executorLabel") if isinstance(comp, dict) else None
        executor = pipeline.executors.get(label or "")
        if executor is None or not is_gate_executor(executor):
            continue
        findings.append(
            Finding(
                id=GATE_CACHED,
                severity=Severity.HIGH if blocking else Severity.MEDIUM,
                message=f"gate task {name} runs with caching on: the KFP cache key is artifact names and "
                "parameters, not the bytes, so a cached gate can return an old verdict for changed input; "
                "call task.set_caching_options(False) (kfp-gates components do) or compile with "
                "caching disabled",
                location=Location(path=pipeline.path, field=f"{dag}.dag.tasks.{name}.cachingOptions"),
                data={"task": name, "executor": label, "aliases": [f"{GATE_CACHED}:{name}"]},
            )
        )
    return findings


def lock_findings(pipeline: CompiledPipeline, lock: ComponentLock) -> list[Finding]:
    """Executors changed, added or removed since ``lock`` was reviewed (see ``verify_lock``)."""
    return verify_lock(pipeline, lock)


def require_reviewed(pipeline: CompiledPipeline, lock: ComponentLock) -> None:
    """Raise :class:`GateBlocked` naming every executor that differs from ``lock``; return when none does.

    Low-severity differences (an executor renamed with identical content) do
    not raise. This is what a pipeline wrapper calls before it compiles or
    submits, so a pipeline edited after review refuses to run.
    """
    blocking = [f for f in verify_lock(pipeline, lock) if f.severity >= Severity.MEDIUM]
    if blocking:
        raise GateBlocked(
            f"pipeline {pipeline.name} differs from its reviewed component lock: "
            + "; ".join(f.message for f in blocking),
            where=pipeline.path,
            hint="review the change, then re-lock with `kfp-gates lock create`",
        )


def _hygiene_settings(policy: GatePolicy) -> GateSettings:
    # The hygiene checks answer the supply-chain risks the dependency gate owns, so they follow its
    # threshold and mode; only waivers for these checks apply, so the others are not reported unused.
    dep = policy.gate("dependency_scan")
    waivers = tuple(w for w in dep.waivers if w.id.startswith(_PREFIX))
    return GateSettings(fail_on=dep.fail_on, on_fail=dep.on_fail, waivers=waivers,
                        extra={"from_gate": "dependency_scan"})


def check_pipeline(
    pipeline: CompiledPipeline,
    policy: GatePolicy,
    *,
    lock: ComponentLock | None = None,
    lock_path: str | None = None,
    text: str | None = None,
    backend: str | None = None,
) -> list[GateResult]:
    """Run every check on ``pipeline``: the hygiene result, then the lock result when a lock is given.

    ``text`` is the pipeline's YAML text (re-read from ``pipeline.path`` when None), for the subject digest.
    """
    clock = Clock()
    if text is None:
        text = Path(pipeline.path).read_text(encoding="utf-8")
    subject = Subject(name=pipeline.name, digest={"sha256": sha256_bytes(text.encode("utf-8"))})
    dep_section = policy.gates.dependency_scan
    findings = runtime_install_findings(pipeline) + image_pin_findings(
        pipeline, required=dep_section.require_image_digest
    )
    findings += gate_caching_findings(pipeline, blocking=policy.tier == "critical")
    findings += backend_field_findings(pipeline, backend)
    base = tool()
    results = [
        finalize(
            gate=CHECKS_GATE,
            subject=subject,
            tool=Tool(name="kfp-gates check", version=base.version),
            findings=findings,
            settings=_hygiene_settings(policy),
            started_at=clock.started_at,
            metadata={"pipeline": pipeline.path, "executors": len(pipeline.executors),
                      "kfp_backend": resolve_backend(backend)},
        )
    ]
    if lock is not None:
        gate = policy.gate("source_integrity")
        settings = GateSettings.from_effective(gate, lock=lock_path)
        results.append(lock_gate(pipeline, lock, settings, lock_path=lock_path, subject=subject))
    return results


def check_text(text: str, policy: GatePolicy, *, lock: ComponentLock | None = None,
               name: str = "<pipeline>") -> list[GateResult]:
    """:func:`check_pipeline` on compiled pipeline YAML text."""
    return check_pipeline(parse_pipeline(text, name), policy, lock=lock, text=text)
