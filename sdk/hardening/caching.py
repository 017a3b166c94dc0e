"""No caching on gate tasks, in every DAG (root, nested pipelines, If, ParallelFor).

``set_caching_options(False)`` on a sub-pipeline task sets only the DAG task:
inner tasks keep ``enableCache: true``, so the IR is edited task by task.
"""

from __future__ import annotations

from typing import Any

from kfp_gates.components.common.kfp_ir import Executor, executor_from_ir
from kfp_gates.sdk.checks import _dag_tasks, is_gate_executor


def _executor(spec: dict[str, Any], label: str) -> Executor | None:
    body = (((spec.get("deploymentSpec") or {}).get("executors")) or {}).get(label)
    return executor_from_ir(label, body) if isinstance(body, dict) else None


def disable_gate_caching(spec: dict[str, Any], *, all_tasks: bool = False) -> list[str]:
    """Turn caching off on every gate task (or on every task); return the ``dag.task`` names changed."""
    components = spec.get("components") or {}
    changed: list[str] = []
    for dag, name, task in _dag_tasks(spec):
        comp = components.get(((task.get("componentRef") or {}).get("name")) or "") or {}
        executor = _executor(spec, comp.get("executorLabel") or "") if isinstance(comp, dict) else None
        if not all_tasks and (executor is None or not is_gate_executor(executor)):
            continue
        if (task.get("cachingOptions") or {}).get("enableCache"):
            task["cachingOptions"] = {}
            changed.append(f"{dag}.{name}")
    return changed
