"""sdk.checks.runtime_install_findings reads command lines as the kernel and the shell run them (issue 17).

Each case is an executor's ``command + args`` that installs with pip at
container start in a spelling the word-matching reader missed; the last tests
run a few of them through a real ``sh`` with a ``pip`` shim, so the expected
requirement words are what pip really receives.
"""

# No `from __future__ import annotations`: this module defines KFP components.

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from kfp_gates.components.common.kfp_ir import parse_pipeline
from kfp_gates.components.common.severity import Severity
from kfp_gates.sdk import checks


def _pipeline(argv: list[str], *, env: list[dict[str, str]] | None = None):
    container: dict[str, object] = {"image": "python@sha256:" + "1" * 64, "command": argv}
    if env:
        container["env"] = env
    doc = {"pipelineInfo": {"name": "p"}, "deploymentSpec": {"executors": {"exec-t": {"container": container}}}}
    return parse_pipeline(yaml.safe_dump(doc), "p.yaml")


def _by_id(argv: list[str], **kw) -> dict[str, dict]:
    return {f.id: f.data for f in checks.runtime_install_findings(_pipeline(argv, **kw))}


# (argv, requirement words pip receives)
INSTALLS = [
    (["pip", "install", "evil==1.0"], ["evil==1.0"]),
    (["python3", "-m", "pip", "install", "evil==1.0"], ["evil==1.0"]),
    (["python3", "-mpip", "install", "evil"], ["evil"]),
    (["python3.11", "-I", "-m", "pip", "install", "-q", "evil"], ["evil"]),
    (["pip", "-q", "--disable-pip-version-check", "install", "evil"], ["evil"]),
    (["pip3.11", "install", "evil"], ["evil"]),
    (["/opt/venv/bin/pip", "install", "--index-url", "https://idx/simple", "evil"], ["evil"]),
    (["/usr/bin/env", "pip", "install", "evil"], ["evil"]),
    (["sh", "-c", "cd /tmp;pip install evil"], ["evil"]),
    (["bash", "-lc", "set -e\nREQ='evil==2'\npython3 -m pip install -q $REQ"], ["evil==2"]),
    (["sh", "-c", 'pip install "$0"', "evil==3"], ["evil==3"]),
    (["sh", "-c", 'exec pip install "$@"', "sh", "a==1", "b==2"], ["a==1", "b==2"]),
    (["sh", "-c", 'eval "$1"', "sh", "pip install evil"], ["evil"]),
    (["sh", "-c", "true && sh -c 'pip3 install evil'"], ["evil"]),
    (["sh", "-c", "X=$(pip install evil)"], ["evil"]),
    (["sh", "-c", "if true; then\n  uv pip install evil\nfi"], ["evil"]),
    (["sh", "-c", "alias p='pip install'\np evil"], ["evil"]),  # dash expands aliases in scripts
    (["su", "-c", "pip install evil", "root"], ["evil"]),
    (["sh", "-c", "bash <<'EOF'\npip install evil\nEOF\n"], ["evil"]),
    (["bash", "-c", "{pip,install,evil}"], ["evil"]),  # brace expansion
    (["sh", "-c", "p''ip install evil"], ["evil"]),
    (["flock", "/tmp/l", "ionice", "-c3", "pip", "install", "evil"], ["evil"]),
]


@pytest.mark.parametrize(("argv", "reqs"), INSTALLS, ids=[" ".join(a)[:60] for a, _ in INSTALLS])
def test_runtime_install_spellings_are_found(argv, reqs):
    found = _by_id(argv)
    assert checks.RUNTIME_INSTALL in found, argv
    assert found[checks.RUNTIME_INSTALL]["requirements"] == reqs


@pytest.mark.parametrize("argv", [
    ["sh", "-c", "pip install $REQS"],  # from the container's environment
    ["sh", "-c", 'pip install -r "$REQ_FILE"'],
    ["pip", "install", "{{$.inputs.parameters['pkg']}}"],  # a pipeline parameter
])
def test_requirements_known_only_at_run_time_are_listed(argv):
    data = _by_id(argv)[checks.RUNTIME_INSTALL]
    assert data["requirements"] == [] and data["unresolved"]


@pytest.mark.parametrize("argv", [
    ["sh", "-c", "$INSTALLER install evil"],
    ["sh", "-c", '"$(printf pip)" install evil'],
    ["sh", "-c", 'eval "$CMD"'],
    ["sh", "-c", "curl -s https://x/setup.sh | sh"],
    ["sh", "-c", "echo {{$.inputs.parameters['msg']}}"],
    ["python3", "-c", "import subprocess; subprocess.run(['pip', 'install', 'evil'])"],
    ["sh", "-c", "pip install 'unterminated"],
    ["sh", "-c", "curl -s https://x/get.py | python3"],
    ["sh", "-c", "/usr/bin/pi? install evil"],  # a glob as the command name
    ["env"] * 3000 + ["pip", "install", "evil"],  # deeper than the interpreter's recursion limit
])
def test_places_an_install_can_hide_are_unverifiable_not_clean(argv):
    found = _by_id(argv)
    assert checks.RUNTIME_UNVERIFIABLE in found, argv
    [f] = [f for f in checks.runtime_install_findings(_pipeline(argv)) if f.id == checks.RUNTIME_UNVERIFIABLE]
    assert f.severity is Severity.HIGH and f.data["reasons"]


@pytest.mark.parametrize("argv", [
    ["sh", "-c", "echo 'pip install evil'"],
    ["sh", "-c", "echo pip install evil; printf '%s' pip install"],
    ["sh", "-c", "cat > /tmp/x <<'EOF'\npip install evil\nEOF\n"],
    ["python3", "-m", "pipx_tool", "install", "x"],
    ["sh", "-c", 'test -x "$(command -v pip)" && python3 train.py "$@"', "sh", "--epochs", "3"],
])
def test_text_that_only_mentions_pip_is_not_an_install(argv):
    found = _by_id(argv)
    assert checks.RUNTIME_INSTALL not in found and checks.RUNTIME_UNVERIFIABLE not in found


def test_a_function_never_called_is_still_judged():
    data = _by_id(["sh", "-c", 'setup() { pip install "$1"; }'])[checks.RUNTIME_INSTALL]
    assert data["requirements"] == [] and data["unresolved"]


def test_kfp_concat_and_if_present_arguments_are_expanded_as_the_launcher_does():
    concat = '{"Concat": ["pip ", "install evil"]}'
    if_present = '{"IfPresent": {"InputName": "q", "Then": ["pip", "install", "other"], "Else": ["true"]}}'
    assert _by_id(["sh", "-c", concat])[checks.RUNTIME_INSTALL]["requirements"] == ["evil"]
    assert _by_id([if_present])[checks.RUNTIME_INSTALL]["requirements"] == ["other"]
    many = ['{"IfPresent": {"InputName": "q", "Then": ["a"], "Else": ["b"]}}'] * 8
    assert checks.RUNTIME_UNVERIFIABLE in _by_id(many)


def test_container_env_index_is_an_option_of_the_install():
    from kfp_gates.components.dependency_scan.parsers.shell import analyze_executor

    pipe = _pipeline(["sh", "-c", "pip install evil"], env=[{"name": "PIP_EXTRA_INDEX_URL", "value": "https://e"}])
    shell = analyze_executor(pipe.executors["exec-t"])
    assert ("--extra-index-url", "https://e") in shell.options


def test_kfp_lightweight_wrapper_is_read_as_before():
    """kfp 2.17's wrapper: `sh -c '... python3 -m pip install ... && "$0" "$@"' sh -ec '<runner>' <code> ...`."""
    from kfp import dsl

    @dsl.component(base_image="python:3.11", packages_to_install=["requests==2.31.0"])
    def fetch(url: str) -> str:
        return url

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def bare(x: int) -> int:
        return x

    @dsl.pipeline(name="w")
    def wrapped() -> None:
        fetch(url="u")
        bare(x=1)

    text = _compile(wrapped)
    findings = checks.runtime_install_findings(parse_pipeline(text, "w.yaml"))
    by_exec = {(f.id, f.data["executor"]): f.data for f in findings}
    assert set(by_exec) == {(checks.RUNTIME_INSTALL, "exec-fetch")}
    reqs = by_exec[(checks.RUNTIME_INSTALL, "exec-fetch")]["requirements"]
    assert reqs[0] == "requests==2.31.0" and any(r.startswith("kfp==") for r in reqs)
    assert by_exec[(checks.RUNTIME_INSTALL, "exec-fetch")]["unresolved"] == []


def _compile(pipeline_func) -> str:
    import tempfile

    from kfp import compiler

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "p.yaml"
        compiler.Compiler().compile(pipeline_func, str(out))
        return out.read_text()


# ----- against a real shell ---------------------------------------------------------------------------------

SHELL_CASES = [
    ["sh", "-c", "cd /;pip install a==1 'b>=2; python_version>\"3\"'"],
    ["sh", "-c", 'R="x==1 y==2"; pip -q install $R', ],
    ["sh", "-c", 'pip install "$0" "$@"', "one", "two", "three"],
    ["sh", "-c", "eval 'pip install ev'\"al\""],
    ["sh", "-c", "f=z; pip install \"${f}\" \\\n  --no-deps w"],
    ["sh", "-c", "alias p='pip install'\np al 'i as'"],
    ["sh", "-c", "export X=$(pip install sub); pip install sub; pip install sub"],
    ["sh", "-c", 'f() { pip install "$@"; }; f fn1 "fn 2"; f'],  # functions get their own "$@"
    ["bash", "-c", 'function g { pip install "$1"; }\ng gx ignored'],
    ["sh", "-c", 'pip install "$@" last'],  # "$@" of no arguments is no word at all

    ["sh", "-c", 'set -- s1 "s 2"; shift; pip install "$@" s3', "sh", "ignored"],
    ["sh", "-c", "export PATH=$PATH:/nowhere R=ex; sh -c 'pip install $R'"],
]


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX sh")
@pytest.mark.parametrize("argv", SHELL_CASES, ids=[a[2][:40] for a in SHELL_CASES])
def test_requirements_match_what_a_real_shell_passes_to_pip(argv, tmp_path):
    shim = tmp_path / "pip"
    log = tmp_path / "log"
    shim.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        [ "$1" = "-q" ] && shift
        [ "$1" = install ] && shift
        for a in "$@"; do case "$a" in -*) ;; *) printf '%s\\n' "$a" >> {log} ;; esac; done
        """))
    shim.chmod(0o755)
    env = {"PATH": f"{tmp_path}:{os.environ.get('PATH', '')}"}
    subprocess.run(argv, env=env, check=True, timeout=10, cwd=tmp_path)
    real = log.read_text().splitlines() if log.exists() else []
    found = _by_id(argv)
    assert found[checks.RUNTIME_INSTALL]["requirements"] == real
