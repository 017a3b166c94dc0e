"""KFP component ``launch_isolated``: run one step isolated and report how.

In a cluster (``backend="kubernetes"``) the component's pod is the launcher: it
creates the step's locked-down Job with its own service account (RBAC from
``deploy/isolation/rbac.yaml``), streams the step's log into its own, copies the inputs
in and the outputs back, and deletes everything afterwards - also when the KFP
run is cancelled (SIGTERM). ``backend="namespaces"`` runs the step in Linux
namespaces inside the component's own container (and under ``kfp.local``).

Report, then enforce: the task writes its result, HTML and Markdown reports and
returns the verdict; ``enforce_verdict`` (or a ``dsl.If``) stops the pipeline.
The step's outputs are published in ``output_data`` (a directory). When the
launcher cannot isolate (no namespaces, a tag instead of a digest, missing
RBAC) it raises, so the task fails: a step never runs unconfined by default.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def launch_isolated(
    command: list,
    output_data: dsl.Output[dsl.Artifact],
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    input_data: dsl.Input[dsl.Artifact] = None,
    backend: str = "kubernetes",
    image: str = "",
    namespace: str = "",
    timeout: str = "",
    memory: str = "",
    env_names: str = "",
    policy: str = "",
    tier: str = "standard",
) -> str:
    """Run ``command`` isolated; ``input_data`` is readable, ``output_data`` receives its outputs.

    Locally the step sees ``input_data`` and ``output_data`` at their own
    paths, given to it as ``$KFP_GATES_INPUTS`` / ``$KFP_GATES_OUTPUTS``; in
    Kubernetes at ``/inputs/<name>`` and ``/outputs``. Returns the verdict.
    """
    import os
    from dataclasses import replace
    from pathlib import Path

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.policy import GatePolicy, parse_duration
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.isolation.gate import backend_for, build_env, launch, limits_from_policy, section
    from kfp_gates.components.isolation.interface import IsolationBackend, StepSpec

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    sec = section(gate_policy)
    if backend not in ("kubernetes", "namespaces", "policy"):
        raise ConfigError(f"unknown backend {backend!r}", hint="kubernetes, namespaces, or policy")
    names = [n.strip() for n in env_names.split(",") if n.strip()]
    if not timeout:
        seconds = sec.timeout.total_seconds()
    elif timeout.replace(".", "", 1).isdigit():
        seconds = float(timeout)
    else:
        seconds = parse_duration(timeout).total_seconds()
    out_dir = Path(output_data.path)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = (Path(input_data.path),) if input_data is not None else ()
    step = StepSpec(
        argv=tuple(str(c) for c in command),
        inputs=inputs,
        output=out_dir,
        env=build_env([*sec.env, *names]),
        timeout=seconds,
        limits=limits_from_policy(sec, memory=memory or None),
    )
    extra: dict = {}
    egress: tuple = ()
    runner: IsolationBackend
    use_kube = backend == "kubernetes" or (backend == "policy" and sec.isolation == "kubernetes")
    if use_kube:
        from kubernetes import client, config

        from kfp_gates.components.isolation.kubernetes import KubeOptions, KubernetesBackend

        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
        else:
            config.load_kube_config()
        options = KubeOptions(
            namespace=namespace or sec.namespace or KubeOptions.namespace,
            image=image,
            cpu=sec.cpu or KubeOptions.cpu,
            memory=memory or sec.memory or KubeOptions.memory,
            ttl=int(sec.ttl_after_finished.total_seconds()),
            allow_egress=sec.allow_egress,
            per_run_namespace=sec.per_run_namespace,
        )
        runner = KubernetesBackend(client.ApiClient(), options)
        step = replace(step, limits=replace(step.limits, memory=None))
        extra = {"image": image}
        egress = sec.allow_egress
    else:
        env = dict(step.env)
        if inputs:
            env["KFP_GATES_INPUTS"] = str(inputs[0])
        env["KFP_GATES_OUTPUTS"] = str(out_dir)
        step = replace(step, env=env)
        runner = backend_for(gate_policy)
    outcome_result, outcome = launch(gate_policy, step, runner, explicit_env=names, egress=egress, subject_extra=extra)
    verdict = publish(
        outcome_result,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics={
            "exit_status": outcome.status,
            "duration_seconds": round(outcome.duration, 3),
            "isolated": 1 if outcome.isolated else 0,
        },
        result_metadata=result.metadata,
        title="kfp-gates: isolation",
    )
    print(f"kfp-gates: isolation ran on {outcome.backend}, status {outcome.status}, {outcome.duration:.2f}s")
    for f in outcome_result.active_findings():
        print(f"  {f.severity.value:<8} {f.id}: {f.message}")
    return verdict
