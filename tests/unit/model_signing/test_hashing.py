"""The fast hasher builds exactly upstream model_signing's manifest, in bounded memory and any thread count."""

from __future__ import annotations

import os
from pathlib import Path

import model_signing
import pytest

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError, UnsafeInputError
from kfp_gates.components.model_signing import hashing as h
from kfp_gates.components.model_signing.hashing import HashingConfig, hash_model
from kfp_gates.components.model_signing.statement import build_payload, parse_payload


def _upstream(model: Path, *, shards: int | None = None) -> dict[str, str]:
    cfg = model_signing.hashing.Config().set_ignored_paths(paths=[], ignore_git_paths=True)
    if shards:
        cfg.use_shard_serialization(shard_size=shards)
    m = cfg.hash(model)
    return {rd.identifier: rd.digest.digest_hex for rd in m.resource_descriptors()}


def _ours(model: Path, **kw) -> dict[str, str]:
    m = hash_model(model, HashingConfig(**kw))
    return {m.resource_name(r): r.digest for r in m.resources}


def test_files_manifest_equals_upstream(model: Path) -> None:
    assert _ours(model, method="files") == _upstream(model)


def test_shard_manifest_equals_upstream_including_partial_last_shard(model: Path) -> None:
    ours = _ours(model, method="shards", shard_size=1 << 16)
    assert ours == _upstream(model, shards=1 << 16)
    assert "weights.bin:262144:300000" in ours  # 300_000 bytes: four full shards and a partial one


def test_empty_files_are_recorded_in_shard_mode_because_upstream_has_no_resource_for_them(model: Path) -> None:
    m = hash_model(model, HashingConfig(method="shards", shard_size=1 << 20))
    assert "empty.txt" not in {r.path for r in m.resources}
    assert m.empty_files == ("empty.txt",)
    back = parse_payload("application/vnd.in-toto+json", build_payload(m)).manifest
    assert back.empty_files == ("empty.txt",)


def test_root_digest_order_matches_upstream_path_part_order(tmp_path: Path) -> None:
    # 'a-b' < 'a/b' as strings, but upstream orders by path parts: ('a', 'b') < ('a-b',)
    root = tmp_path / "m"
    (root / "a").mkdir(parents=True)
    (root / "a" / "b").write_text("1")
    (root / "a-b").write_text("2")
    m = hash_model(root, HashingConfig(method="files"))
    assert [r.path for r in m.resources] == ["a/b", "a-b"]
    up = model_signing.hashing.Config().hash(root)
    payload = model_signing._signing.signing.Payload(up)
    assert payload.statement.pb.subject[0].digest["sha256"] == m.root_digest()


def test_thread_count_does_not_change_the_manifest(model: Path) -> None:
    one = hash_model(model, HashingConfig(method="shards", shard_size=1 << 15, workers=1))
    many = hash_model(model, HashingConfig(method="shards", shard_size=1 << 15, workers=4))
    assert one == many


def test_auto_picks_shards_only_for_large_files() -> None:
    cfg = HashingConfig()
    assert h.choose_method(cfg, [10, 1 << 20]) == "files"
    assert h.choose_method(cfg, [h.AUTO_SHARD_THRESHOLD]) == "shards"
    assert h.choose_method(HashingConfig(method="files"), [1 << 40]) == "files"


def test_ignore_paths_are_recorded_and_applied(model: Path) -> None:
    m = hash_model(model, HashingConfig(ignore_paths=(".git", "tokenizer")))
    assert {r.path for r in m.resources} == {"weights.bin", "config.json", "empty.txt"}
    assert m.serialization()["ignore_paths"] == [".git", "tokenizer"]


@pytest.mark.parametrize("bad", ["/etc", "../outside", "a/../../b", ""])
def test_ignore_paths_must_stay_inside_the_model(bad: str) -> None:
    with pytest.raises(ConfigError):
        HashingConfig(ignore_paths=(bad,))


def test_single_file_model_is_named_like_upstream(tmp_path: Path) -> None:
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"x" * 1000)
    assert _ours(f, method="files") == _upstream(f)


def test_symlinks_are_refused_when_signing(model: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("secret")
    os.symlink(tmp_path / "outside", model / "link")
    with pytest.raises(UnsafeInputError, match="link"):
        hash_model(model, HashingConfig())


def test_special_files_are_refused(model: Path) -> None:
    os.mkfifo(model / "pipe")
    with pytest.raises(UnsafeInputError, match="pipe"):
        hash_model(model, HashingConfig())


def test_missing_model_is_input_not_found(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError):
        hash_model(tmp_path / "nope", HashingConfig())


def test_progress_counts_every_byte(model: Path) -> None:
    seen: list[int] = []
    m = hash_model(model, HashingConfig(), seen.append)
    assert (
        sum(seen)
        == m.total_bytes
        == sum(f.stat().st_size for f in model.rglob("*") if f.is_file() and ".git" not in f.parts)
    )


def test_large_ranges_hashed_through_windows_match_upstream_even_with_unaligned_shards(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    (root / "w.bin").write_bytes(os.urandom(1 << 20) * 41)  # 41 MiB: above the batching size, so mapped windows
    odd = (33 << 20) + 4097  # shard offsets that are not page aligned
    assert _ours(root, method="files") == _upstream(root)
    assert _ours(root, method="shards", shard_size=odd) == _upstream(root, shards=odd)


def test_a_file_shorter_than_expected_is_refused_not_padded(tmp_path: Path) -> None:
    f = tmp_path / "short.bin"
    f.write_bytes(b"x" * (40 << 20))
    for length in (41 << 20, 1 << 20):  # mapped and read paths
        start = (40 << 20) - 10 if length == 1 << 20 else 0
        with pytest.raises(UnsafeInputError, match="shrank"):
            h._hash_range(str(f), start, length, "sha256", h._Reader(), None)


def test_a_model_path_that_is_a_symlink_is_followed_once(model: Path, tmp_path: Path) -> None:
    current = tmp_path / "current"
    current.symlink_to(model)
    assert _ours(current, method="files") == _ours(model, method="files")


def test_a_file_that_vanishes_or_cannot_be_opened_blocks_instead_of_crashing(tmp_path: Path) -> None:
    with pytest.raises(UnsafeInputError, match="cannot read"):
        h._hash_range(str(tmp_path / "vanished.bin"), 0, 10, "sha256", h._Reader(), None)
