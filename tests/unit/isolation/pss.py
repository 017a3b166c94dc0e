"""The Kubernetes Pod Security Standards (baseline + restricted), checked field by field.

Written from https://kubernetes.io/docs/concepts/security/pod-security-standards/
(policy version "latest"), one function per control, so a failing test names
the control. Used to prove the launcher's pods pass ``restricted`` without a
cluster whose admission controller would tell us.
"""

from __future__ import annotations

from typing import Any

ALLOWED_VOLUME_TYPES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod.get("containers", []), *pod.get("ephemeralContainers", [])]


def violations(pod: dict[str, Any]) -> list[str]:
    """Every baseline/restricted control the pod spec breaks, as 'control: detail' strings."""
    out: list[str] = []
    psc = pod.get("securityContext", {}) or {}
    containers = _containers(pod)
    csc = [(c["name"], c.get("securityContext", {}) or {}) for c in containers]

    # ----- baseline ---------------------------------------------------------
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        out.append("HostProcess: pod")
    for name, sc in csc:
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            out.append(f"HostProcess: {name}")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            out.append(f"Host Namespaces: {key}")
    for name, sc in csc:
        if sc.get("privileged"):
            out.append(f"Privileged Containers: {name}")
    for v in pod.get("volumes", []):
        if "hostPath" in v:
            out.append(f"HostPath Volumes: {v['name']}")
    for c in containers:
        for p in c.get("ports", []):
            if p.get("hostPort"):
                out.append(f"Host Ports: {c['name']}")
    for name, sc in [("pod", psc), *csc]:
        aa = (sc.get("appArmorProfile") or {}).get("type")
        if aa not in (None, "RuntimeDefault", "Localhost"):
            out.append(f"AppArmor: {name}")
        se = sc.get("seLinuxOptions") or {}
        if se.get("type", "") not in SELINUX_TYPES or se.get("user") or se.get("role"):
            out.append(f"SELinux: {name}")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            out.append(f"Seccomp (baseline): {name}")
    for name, sc in csc:
        if sc.get("procMount", "Default") != "Default":
            out.append(f"/proc Mount Type: {name}")
    for s in psc.get("sysctls", []):
        if s["name"] not in SAFE_SYSCTLS:
            out.append(f"Sysctls: {s['name']}")

    # ----- restricted -------------------------------------------------------
    for v in pod.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            out.append(f"Volume Types: {v['name']} {sorted(kinds - ALLOWED_VOLUME_TYPES)}")
    for name, sc in csc:
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"Privilege Escalation: {name}")
    pod_nonroot = psc.get("runAsNonRoot") is True
    for name, sc in csc:
        if sc.get("runAsNonRoot") is False or not (pod_nonroot or sc.get("runAsNonRoot") is True):
            out.append(f"Running as Non-root: {name}")
    if psc.get("runAsUser") == 0:
        out.append("Running as Non-root user: pod")
    for name, sc in csc:
        if sc.get("runAsUser") == 0:
            out.append(f"Running as Non-root user: {name}")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type") in ("RuntimeDefault", "Localhost")
    for name, sc in csc:
        t = (sc.get("seccompProfile") or {}).get("type")
        if (t is None and not pod_seccomp) or t not in (None, "RuntimeDefault", "Localhost"):
            out.append(f"Seccomp: {name}")
    for name, sc in csc:
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"Capabilities (drop ALL): {name}")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            out.append(f"Capabilities (add): {name}")
    return out
