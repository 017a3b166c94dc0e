"""Differential harness for runtime ``pip install`` detection: what a real shell would install vs. the check.

Command/args variants of a pipeline executor are generated (separate argv words, ``python3 -m
pip``, options before ``install``, ``-q``, ``pip3.11``, absolute paths, ``cd x;pip ...``, ``sh -c``
/ ``bash -lc``, requirements from a shell variable, from ``$0``/``$@`` or from the container's
env, ``/usr/bin/env``, ``exec``, ``&&`` chains). All of them run in ONE local sandbox (no network)
through the real ``sh``/``bash``, with ``pip``/``pip3``/``pip3.11``/``python``/``python3``/``python3.11``
shimmed by fakes first on ``PATH`` that only record the argv they were called with. Whenever a shim
recorded ``pip install``, ``kfp_gates.sdk.checks.runtime_install_findings`` must report the
executor: an install finding naming every requirement pip received (or an unresolved/unverifiable
finding, which also blocks).
"""

from __future__ import annotations

import json
import random
import shlex
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kfp_gates.components.common.errors import InfrastructureError
from kfp_gates.components.common.kfp_ir import parse_pipeline
from kfp_gates.components.isolation.interface import Limits, StepSpec
from kfp_gates.components.isolation.local import LocalNamespaceBackend
from kfp_gates.sdk import checks

from .sandbox import interpreter_paths

pytestmark = pytest.mark.fuzz

VARIANTS = 400
SEED = 11
SHIMS = ("pip", "pip3", "pip3.11", "python", "python3", "python3.11")
# pip's options that take a value (general and `install`), so a value is never taken for a requirement.
_PIP_VALUED = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-r", "--requirement", "-c",
               "--constraint", "-t", "--target", "--prefix", "--root", "--log", "--proxy", "--retries",
               "--timeout", "--cache-dir", "--cert", "--client-cert", "--exists-action", "-e", "--editable",
               "--trusted-host", "--platform", "--python-version", "--src", "--progress-bar", "--python"}  # fmt: skip
_PYTHON_FLAGS = {"-I", "-u", "-E", "-s", "-S", "-B", "-O", "-OO", "-q"}

_SHIM = """#!/bin/sh
# Records how it was called (program name, then each argument), never installs anything.
{ printf '%s\\037' "$(basename "$0")" "$@"; printf '\\036'; } >> "$SHIM_LOG"
"""

_DRIVER = r"""
import json, os, subprocess, sys
cases = json.load(open(sys.argv[1]))
shims, out = sys.argv[2], sys.argv[3]
results = []
for n, case in enumerate(cases):
    log = os.path.join(out, f"log-{n}")
    open(log, "wb").close()
    env = {"PATH": shims + ":/usr/bin:/bin", "SHIM_LOG": log, "HOME": "/tmp"}
    env.update(case["env"])
    os.makedirs("/tmp/x", exist_ok=True)
    try:
        p = subprocess.run(case["argv"], env=env, cwd="/tmp", timeout=10, capture_output=True)
        code = p.returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        code = repr(exc)
    records = [r.split(b"\x1f")[:-1] for r in open(log, "rb").read().split(b"\x1e") if r]
    results.append({"code": code, "calls": [[a.decode("utf-8", "replace") for a in r] for r in records]})
json.dump(results, open(os.path.join(out, "results.json"), "w"))
"""


def _pip_argv(rng: random.Random, shims: str) -> list[str]:
    """One way to call pip: a pip script by name or path, or an interpreter running the pip module."""
    form = rng.choice(["pip", "pip3", "pip3.11", "abs", "env", "python", "python3", "python3.11", "mpip", "isolated"])
    if form == "abs":
        return [f"{shims}/{rng.choice(['pip', 'pip3'])}"]
    if form == "env":
        return ["/usr/bin/env", "pip"]
    if form in ("python", "python3", "python3.11"):
        return [form, "-m", "pip"]
    if form == "mpip":
        return ["python3", "-mpip"]
    if form == "isolated":
        return ["python3.11", "-I", "-m", "pip"]
    return [form]


def _variant(rng: random.Random, shims: str) -> dict:
    """A container ``command``/``args``/``env`` that (usually) runs pip install."""
    reqs = rng.choice([["evil==1.0"], ["evil"], ["a==1", "b==2"], ["left-pad>=0.1"], ["evil[extra]==2"]])
    general = rng.choice([[], [], ["-q"], ["--disable-pip-version-check"], ["-q", "--no-cache-dir"], ["-v"]])
    options = rng.choice([[], [], ["-q"], ["--no-deps"], ["-U"], ["--user"], ["-i", "https://idx.example/simple"],
                          ["--index-url", "https://idx.example/simple", "--upgrade"]])  # fmt: skip
    sub = "install" if rng.random() < 0.9 else rng.choice(["download", "--version", "list"])
    words = [*_pip_argv(rng, shims), *general, sub, *options, *reqs]
    env: dict[str, str] = {}
    form = rng.choice(["argv", "argv", "sh", "sh-cd", "sh-var", "sh-env", "sh-$0", "sh-$@", "bash-lc", "sh-and",
                       "sh-exec", "sh-split", "sh-nested", "env-assign", "sh-subshell", "sh-or", "sh-func",
                       "sh-quotes", "sh-backslash", "sh-tabs", "sh-if", "sh-pipe"])  # fmt: skip
    line = shlex.join(words)
    head = shlex.join(words[: len(words) - len(reqs)])
    if form == "argv":
        command, args = (words[:1], words[1:]) if rng.random() < 0.5 else (words, [])
    elif form == "sh":
        command, args = ["sh", "-c", line], []
    elif form == "sh-cd":
        command, args = ["sh", "-c", f"cd /tmp/x;{line}"], []
    elif form == "sh-var":
        command, args = ["sh", "-c", f"set -e\nREQ={shlex.quote(' '.join(reqs))}\n{head} $REQ"], []
    elif form == "sh-env":
        env = {"REQS": " ".join(reqs)}
        command, args = ["sh", "-c", f"{head} $REQS"], []
    elif form == "sh-$0":
        command, args = ["sh", "-c", f'{head} "$0"', reqs[0]], []
        reqs = reqs[:1]
    elif form == "sh-$@":
        command, args = ["sh", "-c", f'{head} "$@"', "sh", *reqs], []
    elif form == "bash-lc":
        command, args = ["bash", "-lc", line], []
    elif form == "sh-and":
        command, args = ["sh", "-c", f"true && PIP_NO_INPUT=1 {line} && echo done"], []
    elif form == "sh-exec":
        command, args = ["sh", "-c", f"exec {line}"], []
    elif form == "sh-split":  # KFP style: the script in args, after command ["sh", "-c"]
        command, args = ["sh", "-c"], [line]
    elif form == "env-assign":
        command, args = ["env", "PIP_NO_INPUT=1", *words], []
    elif form == "sh-subshell":
        command, args = ["sh", "-c", f"( {line} )"], []
    elif form == "sh-or":
        command, args = ["sh", "-c", f"false || {line}"], []
    elif form == "sh-func":
        command, args = ["sh", "-c", f'f() {{ {head} "$@"; }}\nf {shlex.join(reqs)}'], []
    elif form == "sh-quotes":  # the shell removes the quotes inside a word
        first = words[0]
        command, args = ["sh", "-c", f"'{first[:1]}'\"{first[1:]}\" " + shlex.join(words[1:])], []
    elif form == "sh-backslash":
        first = words[0]
        command, args = ["sh", "-c", f"{first[:1]}\\{first[1:]} " + shlex.join(words[1:])], []
    elif form == "sh-tabs":
        command, args = ["sh", "-c", "\t".join(shlex.quote(w) for w in words)], []
    elif form == "sh-if":
        command, args = ["sh", "-c", f"if [ -d /tmp ]; then\n  {line}\nfi"], []
    elif form == "sh-pipe":
        command, args = ["sh", "-c", f"echo y | {line} | cat"], []
    else:
        command, args = ["sh", "-c", f"sh -c {shlex.quote(line)}"], []
    return {"command": command, "args": args, "env": env, "form": form}


def _pipeline(variant: dict):
    container: dict[str, object] = {"image": "python@sha256:" + "1" * 64, "command": variant["command"]}
    if variant["args"]:
        container["args"] = variant["args"]
    if variant["env"]:
        container["env"] = [{"name": k, "value": v} for k, v in variant["env"].items()]
    doc = {"pipelineInfo": {"name": "p"}, "deploymentSpec": {"executors": {"exec-t": {"container": container}}}}
    return parse_pipeline(yaml.safe_dump(doc), "p.yaml")


def _installed(call: list[str]) -> list[str] | None:
    """The requirement words pip received in one recorded call, or None when it was no ``pip install``."""
    prog, args = call[0], call[1:]
    if prog.startswith("python"):
        while args and args[0] in _PYTHON_FLAGS:
            args = args[1:]
        if args[:2] == ["-m", "pip"]:
            args = args[2:]
        elif args[:1] == ["-mpip"]:
            args = args[1:]
        else:
            return None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _PIP_VALUED else 1
    if i >= len(args) or args[i] != "install":
        return None
    reqs, rest = [], args[i + 1 :]
    k = 0
    while k < len(rest):
        if rest[k] in _PIP_VALUED:
            k += 2
            continue
        if not rest[k].startswith("-"):
            reqs.append(rest[k])
        k += 1
    return reqs


def _run_in_sandbox(make_variants: Callable[[str], list[dict]]) -> tuple[list[dict], list[dict]]:
    """Run every variant through the real shell in ONE local sandbox: the variants and the shims' records.

    ``make_variants`` gets the shim directory's absolute path, so "absolute path" variants can name it.
    """
    with tempfile.TemporaryDirectory(prefix="kfpg-pipfuzz-") as tmp:
        root = Path(tmp)
        root.chmod(0o755)
        shims = root / "shims"
        shims.mkdir()
        for name in SHIMS:
            (shims / name).write_text(_SHIM)
            (shims / name).chmod(0o755)
        variants = make_variants(str(shims))
        cases = [{"argv": v["command"] + v["args"], "env": v["env"]} for v in variants]
        (root / "cases.json").write_text(json.dumps(cases))
        (root / "driver.py").write_text(_DRIVER)
        for p in (root / "cases.json", root / "driver.py"):
            p.chmod(0o644)
        out = root / "out"
        step = StepSpec(
            argv=(sys.executable, "-I", str(root / "driver.py"), str(root / "cases.json"), str(shims), str(out)),
            inputs=(root / "cases.json", root / "driver.py", shims, *interpreter_paths()),
            output=out,
            env={"PATH": "/usr/bin:/bin"},
            timeout=300,
            limits=Limits(processes=512),
        )
        try:
            outcome = LocalNamespaceBackend().run(step)
        except InfrastructureError as exc:
            pytest.fail(f"the local sandbox cannot start here (the harness never runs unconfined): {exc}")
        assert outcome.succeeded, outcome
        return variants, json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def installs() -> list[tuple[dict, list[str], dict[str, dict]]]:
    """(variant, requirement words pip received, findings by id) for each variant that ran pip install."""
    rng = random.Random(SEED)
    variants, results = _run_in_sandbox(lambda shims: [_variant(rng, shims) for _ in range(VARIANTS)])
    out = []
    for variant, result in zip(variants, results, strict=True):
        calls = [r for call in result["calls"] if (r := _installed(call)) is not None]
        if calls:
            found = {f.id: f.data for f in checks.runtime_install_findings(_pipeline(variant))}
            out.append((variant, sorted({w for r in calls for w in r}), found))
    assert len(out) > VARIANTS // 2, f"only {len(out)} variants reached the pip shim: the harness is broken"
    return out


def _show(variant: dict) -> str:
    return f"{variant['form']}: {variant['command'] + variant['args']} env={variant['env']}"


def test_every_install_the_shell_runs_is_reported(installs: list[tuple[dict, list[str], dict]]) -> None:
    """Each executor whose shell really ran ``pip install`` gets a blocking finding (install or unverifiable)."""
    missed = [f"{_show(v)} installed {wanted}" for v, wanted, found in installs
              if checks.RUNTIME_INSTALL not in found and checks.RUNTIME_UNVERIFIABLE not in found]  # fmt: skip
    assert not missed, f"{len(missed)} of {len(installs)} installs not reported:\n" + "\n".join(missed[:20])


def test_reported_requirements_are_what_pip_received(installs: list[tuple[dict, list[str], dict]]) -> None:
    """The requirement words the finding names are those pip received (the dependency scan checks them)."""
    wrong = []
    for variant, wanted, found in installs:
        got = found.get(checks.RUNTIME_INSTALL)
        if got is not None and not got["unresolved"] and not set(wanted) <= set(got["requirements"]):
            wrong.append(f"{_show(variant)} installed {wanted}, reported {got['requirements']}")
    assert not wrong, f"{len(wrong)} of {len(installs)} installs name other requirements:\n" + "\n".join(wrong[:20])


def test_the_shim_records_what_the_shell_passes() -> None:
    """The harness itself: quoting, ``$0`` and the python ``-m pip`` form reach the shim as pip sees them."""
    _, results = _run_in_sandbox(lambda shims: [
        {"command": ["sh", "-c", 'pip -q install "$0" b==2', "a b"], "args": [], "env": {}, "form": "t"},
        {"command": ["python3", "-I", "-m", "pip", "install", "-i", "https://x/simple", "c"], "args": [], "env": {},
         "form": "t"},
        {"command": ["sh", "-c", "echo pip install nothing"], "args": [], "env": {}, "form": "t"},
    ])  # fmt: skip
    got = [[r for call in res["calls"] if (r := _installed(call)) is not None] for res in results]
    assert got == [[["a b", "b==2"]], [["c"]], []]
