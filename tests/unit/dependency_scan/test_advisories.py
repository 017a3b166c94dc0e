"""Advisory sources: directory (YAML/JSON), zip, compact snapshot, the embedded default, cache, bad data."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.dependency_scan.advisories import (
    AdvisorySourceError,
    CompactSource,
    DirectorySource,
    ZipSource,
    open_source,
)
from kfp_gates.components.dependency_scan.advisories.compact import EMBEDDED_LICENSE, dump
from kfp_gates.components.dependency_scan.advisories.osv import MalformedRecord, parse_record
from kfp_gates.components.dependency_scan.matcher import AdvisoryIndex

PKG_DATA = Path(__file__).resolve().parents[3] / "components" / "dependency_scan" / "data"


def test_embedded_snapshot_is_complete_and_attributed(embedded) -> None:
    meta = embedded.describe()
    assert meta["kind"] == "embedded"
    assert meta["records"] == 2661 and meta["withdrawn_skipped"] == 10 and meta["malformed_skipped"] == 0
    assert "3ccb612573e2511ab5cad7dafecd838605c80cda" in meta["location"]
    assert meta["snapshot"].startswith("2024-10-10T17:35:05")
    assert "CC-BY-4.0" in meta["attribution"]
    assert meta["digest"].startswith("sha256:")
    assert (PKG_DATA / EMBEDDED_LICENSE).read_text().startswith("Attribution 4.0 International")
    assert (PKG_DATA / "pypa-advisory-db.json.gz").stat().st_size < 400_000  # compact, not the 14 MB tree


def test_directory_source_reads_real_yaml_quirks(data_dir: Path) -> None:
    s = DirectorySource(data_dir / "advisories").load()
    by_id = {a.id: a for a in s.advisories}
    assert len(by_id) == 12 and s.malformed == 0
    assert s.withdrawn == 2  # redis PYSEC-2023-73 and loguru PYSEC-2022-15 (no ranges at all)
    # unquoted timestamps load as text and parse to aware datetimes
    assert by_id["PYSEC-2020-342"].modified is not None and by_id["PYSEC-2020-342"].modified.tzinfo is not None
    # "related" is kept apart from aliases
    assert by_id["PYSEC-2023-175"].related == ("CVE-2023-4863", "CVE-2023-5129")
    assert by_id["PYSEC-2023-175"].aliases == ()
    # GIT ranges are dropped, ECOSYSTEM kept
    assert all(len(r) > 0 for a in s.advisories for aff in a.affected for r in aff.ranges)
    idx = AdvisoryIndex(s.advisories)
    assert {m.advisory.id for m in idx.match("py", "1.11.0")} == {"PYSEC-2022-42969"}
    assert {m.advisory.id for m in idx.match("buildbot", "0.8.4p1")} == {"PYSEC-2019-6"}


def test_zip_source_matches_directory(data_dir: Path, tmp_path: Path) -> None:
    z = tmp_path / "all.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in (data_dir / "advisories").rglob("*.yaml"):
            rec = yaml.safe_load(f.read_text())
            zf.writestr(f"{rec['id']}.json", json.dumps(rec, default=str))
        zf.writestr("npm/GHSA-x.json", json.dumps({"id": "GHSA-x", "affected": [
            {"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.0.0"]}]}))
    s = open_source(z).load()
    assert isinstance(open_source(z), ZipSource)
    assert len(s.advisories) == 12 and s.other_ecosystems == 1
    assert s.info.kind == "zip" and s.info.digest.startswith("sha256:")


def test_compact_round_trip_is_lossless_and_reproducible(data_dir: Path, tmp_path: Path) -> None:
    s = DirectorySource(data_dir / "advisories").load()
    blob = dump(s)
    assert dump(s) == blob  # reproducible bytes
    p = tmp_path / "snap.json.gz"
    p.write_bytes(blob)
    back = open_source(p).load()
    assert isinstance(open_source(p), CompactSource)
    assert {a.id: a for a in back.advisories} == {a.id: a for a in s.advisories}


def test_zero_records_is_an_error_never_a_clean_scan(tmp_path: Path) -> None:
    (tmp_path / "README.yaml").write_text("just: text\n")
    with pytest.raises(AdvisorySourceError) as exc:
        DirectorySource(tmp_path).load()
    assert exc.value.exit_code == 2 and "refusing" in str(exc.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AdvisorySourceError):
        DirectorySource(empty).load()


def test_only_withdrawn_records_is_also_zero(tmp_path: Path, data_dir: Path) -> None:
    shutil.copy(data_dir / "advisories" / "redis" / "PYSEC-2023-73.yaml", tmp_path / "a.yaml")
    with pytest.raises(AdvisorySourceError):
        DirectorySource(tmp_path).load()


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 truncated"])
def test_corrupt_zip_and_snapshot_are_exit_2(tmp_path: Path, content: bytes) -> None:
    z = tmp_path / "all.zip"
    z.write_bytes(content)
    with pytest.raises(AdvisorySourceError):
        ZipSource(z).load()
    g = tmp_path / "snap.json.gz"
    g.write_bytes(gzip.compress(b'{"format": "something-else"}'))
    with pytest.raises(AdvisorySourceError):
        CompactSource(g).load()
    with pytest.raises(AdvisorySourceError):
        open_source(tmp_path / "missing")


def test_malformed_records_are_skipped_and_counted(tmp_path: Path, data_dir: Path) -> None:
    shutil.copy(data_dir / "advisories" / "py" / "PYSEC-2022-42969.yaml", tmp_path / "good.yaml")
    (tmp_path / "broken.yaml").write_text("id: X\naffected: [\n")
    (tmp_path / "noid.json").write_text(json.dumps({"affected": []}))
    no_intro = {"type": "ECOSYSTEM", "events": [{"fixed": "1"}]}
    (tmp_path / "badrange.json").write_text(json.dumps({"id": "X-2", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": [no_intro]}]}))
    s = DirectorySource(tmp_path).load()
    assert [a.id for a in s.advisories] == ["PYSEC-2022-42969"]
    assert s.malformed == 3
    assert any("broken.yaml" in e for e in s.malformed_examples)
    assert s.describe()["malformed_skipped"] == 3


def test_cache_is_used_and_unsafe_cache_ignored(tmp_path: Path, data_dir: Path) -> None:
    cache = tmp_path / "cache"
    src = tmp_path / "adv"
    shutil.copytree(data_dir / "advisories", src)
    first = DirectorySource(src, cache_dir=cache).load()
    second = DirectorySource(src, cache_dir=cache).load()
    assert not first.from_cache and second.from_cache
    assert second.info.digest == first.info.digest
    assert {a.id for a in second.advisories} == {a.id for a in first.advisories}
    # a changed source is parsed again (stat fingerprint differs)
    (src / "py" / "PYSEC-2022-42969.yaml").unlink()
    third = DirectorySource(src, cache_dir=cache).load()
    assert not third.from_cache and len(third.advisories) == 11
    # a cache directory writable by others is never trusted
    os.chmod(cache, 0o777)
    assert not DirectorySource(src, cache_dir=cache).load().from_cache


def test_parse_record_examples() -> None:
    adv, notes = parse_record({"id": "A", "withdrawn": "not a date", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "Foo_Bar"}, "versions": ["1.0.0"]}]})
    assert adv.withdrawn is None and notes  # unreadable withdrawal keeps the record active
    assert adv.affected[0].name == "foo-bar" and adv.affected[0].versions == ("1",)
    with pytest.raises(MalformedRecord):
        parse_record({"id": "B", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
                                               "ranges": [{"type": "WEIRD", "events": []}]}]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "affected", "package", "name", "ecosystem", "ranges", "type", "events", "versions",
                         "introduced", "fixed", "withdrawn", "aliases", "severity"]), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parse_record_only_ever_raises_malformed(record) -> None:
    try:
        parse_record(record)
    except MalformedRecord:
        pass
