"""A directory scan reads requirements/*.txt, pyproject.toml and compiled pipelines, and says what it skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from kfp_gates.components.common.evidence import to_statement
from kfp_gates.components.common.formats import render_markdown
from kfp_gates.components.dependency_scan import rules
from kfp_gates.components.dependency_scan.engine import scan_inputs
from kfp_gates.components.dependency_scan.parsers import parse_path
from kfp_gates.components.dependency_scan.parsers.pyproject import poetry_specifier

PYPROJECT = """\
[project]
name = "demo"
dependencies = ["jinja2==2.10"]

[project.optional-dependencies]
web = ["flask==0.12"]

[dependency-groups]
dev = ["pytest>=8", {include-group = "web"}]

[tool.poetry.dependencies]
python = "^3.10"
urllib3 = "1.24.1"
numpy = {version = "^1.26", extras = ["x"]}
lib = {git = "https://github.com/o/lib.git"}

[tool.poetry.group.test.dependencies]
requests = "~2.19.0"
"""


def _pipeline_yaml(argv: list[str]) -> str:
    container = {"image": "python@sha256:" + "1" * 64, "command": argv}
    return yaml.safe_dump({"pipelineInfo": {"name": "p"},
                           "deploymentSpec": {"executors": {"exec-t": {"container": container}}}})


@pytest.fixture
def project(write) -> Path:
    write("requirements/base.txt", "requests==2.19.0\n")
    write("pyproject.toml", PYPROJECT)
    write("pipelines/train.yaml", _pipeline_yaml(["sh", "-c", "pip install urllib3==1.24.1"]))
    write("pipelines/values.yaml", "replicas: 2\n")
    write("setup.cfg", "[options]\ninstall_requires = requests\n")
    write("README.md", "hello\n")
    write(".venv/lib/site.py", "x = 1\n")
    return Path(write("requirements/base.txt", "requests==2.19.0\n")).parents[1]


def test_requirements_folder_pyproject_and_pipelines_are_scanned(project: Path) -> None:
    inv = parse_path(project)
    kinds = {Path(i.path).relative_to(project).as_posix(): i.kind for i in inv.inputs}
    assert kinds == {"requirements/base.txt": "requirements file", "pyproject.toml": "pyproject.toml",
                     "pipelines/train.yaml": "pipeline file"}
    by_field = {(d.name, d.location.field, d.origin) for d in inv.dependencies}
    assert ("jinja2", "project.dependencies", "pyproject") in by_field
    assert ("flask", "project.optional-dependencies.web", "pyproject") in by_field
    assert ("pytest", "dependency-groups.dev", "pyproject") in by_field
    assert ("urllib3", "tool.poetry.dependencies", "pyproject") in by_field
    assert ("requests", "tool.poetry.group.test.dependencies", "pyproject") in by_field
    assert "python" not in {d.name for d in inv.dependencies}
    assert ("urllib3", "deploymentSpec.executors.exec-t.container.command", "pipeline") in by_field
    lib = next(d for d in inv.dependencies if d.name == "lib")
    assert lib.kind == "vcs"


def test_skipped_files_are_listed_with_reasons_in_metadata_report_and_evidence(project: Path) -> None:
    r = scan_inputs([project])
    skipped = {Path(s["path"]).relative_to(project).as_posix(): s["reason"]
               for s in r.metadata["inventory"]["skipped"]}
    assert "YAML without a deploymentSpec" in skipped["pipelines/values.yaml"]
    assert "setup.cfg" in skipped["setup.cfg"]
    assert "virtual environment" in skipped[".venv"]
    assert "not a dependency input" in skipped["README.md"]
    assert r.metadata["inventory"]["skipped_count"] == len(skipped)
    (f,) = [f for f in r.findings if f.id == rules.SKIPPED_FILES.id]
    assert f.severity.value == "info" and "values.yaml" in f.message
    assert rules.SKIPPED_FILES.id in render_markdown([r])
    assert "values.yaml" in str(to_statement(r)["predicate"])
    where = {(f.data.get("package"), loc.split(":")[0].split(" [")[0])
             for f in r.findings if not f.id.startswith("KFPG-") for loc in f.data["locations"]}
    assert ("jinja2", str(project / "pyproject.toml")) in where
    assert ("urllib3", str(project / "pipelines" / "train.yaml")) in where
    assert ("requests", str(project / "requirements" / "base.txt")) in where


def test_a_pyproject_range_is_judged_by_a_pin_in_the_same_scan(write, tmp_path: Path) -> None:
    write("proj/pyproject.toml", '[project]\nname = "x"\ndependencies = ["requests>=2.0"]\n')
    alone = scan_inputs([tmp_path / "proj"])
    assert rules.RANGE_VULNERABLE.id in {f.id for f in alone.findings}
    write("proj/requirements.txt", "requests==2.32.3\n")
    pinned = scan_inputs([tmp_path / "proj"])
    assert not {rules.RANGE_VULNERABLE.id, rules.UNPINNED.id} & {f.id for f in pinned.findings}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_directory_is_skipped_not_opened(write, tmp_path: Path) -> None:
    write("d/requirements.txt", "requests==2.32.3\n")
    os.mkfifo(tmp_path / "d" / "pipeline.yaml")
    inv = parse_path(tmp_path / "d")
    assert [s.reason for s in inv.skipped] == ["not a regular file (a FIFO, socket or device)"]


@pytest.mark.parametrize(("poetry", "pep440"), [
    ("^1.2.3", ">=1.2.3,<2"), ("^0.2.3", ">=0.2.3,<0.3"), ("^0.0.3", ">=0.0.3,<0.0.4"), ("~1.2.3", ">=1.2.3,<1.3"),
    ("1.2.3", "==1.2.3"), ("*", ""), (">=1,<2", ">=1,<2"), ("~=1.4", "~=1.4"),
])
def test_poetry_constraints_become_pep440(poetry: str, pep440: str) -> None:
    assert poetry_specifier(poetry) == pep440
