"""Inputs that are directories, FIFOs, or that exhaust a parser's limits are usage errors (exit 2), never a crash.

Covers ``check``, ``lock create``, ``scan-deps --pipeline`` and the lock files
(the component lock, ``uv.lock``/``poetry.lock``/``pylock.toml``) (issue 17).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

DEEP = 100_000  # past every parser's recursion limit
LONG_INT = "9" * 5000  # past sys.get_int_max_str_digits() (4300)


def _pipeline(tmp_path: Path) -> Path:
    container = {"image": "python@sha256:" + "1" * 64, "command": ["python3", "train.py"]}
    doc = {"pipelineInfo": {"name": "p"}, "deploymentSpec": {"executors": {"exec-t": {"container": container}}}}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _usage_error(r, where: str, why: str) -> None:
    assert r.code == 2, r
    assert where in r.err and why in r.err, r
    assert "internal error" not in r.err and "Traceback" not in r.err, r


@pytest.mark.parametrize("command", [("check",), ("lock", "create"), ("scan-deps", "--pipeline")])
def test_a_directory_as_the_pipeline_is_exit_2(cli, tmp_path: Path, command) -> None:
    d = tmp_path / "pipelines"
    d.mkdir()
    _usage_error(cli(*command, str(d)), str(d), "is a directory")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", [("check",), ("lock", "create"), ("scan-deps", "--pipeline")])
def test_a_fifo_as_the_pipeline_is_refused_without_hanging(cli, tmp_path: Path, command) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    _usage_error(cli(*command, str(fifo), timeout=30), str(fifo), "not a regular file")


@pytest.mark.parametrize(("text", "why"), [
    ("[" * DEEP + "]" * DEEP, "nested too deeply"),
    ('{"version": ' + LONG_INT + "}", "integer literal too long"),
])
def test_a_hostile_component_lock_is_exit_2(cli, tmp_path: Path, text: str, why: str) -> None:
    lock = tmp_path / "components.lock"
    lock.write_text(text)
    _usage_error(cli("check", str(_pipeline(tmp_path)), "--lock", str(lock)), str(lock), why)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_the_component_lock_is_refused(cli, tmp_path: Path) -> None:
    lock = tmp_path / "components.lock"
    os.mkfifo(lock)
    _usage_error(cli("check", str(_pipeline(tmp_path)), "--lock", str(lock), timeout=30), str(lock),
                 "not a regular file")


@pytest.mark.parametrize("name", ["uv.lock", "poetry.lock", "pylock.toml"])
@pytest.mark.parametrize(("body", "why"), [
    ("x = " + "[" * DEEP + "]" * DEEP + "\n", "nested too deeply"),
    ("x = " + LONG_INT + "\n", "integer literal too long"),
])
def test_a_hostile_dependency_lock_is_exit_2(cli, tmp_path: Path, name: str, body: str, why: str) -> None:
    lock = tmp_path / name
    lock.write_text(body)
    _usage_error(cli("scan-deps", str(lock)), str(lock), why)


@pytest.mark.parametrize(("body", "why"), [
    ("deploymentSpec: {executors: {}}\nx: " + LONG_INT + "\n", "integer literal too long"),
])
def test_a_hostile_pipeline_is_exit_2(cli, tmp_path: Path, body: str, why: str) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(body)
    for command in (("check",), ("scan-deps", "--pipeline")):
        _usage_error(cli(*command, str(p)), str(p), why)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_among_scan_deps_inputs_never_hang(cli, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    os.mkfifo(req)
    _usage_error(cli("scan-deps", str(req), timeout=30), str(req), "not a regular file")
    good = tmp_path / "ok.txt"
    good.write_text("requests==2.32.3\n")
    adv = tmp_path / "advisories.zip"
    os.mkfifo(adv)
    _usage_error(cli("scan-deps", str(good), "--advisories", str(adv), timeout=30), str(adv), "not a regular file")
    dist = tmp_path / "site" / "foo-1.0.dist-info"
    dist.mkdir(parents=True)
    os.mkfifo(dist / "METADATA")
    r = cli("scan-deps", "--env", str(tmp_path / "site"), timeout=30)
    assert r.code == 1 and "KFPG-DEP-UNVERIFIABLE" in r.out, r  # unreadable metadata blocks, without hanging


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_lock_verify_refuses_a_fifo_pipeline(cli, tmp_path: Path) -> None:
    lock = tmp_path / "components.lock"
    assert cli("lock", "create", str(_pipeline(tmp_path)), "-o", str(lock)).code == 0
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    _usage_error(cli("lock", "verify", str(fifo), "--lock", str(lock), timeout=30), str(fifo), "not a regular file")
