"""Inputs in, outputs out: the archive format, its strict unpacking and the outbox log encoding."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.common.errors import UnsafeInputError
from kfp_gates.components.isolation import staging


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_pack_unpack_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "model" / "sub").mkdir(parents=True)
    (src / "model" / "w.bin").write_bytes(b"\x00\x01" * 1000)
    (src / "model" / "sub" / "m.json").write_text('{"acc": 0.9}')
    (src / "data.csv").write_text("a,b\n")
    (src / "model" / "link").symlink_to("/etc/passwd")  # links never travel
    archive = staging.pack(sorted(src.iterdir()))
    dest = tmp_path / "dest"
    staging.unpack(archive, dest)
    assert _tree(dest) == {k: v for k, v in _tree(src).items() if k != "model/link"}
    assert not (dest / "model" / "link").exists()
    # reproducible: same tree, same bytes
    assert staging.pack(sorted(src.iterdir())) == archive


def _tar(members: list[tarfile.TarInfo], data: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m in members:
            if m.isfile():
                m.size = len(data)
                tar.addfile(m, io.BytesIO(data))
            else:
                tar.addfile(m)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type = kind
    m.linkname = link
    return m


@pytest.mark.parametrize(
    "member",
    [
        _member("../escape.txt"),
        _member("/etc/cron.d/evil"),
        _member("a/../../escape"),
        _member("link", tarfile.SYMTYPE, "/etc/passwd"),
        _member("hard", tarfile.LNKTYPE, "/etc/passwd"),
        _member("dev", tarfile.CHRTYPE),
        _member("fifo", tarfile.FIFOTYPE),
    ],
    ids=["dotdot", "absolute", "nested-dotdot", "symlink", "hardlink", "device", "fifo"],
)
def test_unpack_refuses_anything_but_plain_files_inside_dest(tmp_path: Path, member: tarfile.TarInfo) -> None:
    with pytest.raises(UnsafeInputError):
        staging.unpack(_tar([member]), tmp_path / "dest")
    assert not (tmp_path / "escape.txt").exists()


def test_unpack_enforces_size_and_member_limits(tmp_path: Path) -> None:
    archive = _tar([_member("a"), _member("b")], data=b"y" * 100)
    with pytest.raises(UnsafeInputError, match="more than"):
        staging.unpack(archive, tmp_path / "d1", max_bytes=150)
    with pytest.raises(UnsafeInputError, match="members"):
        staging.unpack(archive, tmp_path / "d2", max_members=1)


def test_outbox_log_round_trip_and_tamper_detection() -> None:
    archive = staging.pack([])
    lines = list(staging.encode_for_log(archive))
    log = "some step noise\n" + "\n".join(lines) + "\ntrailing\n"
    assert staging.decode_from_log(log) == archive
    tampered = list(lines)
    tampered[1] = "B" * len(tampered[1])
    with pytest.raises(UnsafeInputError):
        staging.decode_from_log("\n".join(tampered))
    with pytest.raises(UnsafeInputError, match="missing or cut short"):
        staging.decode_from_log("\n".join(lines[:-1]))  # no end marker: the log was cut
    with pytest.raises(UnsafeInputError, match="missing"):
        staging.decode_from_log("")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_unpack_never_fails_open_on_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    dest = tmp_path_factory.mktemp("fuzz")
    try:
        staging.unpack(data, dest)
    except UnsafeInputError:
        return
    # Whatever unpacked stays inside dest.
    assert all(dest in p.resolve().parents for p in dest.rglob("*"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2048))
def test_decode_from_log_only_raises_the_typed_error(text: str) -> None:
    try:
        staging.decode_from_log(text)
    except UnsafeInputError:
        pass


def test_staging_module_cli_pack_and_unpack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "outputs"
    out.mkdir()
    (out / "m.txt").write_text("model")
    assert staging._main(["pack", str(out)]) == 0
    log = capsys.readouterr().out
    archive_path = tmp_path / "a.tar.gz"
    archive_path.write_bytes(staging.decode_from_log(log))
    assert staging._main(["unpack", str(archive_path), str(tmp_path / "in")]) == 0
    assert (tmp_path / "in" / "m.txt").read_text() == "model"
    assert staging._main(["bogus"]) == 2
