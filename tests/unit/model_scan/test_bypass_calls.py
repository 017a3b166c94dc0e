"""Issue 17, classes 1 and 5: every call site is judged on its own, whatever opcode makes the call.

Each test builds the file, proves with the real ``pickle.load`` (audit hook, payload never run) that
it reaches ``os.system``, and asserts that the gate blocks.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.model_scan import run_gate
from kfp_gates.components.model_scan.scanner import DANGEROUS

from ._attack import PROTO4, SYSTEM_TRUE_P4, call, executed, get, glob, put, sbytes, su, tup

TIERS = ("critical", "standard", "fast-track")


def _decide(path: Path, tier: str = "standard") -> tuple[str, set[str]]:
    res = run_gate(path, GatePolicy.default(tier))
    return res.decision.value, {f.id for f in res.findings}


def _getattr_walk(second_getattr: bool) -> bytes:
    """getattr allowlisted once (ZoneInfo._unpickle), then partial(getattr, ...) walks to os.system."""
    out = PROTO4 + glob("builtins", "getattr") + put(0)
    out += get(0) + tup(glob("zoneinfo", "ZoneInfo"), su("_unpickle")) + b"R0"  # the one resolved, allowlisted call
    if second_getattr:  # a second import of getattr, used only as a value
        out += glob("builtins", "getattr") + put(0) + b"0"
    out += glob("functools", "partial") + put(1) + b"0"

    def ga(obj: bytes, attr: str) -> bytes:  # partial(getattr, obj)(attr)
        return call(call(get(1), get(0), obj), su(attr))

    out += ga(glob("pathlib", "Path"), "cwd") + put(2) + b"0"
    out += ga(get(2), "__globals__") + put(3) + b"0"
    out += call(ga(get(3), "get"), su("os")) + put(4) + b"0"
    out += call(ga(get(4), "system"), su("true")) + b"."
    return out


@pytest.mark.parametrize("second_getattr", [False, True], ids=["same-import", "another-import"])
def test_one_allowlisted_getattr_does_not_vouch_for_other_uses(tmp_path: Path, second_getattr: bool) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(_getattr_walk(second_getattr))
    assert "os.system" in executed("pickle", path, tmp_path)
    for tier in TIERS:
        decision, ids = _decide(path, tier)
        assert decision == "fail" and DANGEROUS in ids, tier


def test_partial_of_an_unresolved_callable_in_its_build_state_is_dangerous(tmp_path: Path) -> None:
    # partial(print) whose __setstate__ swaps the callable for getattr: judged on the state, not the REDUCE.
    data = PROTO4 + glob("builtins", "getattr") + put(0)
    data += get(0) + tup(glob("zoneinfo", "ZoneInfo"), su("_unpickle")) + b"R0"  # the allowlisted use
    state = tup(get(0), tup(glob("pathlib", "Path")), b"}", b"N")
    data += call(glob("functools", "partial"), glob("builtins", "print")) + state + b"b" + tup(su("cwd")) + b"R."
    path = tmp_path / "p.pkl"
    path.write_bytes(data)
    with path.open("rb") as fh:  # what the loader builds: getattr(Path, "cwd"), reached through the state
        assert pickle.load(fh) == Path.cwd
    assert {f.id for f in run_gate_bytes(tmp_path, data).findings} >= {DANGEROUS}


def run_gate_bytes(tmp_path: Path, data: bytes) -> GateResult:
    path = tmp_path / "m.pkl"
    path.write_bytes(data)
    return run_gate(path)


@pytest.mark.parametrize("protocol", range(6))
def test_real_getattr_class_methods_still_pass(tmp_path: Path, protocol: int) -> None:
    from zoneinfo import ZoneInfo

    path = tmp_path / "tz.pkl"
    path.write_bytes(pickle.dumps([ZoneInfo("UTC"), ZoneInfo("Europe/Paris")], protocol=protocol))
    assert _decide(path) == ("pass", set())


# ---------------------------------------------------------------------------- class 5: nested pickles
_STUB_TORCH = '''
import io
import pickle


def _load_from_bytes(b):
    # Stand-in for torch.storage._load_from_bytes (torch.load(io.BytesIO(b))): it unpickles the bytes.
    return pickle.load(io.BytesIO(b))
'''


@pytest.fixture
def stub_torch(tmp_path: Path) -> Path:
    root = tmp_path / "stub"
    (root / "torch").mkdir(parents=True)
    (root / "torch" / "__init__.py").write_text("")
    (root / "torch" / "storage.py").write_text(_STUB_TORCH)
    return root


@pytest.mark.parametrize("opcode", ["OBJ", "INST"])
def test_nested_pickle_loader_called_through_obj_or_inst_is_scanned(tmp_path: Path, stub_torch: Path,
                                                                    opcode: str) -> None:
    inner = SYSTEM_TRUE_P4
    if opcode == "OBJ":
        data = b"\x80\x02(" + glob("torch.storage", "_load_from_bytes") + sbytes(inner) + b"o."
    else:
        data = b"(" + sbytes(inner) + b"itorch.storage\n_load_from_bytes\n."
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    assert "os.system" in executed("pickle", path, tmp_path, extra_path=stub_torch)
    res = run_gate(path)
    assert res.decision.value == "fail"
    assert any(f.id == DANGEROUS and "os.system" in f.message for f in res.findings)


@pytest.mark.parametrize("opcode", [b"\x81", b"\x92"], ids=["NEWOBJ", "NEWOBJ_EX"])
def test_nested_pickle_loader_is_judged_the_same_through_newobj(tmp_path: Path, opcode: bytes) -> None:
    args = tup(sbytes(SYSTEM_TRUE_P4))
    data = PROTO4 + glob("torch.storage", "_load_from_bytes") + args + (b"}" if opcode == b"\x92" else b"") + opcode
    data += b"."
    res = run_gate_bytes(tmp_path, data)
    assert any(f.id == DANGEROUS and "os.system" in f.message for f in res.findings)


def test_nested_pickle_loader_wrapped_in_a_partial_is_dangerous(tmp_path: Path, stub_torch: Path) -> None:
    # partial(_load_from_bytes)(payload): the bytes reach the loader through the partial, not a call opcode.
    wrapped = call(glob("functools", "partial"), glob("torch.storage", "_load_from_bytes"))
    data = PROTO4 + call(wrapped, sbytes(SYSTEM_TRUE_P4)) + b"."
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    assert "os.system" in executed("pickle", path, tmp_path, extra_path=stub_torch)
    res = run_gate(path)
    assert res.decision.value == "fail" and DANGEROUS in {f.id for f in res.findings}


@pytest.mark.parametrize("dotted", ["builtins.map", "builtins.filter", "itertools.starmap", "operator.call",
                                    "functools.partialmethod", "_functools.reduce", "operator.methodcaller",
                                    "operator.attrgetter", "functools.reduce", "builtins.apply"])
def test_composition_helpers_other_than_partial_are_dangerous(dotted: str) -> None:
    from kfp_gates.components.model_scan.globals_policy import GlobalsPolicy, Verdict

    module, _, name = dotted.rpartition(".")
    assert GlobalsPolicy().judge(module, name).verdict is Verdict.DANGEROUS
