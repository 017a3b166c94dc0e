"""Formats by content, archives and their bounds, directories and symlinks."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from kfp_gates.components.common.severity import Severity
from kfp_gates.components.model_scan import ModelScanner, ScanLimits
from kfp_gates.components.model_scan import scanner as s
from kfp_gates.components.model_scan.formats import Format, detect

from .corpus import _evil, _safetensors, _tar, _zip


def _ids(data: bytes, limits: ScanLimits = ScanLimits()) -> set[str]:
    return {f.id for f in ModelScanner(limits=limits).scan_bytes(data, "f").findings}


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"\x80\x05\x95", Format.PICKLE),
        (b"PK\x03\x04rest", Format.ZIP),
        (b"\x93NUMPY\x01\x00", Format.NPY),
        (b"\x1f\x8b\x08\x00", Format.GZIP),
        (b"\xfd7zXZ\x00\x00", Format.XZ),
        (b"BZh91AY&SY", Format.BZ2),
        (b"\x5d\x00\x00\x80\x00", Format.LZMA),
        (b"\x78\x9c\x00", Format.ZLIB),
        (b"\x04\x22\x4d\x18", Format.LZ4),
        (b"\x89HDF\r\n\x1a\n", Format.HDF5),
        (b"hello world\n", Format.TEXT),
        (b"\x00\x01\x02\xfe", Format.UNKNOWN),
        (b"", Format.EMPTY),
    ],
)
def test_detect_by_content(head: bytes, fmt: Format) -> None:
    assert detect(head, None) is fmt


def test_extension_is_ignored(tmp_path: Path) -> None:
    p = tmp_path / "weights.safetensors"
    p.write_bytes(_evil(2))
    assert s.DANGEROUS in {f.id for f in ModelScanner().scan(p).findings}


def test_safetensors_header_is_validated() -> None:
    good = _safetensors({"w": ("F32", [2], struct.pack("<2f", 1, 2))})
    assert _ids(good) == set()
    header = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 80]}}
    h = json.dumps(header).encode()
    assert _ids(struct.pack("<Q", len(h)) + h + b"\x00" * 8) == {s.UNPARSABLE}
    header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    h = json.dumps(header).encode()
    assert _ids(struct.pack("<Q", len(h)) + h + b"\x00" * 12) == {s.UNPARSABLE}
    h = b'{"w": {"dtype": "EVIL", "shape": [1], "data_offsets": [0, 1]}}'
    assert _ids(struct.pack("<Q", len(h)) + h + b"\x00") == {s.UNPARSABLE}


def test_npy_without_objects_passes_and_with_objects_is_walked() -> None:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.arange(6.0))
    assert _ids(buf.getvalue()) == set()
    bad_header = b"\x93NUMPY\x01\x00" + struct.pack("<H", 12) + b"__import__()"
    assert _ids(bad_header) == {s.UNPARSABLE}


def test_zip_bounds_members_size_and_nesting() -> None:
    many = _zip({f"m{i}.txt": b"x" for i in range(20)})
    assert _ids(many, ScanLimits(max_archive_members=10)) == {s.LIMIT}
    bomb = _zip({"zeros.bin": b"\x00" * (4 << 20)})
    assert len(bomb) < 64 << 10
    assert s.LIMIT in _ids(bomb, ScanLimits(max_decompressed_bytes=1 << 20))
    nested = b"\x80\x04N."
    for i in range(4):
        nested = _zip({f"level{i}.zip": nested})
    assert _ids(nested, ScanLimits(max_nesting_depth=2)) == {s.LIMIT}
    assert _ids(nested, ScanLimits(max_nesting_depth=8)) == set()


def test_zip_inside_gzip_is_scanned() -> None:
    import gzip

    assert s.DANGEROUS in _ids(gzip.compress(_zip({"inner/model.pkl": _evil()})))
    assert _ids(gzip.compress(_zip({"inner/model.pkl": b"\x80\x04N."}))) == set()


def test_compressed_bomb_is_bounded() -> None:
    import gzip

    bomb = gzip.compress(b"\x80\x04" + b"N0" * (4 << 20) + b"N.")
    assert s.LIMIT in _ids(bomb, ScanLimits(max_decompressed_bytes=1 << 20))


def test_zip_duplicate_members_and_encrypted_flag() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.pkl", b"\x80\x04N.")
        with pytest.warns(UserWarning):
            z.writestr("data.pkl", _evil())
    ids = _ids(buf.getvalue())
    assert {s.ARCHIVE_AMBIGUOUS, s.DANGEROUS} <= ids
    raw = bytearray(_zip({"a.pkl": b"\x80\x04N."}, method=zipfile.ZIP_STORED))
    # set the "encrypted" flag bit in the local and central headers
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = bytes(raw).index(sig)
        flag_at = at + (6 if sig == b"PK\x03\x04" else 8)
        raw[flag_at] |= 1
    assert s.ARCHIVE_AMBIGUOUS in _ids(bytes(raw))


def test_corrupt_zip_and_crc_mismatch_block() -> None:
    assert _ids(b"PK\x03\x04" + b"\x00" * 40) == {s.UNPARSABLE}
    raw = bytearray(_zip({"a.pkl": b"\x80\x04N." + b"\x00" * 10}, method=zipfile.ZIP_STORED))
    raw[bytes(raw).index(b"\x80\x04N.") + 5] = 1  # flip a payload byte: CRC no longer matches
    assert s.UNPARSABLE in _ids(bytes(raw))


def test_tar_traversal_and_links() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("../escape.pkl")
        payload = b"\x80\x04N."
        info.size = len(payload)
        t.addfile(info, io.BytesIO(payload))
        link = tarfile.TarInfo("model/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../etc/passwd"
        t.addfile(link)
    findings = ModelScanner().scan_bytes(buf.getvalue(), "t.tar").findings
    assert [f.id for f in findings] == [s.ARCHIVE_PATH, s.ARCHIVE_PATH]
    assert findings[0].location.member == "../escape.pkl"


def test_legacy_torch_tar_storages_are_skipped_by_size() -> None:
    storages = io.BytesIO()
    pickle.dump(1, storages, protocol=2)
    storages.write(b"\x80\x02(X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\nt.")
    storages.write(struct.pack("<q", 3) + struct.pack("<3f", 1, 2, 3))
    data = _tar({"sys_info": pickle.dumps({}, protocol=2), "pickle": pickle.dumps([1], protocol=2),
                 "storages": storages.getvalue(), "tensors": pickle.dumps(0, protocol=2)})
    assert _ids(data) == set()
    broken = _tar({"storages": storages.getvalue()[:-4]})
    assert _ids(broken) == {s.UNPARSABLE}


def test_unknown_binary_blocks_and_text_passes() -> None:
    # Not analysed means not proven safe (issue 17, class 8): an unknown binary is high, so it blocks.
    findings = ModelScanner().scan_bytes(bytes(range(0, 8)) * 8, "weights.bin").findings
    assert [(f.id, f.severity) for f in findings] == [(s.UNKNOWN_FORMAT, Severity.HIGH)]
    assert _ids(b"cat\ndog\nfish\n") == set()  # reads like GLOBAL at.dog, but is not a pickle
    assert _ids(b"# README\n\nA model.\n") == set()


def test_text_pickle_with_call_is_a_pickle() -> None:
    assert _ids(b"cmypkg\nrun\n(S'x'\ntR") >= {s.UNKNOWN, s.UNPARSABLE}


def test_trailing_garbage_after_stop_blocks() -> None:
    assert _ids(pickle.dumps([1], protocol=4) + b"\x00\x00garbage") == {s.UNPARSABLE}


def test_directory_scan_does_not_follow_symlinks_out_of_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.pkl").write_bytes(_evil())
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok.pkl").write_bytes(pickle.dumps([1], protocol=4))
    os.symlink(outside / "evil.pkl", root / "linked.pkl")
    os.symlink(outside, root / "linked_dir")
    os.symlink(root / "sub" / "ok.pkl", root / "inside_link.pkl")
    report = ModelScanner().scan(root)
    ids = sorted(f.id for f in report.findings)
    assert ids == [s.SYMLINK, s.SYMLINK]
    assert all("not followed" in f.message for f in report.findings)
    assert [f["path"] for f in (r.to_dict() for r in report.files)] == [str(root / "sub" / "ok.pkl")]


def test_missing_path_is_a_config_error(tmp_path: Path) -> None:
    from kfp_gates.components.common.errors import InputNotFoundError

    with pytest.raises(InputNotFoundError):
        ModelScanner().scan(tmp_path / "nope.pkl")


def test_keras_lambda_layers_are_flagged() -> None:
    config = b'{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {}}]}}'
    keras = _zip({"metadata.json": b'{"keras_version": "3.0"}', "config.json": config, "model.weights.h5": b"x"})
    assert s.KERAS_LAMBDA in _ids(keras)
    h5 = b"\x89HDF\r\n\x1a\n" + b"\x00" * 64 + b'model_config{"class_name": "Lambda"}'
    assert _ids(h5) == {s.KERAS_LAMBDA}
    assert _ids(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64) == set()
    assert _ids(_zip({"config.json": b'{"class_name": "Dense"}'})) == set()


def test_old_joblib_without_alignment_and_import_like_array_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """joblib < 1.2 wrote no padding; raw int64 bytes 'c', ..., '\\n' must not read as an import."""
    import joblib
    import numpy as np
    from joblib.numpy_pickle import NumpyArrayWrapper

    original = NumpyArrayWrapper.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        del self.numpy_array_alignment_bytes

    monkeypatch.setattr(NumpyArrayWrapper, "__init__", init)
    buf = io.BytesIO()
    joblib.dump([np.array([99, 5, 10, 7, 10, 3], dtype=np.int64), np.arange(5.0)], buf)
    assert b"numpy_array_alignment_bytes" not in buf.getvalue()
    report = ModelScanner().scan_bytes(buf.getvalue(), "old.joblib")
    assert report.findings == []
    assert report.files[0].walked == len(buf.getvalue())


def test_binary_that_only_resembles_an_import_is_an_unknown_format() -> None:
    # 'c' then bytes that no loader could import, then a newline: not a pickle, just binary data
    findings = ModelScanner().scan_bytes(b"c\x00\xff\x10\n\x01\x02\n\xfe\xfd" * 4, "w.bin").findings
    assert [f.id for f in findings] == [s.UNKNOWN_FORMAT]
    # ... while an importable name followed by garbage is reported as a (broken) pickle
    findings = ModelScanner().scan_bytes(b"cposix\nsystem\n\xfe\xfd\x00", "w.bin").findings
    assert {f.id for f in findings} == {s.DANGEROUS, s.UNPARSABLE}


def test_torch_storage_that_starts_like_a_pickle_header_is_still_data() -> None:
    from .corpus import _torch_data_pkl, _torch_zip

    floats = struct.pack("<4f", 1, 2, 3, 4)
    storage = b"\x80\x02" + floats * 8  # random-looking tensor bytes that begin with PROTO 2
    data = _torch_zip("archive", _torch_data_pkl(), {"archive/data/7": storage})
    assert _ids(data) == set()
