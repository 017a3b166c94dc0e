"""pip requirements files: what pip would install, and the errors pip would raise (named by file:line)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.dependency_scan.parsers import parse_requirements


def by_name(inv):
    return {d.key: d for d in inv.dependencies}


def test_pins_ranges_extras_markers_hashes(write) -> None:
    p = write("requirements.txt", """\
# comment
requests==2.19.0 --hash=sha256:aaaa \\
    --hash=sha256:bbbb
Werkzeug[watchdog]==0.11   # trailing comment
PyYAML==5.3 ; python_version >= "3.6"
jinja2>=2.0,<3
flask
numpy==1.26.*
""")
    d = by_name(parse_requirements(p))
    assert d["requests"].version == "2.19.0" and d["requests"].hashes == ("sha256:aaaa", "sha256:bbbb")
    assert d["requests"].location.line == 2
    assert d["werkzeug"].extras == ("watchdog",) and d["werkzeug"].version == "0.11"
    assert d["pyyaml"].marker == 'python_version >= "3.6"' and d["pyyaml"].version == "5.3"
    assert d["jinja2"].kind == "range" and d["jinja2"].specifier == "<3,>=2.0"
    assert d["flask"].kind == "range" and d["flask"].specifier == ""
    assert d["numpy"].kind == "range"  # a wildcard is not one version
    assert d["pyyaml"].location.line == 5


def test_includes_and_constraints(write) -> None:
    write("reqs/common.txt", "requests==2.19.0\n")
    write("reqs/constraints.txt", "jinja2==2.10\n")
    top = write("reqs/top.txt", "-r common.txt\n-c constraints.txt\njinja2>=2\n-r top.txt\n")
    inv = parse_requirements(top)
    d = by_name(inv)
    assert d["requests"].location.path.endswith("reqs/common.txt")
    # the range is checked at the version the constraint pins
    ranged = [x for x in inv.dependencies if x.key == "jinja2" and not x.constraint]
    assert ranged[0].version == "2.10" and "constraint" in (ranged[0].reason or "")
    assert len(inv.inputs) == 3  # the self-include is read once


def test_urls_vcs_paths_and_editables(write) -> None:
    p = write("requirements.txt", """\
git+https://github.com/org/repo@main#egg=thing
git+https://github.com/org/repo@0123456789abcdef0123456789abcdef01234567#egg=pinned
https://files.example/pkgs/Django-3.2.0-py3-none-any.whl
mypkg @ https://files.example/mypkg.tar.gz
-e ./local
./wheels/requests-2.19.0-py3-none-any.whl
""")
    deps = parse_requirements(p).dependencies
    kinds = [(d.name, d.kind, d.version) for d in deps]
    assert kinds[0] == ("thing", "vcs", None) and "without a pinned commit" in deps[0].reason
    assert kinds[1] == ("pinned", "vcs", None) and "commit 0123456789ab" in deps[1].reason
    assert kinds[2] == ("django", "url", "3.2.0")
    assert kinds[3][0] == "mypkg" and deps[3].version is None and deps[3].reason
    assert deps[4].kind == "path" and deps[4].reason
    assert kinds[5] == ("requests", "path", "2.19.0")


def test_index_options_and_credentials_are_stripped(write) -> None:
    p = write("requirements.txt", """\
--index-url https://user:s3cr3t-token@mirror.example/simple
--extra-index-url=https://pypi.org/simple
--trusted-host mirror.example
-f ./wheels
requests==2.31.0
""")
    inv = parse_requirements(p)
    kinds = {(i.kind, i.url) for i in inv.indexes}
    assert ("index-url", "https://***@mirror.example/simple") in kinds
    assert ("extra-index-url", "https://pypi.org/simple") in kinds
    assert ("trusted-host", "mirror.example") in kinds and ("find-links", "./wheels") in kinds
    assert "s3cr3t" not in repr(inv)
    assert not any(i.implicit for i in inv.indexes)


def test_no_index_option_means_the_default_index(write) -> None:
    inv = parse_requirements(write("r.txt", "requests==2.31.0\n"))
    assert [(i.url, i.implicit) for i in inv.indexes] == [("https://pypi.org/simple", True)]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("requests==2.31.0\nthis is not valid!\n", 2, "malformed requirement"),
        ("requests==\n", 1, "malformed requirement"),
        ("--frobnicate yes\n", 1, "unknown or unsupported pip option"),
        ("requests==1 --hash=md5:abc\n", 1, "malformed --hash"),
        ("requests==1 --no-deps\n", 1, "not allowed after a requirement"),
        ("-r https://example.com/reqs.txt\n", 1, "cannot be read offline"),
        ("ok==1\n\n-r\n", 3, "needs a value"),
    ],
)
def test_bad_lines_name_file_and_line(write, text: str, line: int, needle: str) -> None:
    p = write("requirements.txt", text)
    with pytest.raises(ConfigError) as exc:
        parse_requirements(p)
    assert exc.value.exit_code == 2
    assert exc.value.where == f"{p}:{line}" and needle in exc.value.message


def test_missing_files_are_exit_2(write, tmp_path) -> None:
    with pytest.raises(InputNotFoundError):
        parse_requirements(tmp_path / "nope.txt")
    top = write("top.txt", "-r missing.txt\n")
    with pytest.raises(InputNotFoundError) as exc:
        parse_requirements(top)
    assert "missing.txt" in str(exc.value)
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError):
        parse_requirements(tmp_path / "bin.txt")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), max_size=6))
def test_fuzz_requirement_lines_parse_or_raise_config_error(tmp_path_factory, lines: list[str]) -> None:
    d = tmp_path_factory.mktemp("fuzz")
    p = d / "requirements.txt"
    p.write_text("\n".join(x for x in lines if "-r" not in x and "-c" not in x), encoding="utf-8")
    try:
        parse_requirements(p)
    except ConfigError:
        pass
