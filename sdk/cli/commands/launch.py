"""``kfp-gates launch --image IMAGE@sha256:... [--namespace NS] [--timeout S] [--dry-run] -- CMD...``

Runs CMD on Kubernetes as a locked-down Job: image pinned by digest, no
service-account token, restricted Pod Security, a deny-all NetworkPolicy for
exactly its pod, limits and a deadline; inputs travel in a ConfigMap, outputs
come back through the pod log; everything is deleted afterwards, also on
failure, timeout and SIGTERM. ``--dry-run`` prints the objects as YAML.
"""

from __future__ import annotations

import argparse

from . import _isolation

EPILOG = """exit codes:
  the step's own exit status when it fails (128+N when killed by signal N)
  0  the step succeeded and the gate passed (or warned)
  1  the gate blocked, or the outputs came back altered
  2  usage or configuration error: a tag instead of a digest, a bad kubeconfig,
     or a missing RBAC permission (the message names the verb and resource)
  3  the API server is unreachable or kept failing, or the deadline was hit"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "launch",
        help="run a command on Kubernetes as an isolated Job (no egress, no token, restricted)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--image", required=True, metavar="IMAGE@sha256:...", help="the step's image, pinned by digest")
    p.add_argument("--namespace", "-n", metavar="NS", help="namespace of the Job (default: policy, kfp-gates-isolated)")
    p.add_argument("--per-run-namespace", action="store_true", help="create and delete a namespace for this run")
    p.add_argument("--cpu", metavar="N", help="CPU request and limit, e.g. 2 or 500m (default: policy, 1)")
    p.add_argument("--dry-run", action="store_true", help="print the manifests as YAML and create nothing")
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig (default: in-cluster, then $KUBECONFIG)")
    p.add_argument("--context", metavar="NAME", help="kubeconfig context")
    _isolation.add_step_options(p)
    p.set_defaults(func=_run)


def _api_client(args: argparse.Namespace) -> object:
    import os

    import yaml

    from kfp_gates.components.common.errors import ConfigError

    try:
        from kubernetes import config
    except ImportError:  # pragma: no cover - kubernetes is a core dependency
        raise ConfigError("the kubernetes package is not installed", hint="pip install kfp-gates") from None
    try:
        if not args.kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
            from kubernetes import client

            return client.ApiClient()
        return config.new_client_from_config(config_file=args.kubeconfig, context=args.context)
    except (config.ConfigException, OSError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot load Kubernetes configuration: {exc}",
            where=args.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config",
            hint="pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account",
        ) from None


def _run(args: argparse.Namespace) -> int:
    import sys
    from dataclasses import replace

    import yaml

    from kfp_gates.components.isolation.gate import launch, section
    from kfp_gates.components.isolation.kubernetes import KubeOptions, KubernetesBackend, plan
    from kfp_gates.components.isolation.manifests import all_manifests, require_digest

    require_digest(args.image)
    policy = _isolation.policy(args)
    sec = section(policy)
    step = _isolation.step_spec(args, policy)
    options = KubeOptions(
        namespace=args.namespace or sec.namespace or KubeOptions.namespace,
        image=args.image,
        cpu=args.cpu or sec.cpu or KubeOptions.cpu,
        memory=args.memory or sec.memory or KubeOptions.memory,
        ttl=int(sec.ttl_after_finished.total_seconds()),
        allow_egress=sec.allow_egress,
        per_run_namespace=args.per_run_namespace or sec.per_run_namespace,
    )
    step = replace(step, limits=replace(step.limits, memory=None))  # Kubernetes takes the quantity as given
    if args.dry_run:
        kstep, archive = plan(step, options)
        sys.stdout.write(yaml.safe_dump_all(all_manifests(kstep, archive), sort_keys=False))
        return 0
    backend = KubernetesBackend(_api_client(args), options)
    result, outcome = launch(
        policy, step, backend, explicit_env=args.env, egress=sec.allow_egress, subject_extra={"image": args.image}
    )
    return _isolation.finish(result, outcome, args)
