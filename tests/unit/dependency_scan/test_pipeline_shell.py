"""scan-deps --pipeline reads command lines with the parser ``check`` uses, and reads each input once (issue 17)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import yaml

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.dependency_scan.parsers import parse_pipeline_file


def _write(tmp_path: Path, argv: list[str]) -> Path:
    container = {"image": "python@sha256:" + "1" * 64, "command": argv}
    doc = {"pipelineInfo": {"name": "p"}, "deploymentSpec": {"executors": {"exec-t": {"container": container}}}}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_spellings_check_also_sees_become_dependencies(tmp_path: Path) -> None:
    inv = parse_pipeline_file(_write(tmp_path, ["bash", "-c", "R='requests==2.19.0'; python3 -m pip install -q $R"]))
    assert [(d.name, d.version, d.origin) for d in inv.dependencies] == [("requests", "2.19.0", "pipeline")]
    assert [(i.kind, i.implicit) for i in inv.indexes] == [("index-url", True)]


def test_options_before_install_and_env_index(tmp_path: Path) -> None:
    inv = parse_pipeline_file(_write(tmp_path, [
        "env", "PIP_EXTRA_INDEX_URL=https://extra/simple", "pip3.11", "-q", "install", "-ihttps://mirror/simple",
        "numpy==1.26.4"]))
    assert [d.name for d in inv.dependencies] == ["numpy"]
    assert {(i.kind, i.url) for i in inv.indexes} == {
        ("index-url", "https://mirror/simple"), ("extra-index-url", "https://extra/simple")}


def test_unknown_requirements_and_hidden_commands_are_unverifiable(tmp_path: Path) -> None:
    from kfp_gates.components.dependency_scan.engine import scan_inputs

    path = _write(tmp_path, ["sh", "-c", 'pip install "$PKG" && $TOOL install other'])
    inv = parse_pipeline_file(path)
    assert [d.kind for d in inv.dependencies] == ["unknown", "unknown"]
    result = scan_inputs(pipelines=[path])
    assert [f.id for f in result.findings if f.id == "KFPG-DEP-UNVERIFIABLE"] == ["KFPG-DEP-UNVERIFIABLE"] * 2
    assert result.decision.value == "fail"


def test_editable_installs_are_dependencies_not_files(tmp_path: Path) -> None:
    inv = parse_pipeline_file(_write(tmp_path, [
        "python3", "-m", "pip.__main__", "install", "-e", "git+https://github.com/o/r.git#egg=r"]))
    (dep,) = inv.dependencies
    assert (dep.name, dep.kind) == ("r", "vcs")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            parse_pipeline_file(fifo)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():  # unblock the reader so the test process can exit
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("parse_pipeline_file blocked on a FIFO")
    assert isinstance(outcome[0], ConfigError) and "not a regular file" in outcome[0].message


def test_the_pipeline_file_is_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, ["pip", "install", "x==1"])
    opened: list[str] = []
    real_open = os.open

    def counting_open(p, *a, **kw):
        if str(p) == str(path):
            opened.append(str(p))
        return real_open(p, *a, **kw)

    monkeypatch.setattr(os, "open", counting_open)
    real_read_text = Path.read_text

    def counting_read_text(self, *a, **kw):
        if str(self) == str(path):
            opened.append(str(self))
        return real_read_text(self, *a, **kw)

    monkeypatch.setattr(Path, "read_text", counting_read_text)
    parse_pipeline_file(path)
    assert opened == [str(path)]
