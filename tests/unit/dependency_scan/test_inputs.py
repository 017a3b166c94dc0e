"""Lock files, installed environments, Python sources and compiled pipelines."""


from pathlib import Path

import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.kfp_ir import load_pipeline
from kfp_gates.components.dependency_scan.parsers import (
    parse_path,
    parse_pipeline_file,
    parse_poetry_lock,
    parse_pylock,
    parse_site_packages,
    parse_uv_lock,
)
from kfp_gates.components.dependency_scan.parsers.python_source import (
    NO_REVISION,
    TRUST_REMOTE_CODE,
    UNPARSEABLE,
    scan_source,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"

PYLOCK = f"""\
lock-version = "1.0"
created-by = "pip"

[[packages]]
name = "requests"
version = "2.19.0"
index = "https://pypi.org/simple"
[[packages.wheels]]
url = "https://files.example/requests-2.19.0-py2.py3-none-any.whl"
hashes = {{sha256 = "aaaa"}}

[[packages]]
name = "mylib"
[packages.vcs]
type = "git"
url = "https://github.com/org/mylib"
commit-id = "{COMMIT}"

[[packages]]
name = "nover"
"""

UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "myproject"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "jinja2"
version = "2.10"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/jinja2-2.10.tar.gz", hash = "sha256:bbbb", size = 1 }

[[package]]
name = "thing"
version = "1.0"
source = { git = "https://github.com/org/thing?rev=main" }
"""

POETRY_LOCK = """\
[[package]]
name = "pyyaml"
version = "5.3"
description = ""
optional = false
python-versions = "*"
files = [
    {file = "PyYAML-5.3.tar.gz", hash = "sha256:cccc"},
]

[[package]]
name = "private-lib"
version = "1.2.3"
description = ""
optional = false
python-versions = "*"
files = []

[package.source]
type = "legacy"
url = "https://user:tok@private.example/simple"
reference = "private"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "x"
"""


def test_pylock(write) -> None:
    inv = parse_pylock(write("pylock.toml", PYLOCK))
    d = {x.name: x for x in inv.dependencies}
    assert d["requests"].version == "2.19.0" and d["requests"].hashes == ("sha256:aaaa",)
    assert d["requests"].location.line == 5
    assert d["mylib"].kind == "vcs" and "without a version" in d["mylib"].reason
    assert d["nover"].kind == "unknown" and d["nover"].reason == "lock entry has no version"
    assert [i.url for i in inv.indexes] == ["https://pypi.org/simple"]


def test_uv_lock_skips_the_project_itself(write) -> None:
    inv = parse_uv_lock(write("uv.lock", UV_LOCK))
    d = {x.name: x for x in inv.dependencies}
    assert set(d) == {"jinja2", "thing"}
    assert d["jinja2"].version == "2.10" and d["jinja2"].hashes == ("sha256:bbbb",)
    assert d["thing"].kind == "vcs" and "without a resolved commit" in d["thing"].reason


def test_poetry_lock_sources_and_credentials(write) -> None:
    inv = parse_poetry_lock(write("poetry.lock", POETRY_LOCK))
    d = {x.name: x for x in inv.dependencies}
    assert d["pyyaml"].version == "5.3" and d["pyyaml"].hashes == ("sha256:cccc",)
    assert d["private-lib"].hashes == ()
    urls = {(i.url, i.implicit) for i in inv.indexes}
    assert ("https://***@private.example/simple", False) in urls and ("https://pypi.org/simple", True) in urls
    assert "tok" not in repr(inv)


@pytest.mark.parametrize(("name", "parser"), [("pylock.toml", parse_pylock), ("uv.lock", parse_uv_lock),
                                              ("poetry.lock", parse_poetry_lock)])
def test_unreadable_or_wrong_lock_files_are_exit_2(write, tmp_path: Path, name: str, parser) -> None:
    with pytest.raises(ConfigError) as exc:
        parser(write(name, "[[package]\nname = 'x'\n"))
    assert exc.value.where.endswith(":1")
    with pytest.raises(ConfigError):
        parser(write(name, "something = 1\n"))
    with pytest.raises(InputNotFoundError):
        parser(tmp_path / "missing" / name)


def _dist(root: Path, name: str, version: str | None, folder: str | None = None) -> None:
    d = root / (folder or f"{name}-{version}.dist-info")
    d.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {name}\n" + (f"Version: {version}\n" if version else "")
    (d / "METADATA").write_text(meta)


def test_site_packages(tmp_path: Path) -> None:
    _dist(tmp_path, "Jinja2", "2.10")
    _dist(tmp_path, "broken", None, "broken-1.0.dist-info")
    (tmp_path / "ghost-1.0.dist-info").mkdir()
    inv = parse_site_packages(tmp_path)
    d = {x.name: x for x in inv.dependencies}
    assert d["Jinja2"].version == "2.10" and d["Jinja2"].kind == "installed"
    assert d["broken"].kind == "unknown" and d["ghost"].kind == "unknown"
    assert not d["Jinja2"].hash_checkable
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError):
        parse_site_packages(empty)
    with pytest.raises(InputNotFoundError):
        parse_site_packages(tmp_path / "nope")


def test_huggingface_and_remote_code_scan() -> None:
    code = f'''
from transformers import AutoModel, pipeline
from huggingface_hub import hf_hub_download, snapshot_download
from datasets import load_dataset
REV = "{COMMIT}"
AutoModel.from_pretrained("bert-base-uncased")                                  # 6: no revision
AutoModel.from_pretrained("org/model", revision="main")                         # 7: branch
AutoModel.from_pretrained("org/model", revision=REV)                            # 8: pinned (constant)
AutoModel.from_pretrained("org/model", revision="{COMMIT}", trust_remote_code=True)  # 9: remote code
AutoModel.from_pretrained("./local/dir")                                        # 10: local, fine
AutoModel.from_pretrained(model_path)                                           # 11: variable, not judged
hf_hub_download(repo_id=name, filename="x.bin")                                 # 12: always the Hub
load_dataset("imdb")                                                            # 13
pipeline("text-generation", model="gpt2", **{{"trust_remote_code": True}})      # 14: both
'''
    got = sorted((f.rule, f.location.line) for f in scan_source(code, "train.py"))
    assert got == [
        (NO_REVISION, 6), (NO_REVISION, 7), (NO_REVISION, 12), (NO_REVISION, 13), (NO_REVISION, 14),
        (TRUST_REMOTE_CODE, 9), (TRUST_REMOTE_CODE, 14),
    ]


def test_unparseable_source_is_a_finding() -> None:
    (f,) = scan_source("def broken(:\n", "bad.py")
    assert f.rule == UNPARSEABLE and f.location.line == 1


def _compile(tmp_path: Path, packages: list[str], index_urls: list[str] | None = None) -> Path:
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11", packages_to_install=packages, pip_index_urls=index_urls)
    def train(x: str) -> str:
        from transformers import AutoModel

        AutoModel.from_pretrained("bert-base-uncased", trust_remote_code=True)
        return x

    @dsl.pipeline(name="demo")
    def pipe() -> None:
        train(x="1")

    out = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(pipe, str(out))
    return out


def test_compiled_pipeline_runtime_installs_images_and_code(tmp_path: Path) -> None:
    from kfp_gates.components.dependency_scan.parsers.shell import analyze_executor

    path = _compile(tmp_path, ["requests==2.19.0", "pyyaml>=5"], ["https://mirror.example/simple",
                                                                   "https://extra.example/simple"])
    ex = next(iter(load_pipeline(path).executors.values()))
    # option values are not requirements
    assert "https://mirror.example/simple" not in analyze_executor(ex).requirements
    inv = parse_pipeline_file(path)
    d = {x.key: x for x in inv.dependencies}
    assert d["requests"].version == "2.19.0" and d["requests"].origin == "pipeline"
    assert "command" in d["requests"].location.field
    assert d["pyyaml"].kind == "range"
    assert [i.image for i in inv.images] == ["python:3.11"]
    assert {(i.kind, i.url) for i in inv.indexes} >= {("index-url", "https://mirror.example/simple"),
                                                      ("extra-index-url", "https://extra.example/simple")}
    rules = {f.rule for f in inv.source_findings}
    assert rules == {NO_REVISION, TRUST_REMOTE_CODE}
    # parse_path detects a pipeline by its YAML suffix
    assert parse_path(path).dependencies == inv.dependencies


def test_directory_walk(write, tmp_path: Path) -> None:
    write("proj/requirements.txt", "requests==2.31.0\n")
    write("proj/src/train.py", "x = 1\n")
    write("proj/.venv/lib/requirements.txt", "evil==1\n")
    write("proj/poetry.lock", POETRY_LOCK)
    inv = parse_path(tmp_path / "proj")
    assert {i.kind for i in inv.inputs} == {"requirements file", "Python source", "poetry.lock"}
    assert "evil" not in {d.name for d in inv.dependencies}
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ConfigError):
        parse_path(tmp_path / "nothing")


def test_pipeline_with_a_vulnerable_runtime_install_is_caught(tmp_path: Path) -> None:
    from kfp_gates.components.common.severity import Decision
    from kfp_gates.components.dependency_scan.engine import scan_inputs

    path = _compile(tmp_path, ["requests==2.19.0"])
    r = scan_inputs(pipelines=[path])
    f = next(f for f in r.findings if f.id == "PYSEC-2018-28")
    assert f.location.path == str(path) and f.location.field.endswith(".container.command")
    assert f.data["origin"] == "pipeline"
    assert {"KFPG-IMG-NOT-DIGEST", "KFPG-HF-TRUST-REMOTE-CODE"} <= {x.id for x in r.findings}
    assert r.decision is Decision.FAIL and r.metadata["inventory"]["images"] == ["python:3.11"]
