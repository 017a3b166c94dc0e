"""The opcode walker: resolution of every import form, memo semantics, fail-closed parsing."""

from __future__ import annotations

import pickle
import pickletools
import struct

import pytest

from kfp_gates.components.model_scan._reader import Reader
from kfp_gates.components.model_scan._walker import Walker
from kfp_gates.components.model_scan.errors import Corrupt, StreamError, Truncated

from .corpus import _bin_str, _sbu


def _imports(data: bytes) -> list[tuple[str, str, int, str]]:
    w = Walker(Reader.from_bytes(data))
    w.walk()
    return [(i.module, i.name, i.offset, i.opcode) for s in w.streams for i in s.imports]


def test_stack_global_operands_fetched_from_memo() -> None:
    data = b"\x80\x04" + _sbu("os") + b"\x94" + _sbu("system") + b"\x94" + b"00" + b"h\x00h\x01\x93N\x85R."
    assert _imports(data) == [("os", "system", data.index(b"\x93"), "STACK_GLOBAL")]


def test_stack_global_operands_from_long_binget_and_sparse_memo_keys() -> None:
    # LONG_BINPUT with a key far beyond the memo size, fetched back with LONG_BINGET.
    data = (b"\x80\x04" + _sbu("posix") + b"r" + struct.pack("<I", 1000) + _sbu("system") + b"\x94"
            + b"0" + b"0" + b"j" + struct.pack("<I", 1000) + b"h\x00\x93.")
    # MEMOIZE after a sparse key stores at len(memo) == 1, so BINGET 0 is missing: the loader fails there.
    with pytest.raises(Corrupt, match="never stored"):
        _imports(data)
    data = (b"\x80\x04" + _sbu("posix") + b"r" + struct.pack("<I", 1000) + _sbu("system") + b"\x94"
            + b"00" + b"j" + struct.pack("<I", 1000) + b"h\x01\x93.")
    assert _imports(data)[0][:2] == ("posix", "system")


def test_memoize_index_follows_the_unpickler_len_memo_rule() -> None:
    # BINPUT 5 then MEMOIZE: MEMOIZE stores at len(memo) == 1, not at 6.
    data = b"\x80\x04" + _sbu("x") + b"q\x05" + _sbu("os") + b"\x94" + _sbu("system") + b"\x94" + b"000h\x01h\x02\x93."
    assert _imports(data)[0][:2] == ("os", "system")


@pytest.mark.parametrize(
    "operands",
    [
        _bin_str("nt") + _bin_str("system"),  # SHORT_BINSTRING (protocol 1)
        b"S'nt'\nS'system'\n",  # STRING (protocol 0)
        b"Vnt\nVsystem\n",  # UNICODE (protocol 0)
        b"T" + struct.pack("<i", 2) + b"nt" + b"X" + struct.pack("<I", 6) + b"system",
    ],
)
def test_stack_global_with_old_protocol_string_operands(operands: bytes) -> None:
    assert _imports(b"\x80\x04" + operands + b"\x93.")[0][:2] == ("nt", "system")


def test_stack_global_on_non_string_operands_is_unresolved() -> None:
    imports = _imports(b"\x80\x04K\x01K\x02\x93.")
    assert imports[0][0] == "<unresolved>"


def test_global_inst_and_ext_are_all_recorded() -> None:
    data = b"(S'id'\nisubprocess\nPopen\n0\x80\x02\x82\x070cbuiltins\nexec\n."
    got = [(m, n, op) for m, n, _o, op in _imports(data)]
    assert got == [
        ("subprocess", "Popen", "INST"), ("<extension registry>", "7", "EXT1"), ("builtins", "exec", "GLOBAL")
    ]


def test_walk_matches_genops_offsets_on_real_pickles() -> None:
    import collections

    obj = {"a": [1, 2.5, "x" * 300, b"y" * 70000], "o": collections.OrderedDict(k=set([1]))}
    for proto in range(6):
        data = pickle.dumps(obj, protocol=proto)
        expected = [pos for op, _a, pos in pickletools.genops(data) if op.name in ("GLOBAL", "STACK_GLOBAL")]
        assert [i[2] for i in _imports(data)] == expected


@pytest.mark.parametrize("cut", range(1, 40))
def test_every_truncation_fails_closed(cut: int) -> None:
    data = pickle.dumps({"k": [1, 2, 3], "s": "text" * 3}, protocol=4)
    w = Walker(Reader.from_bytes(data[:cut]))
    with pytest.raises(StreamError):
        w.walk()


def test_truncation_inside_a_long_operand_is_reported_as_truncated() -> None:
    data = pickle.dumps("z" * 5000, protocol=4)
    with pytest.raises(Truncated):
        Walker(Reader.from_bytes(data[:100])).walk()


@pytest.mark.parametrize("bad", [b"\x80\x06N.", b"\x80\x04\xff.", b"\x80\x04e.", b"\x80\x04R.", b"\x80\x04."])
def test_corrupt_streams_raise(bad: bytes) -> None:
    with pytest.raises(Corrupt):
        Walker(Reader.from_bytes(bad)).walk()


def test_imports_before_a_failure_are_kept() -> None:
    data = b"\x80\x04" + _sbu("os") + _sbu("system") + b"\x93" + b"\xff"
    w = Walker(Reader.from_bytes(data))
    with pytest.raises(Corrupt):
        w.walk()
    assert [(i.module, i.name) for i in w.streams[0].imports] == [("os", "system")]


def test_frames_are_transparent() -> None:
    data = pickle.dumps([{"k": i} for i in range(2000)], protocol=5)
    assert b"\x95" in data
    w = Walker(Reader.from_bytes(data))
    w.walk()
    assert w.offset() == len(data)


def test_nested_joblib_object_arrays_are_bounded() -> None:
    """A wrapper whose object payload is a stream holding another wrapper, 100 levels deep."""
    from kfp_gates.components.model_scan.errors import LimitExceeded

    def wrapper() -> bytes:
        dtype = (b"cnumpy\ndtype\n" + _sbu("O8") + b"\x89\x88\x87R"
                 + b"(K\x03" + _sbu("|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb")
        state = b"}(" + _sbu("shape") + b"K\x01\x85" + _sbu("dtype") + dtype + b"u"
        return b"\x80\x04cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81" + state + b"b"

    data = b"".join(wrapper() for _ in range(100)) + b"N." + b"." * 100
    with pytest.raises(LimitExceeded):
        Walker(Reader.from_bytes(data)).walk()


def test_number_list_fast_path_keeps_semantics() -> None:
    """MARK + numbers + APPENDS is skipped in one match; what follows is still walked exactly."""
    nums = [1, 300, 70000, 2.5, None, True, False] * 50
    data = pickle.dumps([nums, {"k": nums}], protocol=4)
    w = Walker(Reader.from_bytes(data))
    w.walk()
    assert w.offset() == len(data)
    evil = pickle.dumps([nums], protocol=4)[:-1] + b"\x8c\x02os\x8c\x06system\x93."
    assert _imports(evil)[0][:2] == ("os", "system")
    # A top-level list keeps its text items (torch storage keys): no fast path there.
    keys = pickle.dumps(["0", "1", 2], protocol=4)
    w = Walker(Reader.from_bytes(keys))
    value = w.walk().value
    assert value.items == [b"0", b"1"] and value.count == 3


def test_getattr_on_a_global_resolves_to_a_dotted_import() -> None:
    data = (b"\x80\x04" + _sbu("builtins") + _sbu("getattr") + b"\x93" + _sbu("zoneinfo") + _sbu("ZoneInfo") + b"\x93"
            + _sbu("_unpickle") + b"\x86R" + _sbu("Europe/Berlin") + b"K\x01\x86R.")
    w = Walker(Reader.from_bytes(data))
    w.walk()
    got = [(i.module, i.name, i.opcode, i.deferred) for i in w.streams[0].imports]
    assert got == [
        ("builtins", "getattr", "STACK_GLOBAL", True),
        ("zoneinfo", "ZoneInfo", "STACK_GLOBAL", False),
        ("zoneinfo", "ZoneInfo._unpickle", "getattr", False),
    ]


def test_mark_nesting_is_bounded() -> None:
    from kfp_gates.components.model_scan.errors import LimitExceeded

    with pytest.raises(LimitExceeded):
        Walker(Reader.from_bytes(b"\x80\x04" + b"(" * 200_000 + b"N.")).walk()


def test_stack_size_is_bounded_at_window_refills(monkeypatch: pytest.MonkeyPatch) -> None:
    from kfp_gates.components.model_scan import _walker
    from kfp_gates.components.model_scan.errors import LimitExceeded

    monkeypatch.setattr(_walker, "MAX_STACK", 1000)
    with pytest.raises(LimitExceeded):
        Walker(Reader.from_bytes(b"\x80\x04" + b"N" * (3 << 20) + b".")).walk()
