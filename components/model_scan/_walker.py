"""A pickle opcode walker that never unpickles.

It simulates the unpickler's stack, mark stack and memo with inert stand-in
values, so that every callable a loader could reach is resolved exactly as
the loader would resolve it: ``GLOBAL`` and ``INST`` operands,
``STACK_GLOBAL`` operands wherever they come from (string opcodes of any
protocol, or fetched back from the memo), the class of ``OBJ``, the callable
of ``REDUCE``/``NEWOBJ``. Nothing is imported and no constructor runs.

Why not :func:`pickletools.genops`: it decodes every argument into Python
objects and builds an ``OpcodeInfo`` tuple per opcode, which makes it about
three times slower than this loop on opcode-dense files; it keeps no stack,
so ``STACK_GLOBAL`` operands that come from the memo stay unresolved; and it
stops at the first ``STOP``, so it cannot follow a joblib file, where raw
numpy buffers sit between pickle opcodes and the stream continues after them.
This walker skips those buffers (their length follows from the
``NumpyArrayWrapper`` state) without decoding them, and carries on to the end.

Values kept on the simulated stack are small: text operands as raw UTF-8
``bytes``, byte strings as :class:`Blob`, numbers, tuples, and capped
:class:`ListVal`/:class:`DictVal` for containers. Large payloads are skipped
through the :class:`~._reader.Reader`, so memory stays bounded by the memo
and the window, not by the file.
"""

from __future__ import annotations

import ast
import codecs
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._reader import Reader
from .errors import Corrupt, LimitExceeded, Truncated

_U1 = struct.Struct("<B").unpack_from
_U2 = struct.Struct("<H").unpack_from
_I4 = struct.Struct("<i").unpack_from
_U4 = struct.Struct("<I").unpack_from
_U8 = struct.Struct("<Q").unpack_from

LIST_CAP = 1 << 16  # items of a list kept for inspection (torch storage keys); the rest are counted only
DICT_CAP = 1 << 12
INLINE_BYTES_CAP = 64 << 20  # byte strings kept for nested-pickle scans; longer ones are skipped
LINE_CAP = 1 << 20  # longest protocol-0 text operand accepted
MAX_STACK = 10_000_000  # values on the stack (80 MB of references); real pickles batch by 1000
MAX_MARKS = 100_000  # open MARKs; real pickles nest a few dozen, a file of "(((" would cost 56 bytes each


class _Mark:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MARK"


class _Any:
    """An opaque value (a float, a set, an array the walker skipped)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


ANY = _Any("value")
FLOAT = _Any("float")
SET = _Any("set")
BUFFER = _Any("buffer")
ARRAY = _Any("array")
# Containers are shared stand-ins unless their content can matter: a list that is a stream's
# top-level value (torch storage keys), a dict that is built under an object (a BUILD state).
# Keeping every list and dict of an opcode-dense file would cost hundreds of MiB.
LIST0 = _Any("list")
DICT0 = _Any("dict")


class Global:
    """A callable or class the stream imports: ``module`` and (possibly dotted) ``name``."""

    # refs: how many times the object was pushed (import, memo fetch, DUP); uses: how many of those were
    # consumed as the callable of a resolved getattr call. Only builtins.getattr needs them (see _record).
    __slots__ = ("module", "name", "offset", "refs", "uses")

    def __init__(self, module: str, name: str, offset: int) -> None:
        self.module = module
        self.name = name
        self.offset = offset
        self.refs = 1
        self.uses = 0

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"

    def __repr__(self) -> str:
        return f"Global({self.dotted})"


class Obj:
    """The result of calling ``func`` (REDUCE, NEWOBJ, OBJ, INST, persistent load)."""

    __slots__ = ("args", "func", "state")

    def __init__(self, func: Any, args: Any) -> None:
        self.func = func
        self.args = args
        self.state: Any = None

    def __repr__(self) -> str:
        return f"Obj({self.func!r}, {self.args!r})"


class Blob:
    """A byte string operand: ``data`` when kept, else only its place in the stream."""

    __slots__ = ("data", "length", "offset")

    def __init__(self, data: bytes | None, offset: int, length: int) -> None:
        self.data = data
        self.offset = offset
        self.length = length


class ListVal:
    """A top-level list. Only its text items are kept (torch storage keys); others are counted."""

    __slots__ = ("count", "items")

    def __init__(self, items: list[Any] | None = None) -> None:
        self.items: list[bytes] = []
        self.count = 0
        if items:
            self.extend(items)

    def extend(self, values: list[Any]) -> None:
        self.count += len(values)
        room = LIST_CAP - len(self.items)
        if room > 0:
            self.items.extend([v for v in values[:room] if type(v) is bytes])


class DictVal:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[Any, Any] = {}

    def set(self, key: Any, value: Any) -> None:
        if len(self.items) < DICT_CAP:
            try:
                self.items[key] = value
            except TypeError:  # unhashable stand-in (a list): not needed for inspection
                pass


MARK = _Mark()


@dataclass
class Import:
    """One resolved import: where, how (GLOBAL, STACK_GLOBAL, INST, EXT), and whether it was called."""

    module: str
    name: str
    offset: int
    opcode: str
    # builtins.getattr is judged where it is called, not where it is imported (see _getattr_call).
    deferred: bool = False
    ref: Global | None = None  # the imported object, for deferred imports (its refs/uses decide)


@dataclass
class StreamResult:
    """What one pickle stream (PROTO ... STOP) holds, as far as safety is concerned."""

    start: int
    end: int = -1
    protocol: int = 0
    imports: list[Import] = field(default_factory=list)
    calls: int = 0
    value: Any = None
    persistent_ids: list[Any] = field(default_factory=list)
    # Calls that are dangerous whatever their imports say: (offset, opcode, why).
    hazards: list[tuple[int, str, str]] = field(default_factory=list)


# Hooks the format layer installs: called on REDUCE of a known reconstructor, and on BUILD of
# a joblib array wrapper. They get the walker and return nothing; they may advance the stream.
ReduceHook = Callable[["Walker", Global, Any, int], None]


class Walker:
    """Walk pickle streams from a :class:`Reader`.

    :meth:`walk` simulates one stream up to and including its ``STOP`` and
    returns a :class:`StreamResult`. It raises :class:`Corrupt` or
    :class:`Truncated` where a loader would fail, after recording every
    import seen before that point (a loader executes those before failing,
    so callers must report them even when the walk fails).
    """

    def __init__(
        self,
        reader: Reader,
        *,
        on_reduce: ReduceHook | None = None,
        joblib: bool = True,
        nested: Callable[[Walker, Blob, Global], None] | None = None,
        max_memo: int = 1 << 20,
    ) -> None:
        self.r = reader
        self.pos = 0
        self.on_reduce = on_reduce
        self.joblib = joblib
        self.nested = nested
        self.max_memo = max_memo
        self.current: StreamResult | None = None
        self.streams: list[StreamResult] = []
        self.depth = 0  # nested streams (joblib object arrays) currently open

    # ------------------------------------------------------------------
    def offset(self) -> int:
        return self.r.offset(self.pos)

    def at_end(self) -> bool:
        """True when no byte follows the current position (reads ahead if needed)."""
        self.pos = self.r.fill(self.pos, 1, partial=True)
        return self.pos >= len(self.r.buf)

    def peek(self, n: int) -> bytes:
        """Up to ``n`` bytes at the current position, without consuming them."""
        self.pos = self.r.fill(self.pos, n, partial=True)
        return self.r.buf[self.pos : self.pos + n]

    def skip(self, n: int) -> None:
        self.pos = self.r.skip(self.pos, n)

    def take(self, n: int) -> bytes:
        data, self.pos = self.r.take(self.pos, n)
        return data

    # ------------------------------------------------------------------
    def walk(self) -> StreamResult:
        """Walk one pickle stream from the current position through its STOP."""
        res = StreamResult(start=self.offset())
        outer = self.current
        self.current = res
        self.streams.append(res)
        try:
            res.value = self._loop(res)
        finally:
            self.current = outer
        res.end = self.offset()
        return res

    def _line(self, buf: bytes, pos: int) -> tuple[bytes, int] | None:
        end = buf.find(b"\n", pos, pos + LINE_CAP)
        if end < 0:
            if len(buf) - pos >= LINE_CAP:
                # CPython reads a line of any length: never reject it, skip it (see _long_operand).
                raise _LongLine
            return None
        return buf[pos:end], end + 1

    def _skip_line(self, pos: int) -> tuple[bytes, bytes, int]:
        """Consume a newline-terminated operand of any length from ``pos``: (first bytes, last byte, new index)."""
        r = self.r
        first = r.buf[pos : pos + 64]
        last = b""
        while True:
            buf = r.buf
            end = buf.find(b"\n", pos)
            if end >= 0:
                if end > pos:
                    last = buf[end - 1 : end]
                return first, last, end + 1
            if len(buf) > pos:
                last = buf[-1:]
            pos = r.skip(pos, len(buf) - pos)
            pos = r.fill(pos, 1, partial=True)
            if pos >= len(r.buf):
                raise Truncated(r.offset(pos))

    def _loop(self, res: StreamResult) -> Any:
        r = self.r
        buf = r.buf
        pos = self.pos
        lim = len(buf)
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: list[Any] = []
        sparse: dict[int, Any] = {}
        imports = res.imports
        consts = _CONSTS
        need = 0
        # Set once the stream imports builtins.getattr: from then on memo fetches count its references.
        ga = False

        def memo_put(idx: int, value: Any) -> None:
            n = len(memo)
            if idx < n:
                memo[idx] = value
            elif idx == n:
                memo.append(value)
                while len(memo) in sparse:
                    memo.append(sparse.pop(len(memo)))
            else:
                # Any index is kept (CPython grows its memo to it, or fails for lack of memory: the walker
                # going on where a loader fails is safe). What is bounded is how many such entries are kept.
                if len(sparse) >= self.max_memo and idx not in sparse:
                    raise LimitExceeded(f"more than {self.max_memo} memo entries beyond the memo's end",
                                        r.offset(pos))
                sparse[idx] = value

        def memo_get(idx: int) -> Any:
            if idx < len(memo):
                return memo[idx]
            try:
                return sparse[idx]
            except KeyError:
                raise Corrupt(f"memo key {idx} was never stored", r.offset(pos)) from None

        def text(line: bytes, what: str) -> str:
            try:
                return line.decode("utf-8")
            except UnicodeDecodeError:
                raise Corrupt(f"{what} is not valid UTF-8", r.offset(pos)) from None

        while True:
            try:
                while True:
                    op = buf[pos]
                    # Ordered by how often each opcode appears in real model files.
                    if op == 0x4B:  # BININT1
                        stack.append(buf[pos + 1])
                        pos += 2
                    elif op == 0x94:  # MEMOIZE
                        if sparse:
                            memo_put(len(memo) + len(sparse), stack[-1])
                        else:
                            memo.append(stack[-1])
                        pos += 1
                    elif op == 0x68:  # BINGET
                        idx = buf[pos + 1]
                        v = memo[idx] if idx < len(memo) else memo_get(idx)
                        if ga and type(v) is Global:
                            v.refs += 1
                        stack.append(v)
                        pos += 2
                    elif op in consts:  # NONE, NEWTRUE, NEWFALSE, EMPTY_TUPLE/LIST/DICT/SET
                        stack.append(consts[op])
                        pos += 1
                    elif op == 0x8C:  # SHORT_BINUNICODE
                        end = pos + 2 + buf[pos + 1]
                        if end > lim:
                            need = end - pos
                            raise Truncated
                        stack.append(buf[pos + 2 : end])
                        pos = end
                    elif op == 0x71:  # BINPUT
                        idx = buf[pos + 1]
                        if idx == len(memo) and not sparse:
                            memo.append(stack[-1])
                        else:
                            memo_put(idx, stack[-1])
                        pos += 2
                    elif op == 0x4D:  # BININT2
                        stack.append(buf[pos + 1] | (buf[pos + 2] << 8))
                        pos += 3
                    elif op == 0x4A:  # BININT
                        stack.append(_I4(buf, pos + 1)[0])
                        pos += 5
                    elif op == 0x47:  # BINFLOAT
                        if pos + 9 > lim:
                            need = 9
                            raise Truncated
                        stack.append(FLOAT)
                        pos += 9
                    elif op == 0x28:  # MARK
                        # Fast path for list literals of numbers (token ids, flattened arrays): MARK, then
                        # only number/None/bool opcodes, then APPENDS. Such a frame has no side effect
                        # unless its target is a kept top-level list, so it is matched in C and skipped.
                        if stack and type(stack[-1]) is not ListVal and not (stack[-1] is LIST0 and len(stack) == 1):
                            m = _NUMBER_APPENDS(buf, pos + 1) if pos + 1 < lim and buf[pos + 1] in _NUMBER_OPS else None
                            if m is not None:
                                pos = m.end()
                                continue
                        if len(metastack) >= MAX_MARKS:
                            raise LimitExceeded(f"more than {MAX_MARKS} nested MARKs", r.offset(pos))
                        metastack.append(stack)
                        stack = []
                        pos += 1
                    elif op == 0x75:  # SETITEMS
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        target = stack[-1]
                        if target is DICT0 and len(stack) >= 2 and type(stack[-2]) is Obj:
                            stack[-1] = target = DictVal()
                        if type(target) is DictVal:
                            for i in range(0, len(items) - 1, 2):
                                target.set(items[i], items[i + 1])
                        pos += 1
                    elif op == 0x65:  # APPENDS
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        target = stack[-1]
                        if target is LIST0 and len(stack) == 1:
                            stack[0] = target = ListVal()
                        if type(target) is ListVal:
                            target.extend(items)
                        pos += 1
                    elif op == 0x86:  # TUPLE2
                        b = stack.pop()
                        a = stack[-1]
                        # Tuples holding floats are never operands the walker inspects.
                        stack[-1] = FLOAT if a is FLOAT or b is FLOAT else (a, b)
                        pos += 1
                    elif op == 0x85:  # TUPLE1
                        a = stack[-1]
                        stack[-1] = FLOAT if a is FLOAT else (a,)
                        pos += 1
                    elif op == 0x87:  # TUPLE3
                        c = stack.pop()
                        b = stack.pop()
                        a = stack[-1]
                        stack[-1] = FLOAT if a is FLOAT or b is FLOAT or c is FLOAT else (a, b, c)
                        pos += 1
                    elif op == 0x61:  # APPEND
                        v = stack.pop()
                        target = stack[-1]
                        if target is LIST0 and len(stack) == 1:
                            stack[0] = target = ListVal()
                        if type(target) is ListVal:
                            target.extend([v])
                        pos += 1
                    elif op == 0x73:  # SETITEM
                        v = stack.pop()
                        k = stack.pop()
                        target = stack[-1]
                        if target is DICT0 and len(stack) >= 2 and type(stack[-2]) is Obj:
                            stack[-1] = target = DictVal()
                        if type(target) is DictVal:
                            target.set(k, v)
                        pos += 1
                    elif op == 0x6A:  # LONG_BINGET
                        idx = _U4(buf, pos + 1)[0]
                        v = memo[idx] if idx < len(memo) else memo_get(idx)
                        if ga and type(v) is Global:
                            v.refs += 1
                        stack.append(v)
                        pos += 5
                    elif op == 0x72:  # LONG_BINPUT
                        memo_put(_U4(buf, pos + 1)[0], stack[-1])
                        pos += 5
                    elif op == 0x58 or op == 0x42 or op == 0x54:  # BINUNICODE, BINBYTES, BINSTRING
                        n = _U4(buf, pos + 1)[0] if op != 0x54 else _I4(buf, pos + 1)[0]
                        if n < 0:
                            raise Corrupt("negative string length", r.offset(pos))
                        pos = self._string(op, pos, 5, n, stack)
                        buf = r.buf
                        lim = len(buf)
                    elif op == 0x43 or op == 0x55:  # SHORT_BINBYTES, SHORT_BINSTRING
                        pos = self._string(op, pos, 2, buf[pos + 1], stack)
                        buf = r.buf
                        lim = len(buf)
                    elif op == 0x8D or op == 0x8E or op == 0x96:  # BINUNICODE8, BINBYTES8, BYTEARRAY8
                        pos = self._string(op, pos, 9, _U8(buf, pos + 1)[0], stack)
                        buf = r.buf
                        lim = len(buf)
                    elif op == 0x95:  # FRAME: framing is transparent to the opcode stream
                        if pos + 9 > lim:
                            need = 9
                            raise Truncated
                        pos += 9
                    elif op == 0x81:  # NEWOBJ
                        args = stack.pop()
                        cls = stack[-1]
                        if type(cls) is Global:
                            if cls.dotted in _GETATTR:
                                imports.append(Import(cls.module, cls.name, r.offset(pos), "NEWOBJ"))
                            self.pos = pos
                            self._called(cls, args, r.offset(pos), "NEWOBJ", res)
                        stack[-1] = Obj(cls, args)
                        res.calls += 1
                        pos += 1
                    elif op == 0x52:  # REDUCE
                        args = stack.pop()
                        func = stack[-1]
                        res.calls += 1
                        if type(func) is Global and func.name == "getattr" and func.dotted in _GETATTR:
                            stack[-1] = _getattr_call(imports, func, args, r.offset(pos))
                        else:
                            stack[-1] = Obj(func, args)
                            if type(func) is Global:
                                self.pos = pos
                                self._called(func, args, r.offset(pos), "REDUCE", res)
                        pos += 1
                    elif op == 0x62:  # BUILD
                        state = stack.pop()
                        inst = stack[-1]
                        pos += 1
                        if type(inst) is Obj:
                            inst.state = state
                            f = inst.func
                            if type(f) is Global and f.name == "partial" and f.dotted in _PARTIALS:
                                # partial.__setstate__ replaces the callable: judge the one in the state.
                                _check_partial_state(res, state, r.offset(pos - 1))
                            if self.joblib and _is_array_wrapper(inst):
                                self.pos = pos
                                self.current = res
                                _joblib_payload(self, inst)
                                self.current = res
                                pos = self.pos
                                buf = r.buf
                                lim = len(buf)
                                stack[-1] = ARRAY
                    elif op == 0x93:  # STACK_GLOBAL
                        name = stack.pop()
                        module = stack[-1]
                        if type(module) is not bytes or type(name) is not bytes:
                            # The loader refuses non-str operands; we cannot resolve what it would
                            # import, so the import is recorded as unresolvable (it blocks).
                            g = Global("<unresolved>", f"{_describe(module)}.{_describe(name)}", r.offset(pos))
                        else:
                            g = Global(text(module, "module name"), text(name, "global name"), r.offset(pos))
                        deferred = g.dotted in _GETATTR
                        ga = ga or deferred
                        imports.append(Import(g.module, g.name, g.offset, "STACK_GLOBAL", deferred,
                                              g if deferred else None))
                        stack[-1] = g
                        pos += 1
                    elif op == 0x63:  # GLOBAL
                        got = self._line(buf, pos + 1)
                        if got is None:
                            need = lim - pos + 1
                            raise Truncated
                        mod, p2 = got
                        got = self._line(buf, p2)
                        if got is None:
                            need = lim - pos + 1
                            raise Truncated
                        nm, p3 = got
                        g = Global(text(mod, "module name"), text(nm, "global name"), r.offset(pos))
                        deferred = g.dotted in _GETATTR
                        ga = ga or deferred
                        imports.append(Import(g.module, g.name, g.offset, "GLOBAL", deferred, g if deferred else None))
                        stack.append(g)
                        pos = p3
                    elif op == 0x69:  # INST
                        got = self._line(buf, pos + 1)
                        if got is None:
                            need = lim - pos + 1
                            raise Truncated
                        mod, p2 = got
                        got = self._line(buf, p2)
                        if got is None:
                            need = lim - pos + 1
                            raise Truncated
                        nm, p3 = got
                        g = Global(text(mod, "module name"), text(nm, "global name"), r.offset(pos))
                        imports.append(Import(g.module, g.name, g.offset, "INST"))
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        args = tuple(items)
                        self.pos = pos
                        self._called(g, args, r.offset(pos), "INST", res)
                        stack.append(Obj(g, args))
                        res.calls += 1
                        pos = p3
                    elif op == 0x6F:  # OBJ
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        if not items:
                            raise Corrupt("OBJ without a class", r.offset(pos))
                        if type(items[0]) is Global and items[0].dotted in _GETATTR:  # OBJ calls non-classes
                            stack.append(_getattr_call(imports, items[0], tuple(items[1:]), r.offset(pos)))
                        else:
                            if type(items[0]) is Global:
                                self.pos = pos
                                self._called(items[0], tuple(items[1:]), r.offset(pos), "OBJ", res)
                            stack.append(Obj(items[0], tuple(items[1:])))
                        res.calls += 1
                        pos += 1
                    elif op == 0x92:  # NEWOBJ_EX
                        kwargs = stack.pop()
                        args = stack.pop()
                        cls = stack[-1]
                        if type(cls) is Global:
                            if cls.dotted in _GETATTR:
                                imports.append(Import(cls.module, cls.name, r.offset(pos), "NEWOBJ_EX"))
                            self.pos = pos
                            self._called(cls, args, r.offset(pos), "NEWOBJ_EX", res)
                        stack[-1] = Obj(cls, (args, kwargs))
                        res.calls += 1
                        pos += 1
                    elif op == 0x74:  # TUPLE
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        stack.append(tuple(items))
                        pos += 1
                    elif op == 0x6C:  # LIST
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        stack.append(ListVal(items) if not stack else LIST0)
                        pos += 1
                    elif op == 0x64:  # DICT
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        if stack and type(stack[-1]) is Obj:
                            d = DictVal()
                            for i in range(0, len(items) - 1, 2):
                                d.set(items[i], items[i + 1])
                            stack.append(d)
                        else:
                            stack.append(DICT0)
                        pos += 1
                    elif op == 0x90:  # ADDITEMS
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        stack = metastack.pop()
                        stack[-1]  # underflow check: ADDITEMS needs a target
                        pos += 1
                    elif op == 0x91:  # FROZENSET
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        stack.append(SET)
                        pos += 1
                    elif op == 0x30:  # POP
                        if stack:
                            stack.pop()
                        else:
                            if not metastack:
                                raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                            items = stack
                            stack = metastack.pop()
                        pos += 1
                    elif op == 0x31:  # POP_MARK
                        if not metastack:
                            raise Corrupt("opcode needs a MARK but none is open", r.offset(pos))
                        items = stack
                        stack = metastack.pop()
                        pos += 1
                    elif op == 0x32:  # DUP
                        v = stack[-1]
                        if type(v) is Global:
                            v.refs += 1
                        stack.append(v)
                        pos += 1
                    elif op == 0x8A:  # LONG1
                        n = buf[pos + 1]
                        end = pos + 2 + n
                        if end > lim:
                            need = end - pos
                            raise Truncated
                        stack.append(int.from_bytes(buf[pos + 2 : end], "little", signed=True))
                        pos = end
                    elif op == 0x8B:  # LONG4
                        n = _I4(buf, pos + 1)[0]
                        if n < 0:
                            raise Corrupt("negative LONG4 length", r.offset(pos))
                        end = pos + 5 + n
                        if end > lim:
                            need = end - pos
                            raise Truncated
                        # Huge integers are not needed for inspection; avoid quadratic conversions.
                        stack.append(int.from_bytes(buf[pos + 5 : end], "little", signed=True) if n <= 64 else ANY)
                        pos = end
                    elif op == 0x80:  # PROTO
                        res.protocol = buf[pos + 1]
                        if res.protocol > 5:
                            raise Corrupt(f"unsupported pickle protocol {res.protocol}", r.offset(pos))
                        pos += 2
                    elif op == 0x51:  # BINPERSID
                        pid = stack[-1]
                        res.persistent_ids.append(pid)
                        stack[-1] = Obj(Global("<persistent_load>", "", r.offset(pos)), pid)
                        pos += 1
                    elif op == 0x82 or op == 0x83 or op == 0x84:  # EXT1, EXT2, EXT4
                        width = 1 if op == 0x82 else 2 if op == 0x83 else 4
                        if width == 1:
                            code = buf[pos + 1]
                        else:
                            code = _U2(buf, pos + 1)[0] if width == 2 else _I4(buf, pos + 1)[0]
                        g = Global("<extension registry>", str(code), r.offset(pos))
                        imports.append(Import(g.module, g.name, g.offset, f"EXT{width}"))
                        stack.append(g)
                        pos += 1 + width
                    elif op == 0x97:  # NEXT_BUFFER
                        stack.append(BUFFER)
                        pos += 1
                    elif op == 0x98:  # READONLY_BUFFER
                        stack[-1]
                        pos += 1
                    elif op == 0x2E:  # STOP
                        value = stack.pop()
                        pos += 1
                        return value
                    elif op in _LINE_OPS:
                        got = self._line(buf, pos + 1)
                        if got is None:
                            need = lim - pos + 1
                            raise Truncated
                        line, p2 = got
                        self._text_op(op, line, stack, memo_put, memo_get, res, r.offset(pos))
                        pos = p2
                    else:
                        raise Corrupt(f"unknown opcode 0x{op:02x}", r.offset(pos))
            except _LongLine:
                # A protocol-0 operand longer than LINE_CAP: CPython has no such bound, so it is consumed
                # (never rejected) and stands for an opaque value. GLOBAL/INST names that long cannot be
                # imported; the stream is then not analysable and blocks.
                op = buf[pos]
                if op not in _LINE_OPS or op in b"gp":
                    raise LimitExceeded(f"operand of opcode {chr(op)!r} longer than {LINE_CAP} bytes",
                                        r.offset(pos)) from None
                at = r.offset(pos)
                first, last, pos = self._skip_line(pos + 1)
                buf = r.buf
                lim = len(buf)
                _long_operand(op, first, last, stack, res, at)
            except (IndexError, struct.error, Truncated) as exc:
                # An operand ran past the window (or an empty stack was popped). Refill and retry
                # the same opcode: no opcode changes state before all its operands are read.
                if isinstance(exc, IndexError) and pos < lim and not _is_read_error(buf, pos, lim):
                    raise Corrupt("stack underflow", r.offset(pos)) from None
                if r.eof:
                    raise Truncated(r.offset(min(pos, lim))) from None
                if len(stack) + sum(map(len, metastack)) > MAX_STACK:
                    # Checked at each window refill (every 1 MiB) rather than on every push.
                    raise LimitExceeded(f"more than {MAX_STACK} values on the unpickler stack", r.offset(pos)) from None
                want = max(need, 16)
                need = 0
                pos = r.fill(pos, want, partial=True)
                buf = r.buf
                lim = len(buf)
                if pos >= lim:
                    raise Truncated(r.offset(pos)) from None
            finally:
                self.pos = pos

    def _called(self, func: Global, args: Any, offset: int, opcode: str, res: StreamResult) -> None:
        """Every call opcode (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST) with an imported callable ends here."""
        if func.name == "partial" and func.dotted in _PARTIALS and args is not FLOAT:
            _check_partial_callable(res, args[0] if type(args) is tuple and args else args, offset,
                                    f"{opcode} of functools.partial")
        if self.on_reduce is not None:
            self.on_reduce(self, func, args, offset)

    def _string(self, op: int, pos: int, hdr: int, n: int, stack: list[Any]) -> int:
        """Push a string operand of ``n`` bytes after a ``hdr``-byte header; return the new index."""
        r = self.r
        start = r.offset(pos + hdr)
        if op in (0x42, 0x43, 0x8E, 0x96):  # bytes: kept for nested-pickle scans, else skipped
            if n > INLINE_BYTES_CAP:
                pos = r.fill(pos, hdr)
                pos = r.skip(pos + hdr, n)
                stack.append(Blob(None, start, n))
                return pos
            pos = r.fill(pos, hdr + n)
            stack.append(Blob(r.buf[pos + hdr : pos + hdr + n], start, n))
            return pos + hdr + n
        if n > LINE_CAP:  # text this long is no module or attribute name; only its extent matters
            pos = r.fill(pos, hdr)
            pos = r.skip(pos + hdr, n)
            stack.append(ANY)
            return pos
        pos = r.fill(pos, hdr + n)
        raw = r.buf[pos + hdr : pos + hdr + n]
        if op in (0x54, 0x55):  # BINSTRING/SHORT_BINSTRING decode as ASCII by default
            stack.append(raw if raw.isascii() else ANY)
        else:
            stack.append(raw)
        return pos + hdr + n

    def _text_op(
        self,
        op: int,
        line: bytes,
        stack: list[Any],
        memo_put: Callable[[int, Any], None],
        memo_get: Callable[[int], Any],
        res: StreamResult,
        offset: int,
    ) -> None:
        """Protocol-0 opcodes whose operand is a newline-terminated line."""
        # The grammar is CPython's (_pickle.c load_int/load_long/load_float/load_get/load_put): operands
        # are C strings (they end at a NUL byte), INT and LONG parse with base 0 (0x1, 0o7, 1_000, and
        # strtol's octal 010), so that no stream the loader accepts is rejected here.
        try:
            if op == 0x49:  # INT
                stack.append(parse_int_operand(line))
            elif op == 0x4C:  # LONG: one trailing 'L' is dropped, the rest is PyLong_FromString(s, NULL, 0)
                if not line:
                    raise ValueError("bad readline")
                stack.append(_pylong(_cstr(line[:-1] if line[-1:] == b"L" else line), 0))
            elif op == 0x46:  # FLOAT: PyOS_string_to_double up to the newline or a NUL
                float(_cstr(line))
                stack.append(FLOAT)
            elif op == 0x53:  # STRING: a Python 2 repr, quotes required
                if len(line) < 2 or line[:1] not in b"'\"" or line[-1:] != line[:1]:
                    raise Corrupt("STRING operand is not quoted", offset)
                value = codecs.escape_decode(line[1:-1])[0]
                stack.append(value if value.isascii() else ANY)
            elif op == 0x56:  # UNICODE (raw-unicode-escape)
                stack.append(line.decode("raw-unicode-escape").encode("utf-8", "surrogatepass"))
            elif op == 0x67:  # GET
                idx = _pylong(_cstr(line), 10)
                if type(idx) is not int or idx < 0:
                    raise Corrupt("GET key is not a memo index", offset)
                v = memo_get(idx)
                if type(v) is Global:
                    v.refs += 1
                stack.append(v)
            elif op == 0x70:  # PUT
                idx = _pylong(_cstr(line), 10)
                if type(idx) is not int:
                    raise LimitExceeded("PUT key too long to evaluate", offset)
                if idx < 0:
                    raise Corrupt("negative memo index", offset)
                memo_put(idx, stack[-1])
            elif op == 0x50:  # PERSID
                res.persistent_ids.append(line)
                stack.append(Obj(Global("<persistent_load>", "", offset), line))
        except (ValueError, UnicodeDecodeError):
            raise Corrupt(f"malformed operand of opcode {chr(op)!r}", offset) from None


_LINE_OPS = frozenset(b"ILFSVgpP")


class _LongLine(Exception):
    """A protocol-0 operand longer than LINE_CAP (handled by consuming it, see Walker._skip_line)."""


def _cstr(line: bytes) -> bytes:
    """The operand as C code sees it: up to the first NUL byte."""
    nul = line.find(b"\0")
    return line if nul < 0 else line[:nul]


_C_SPACE = b" \t\n\v\f\r"
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


def _strtol0(s: bytes) -> tuple[int, int, bool]:
    """C ``strtol(s, &end, 0)`` on a 64-bit long: (value, index of end, overflowed)."""
    i = 0
    n = len(s)
    while i < n and s[i] in _C_SPACE:
        i += 1
    neg = False
    if i < n and s[i] in b"+-":
        neg = s[i] == 0x2D
        i += 1
    base = 10
    if s[i : i + 1] == b"0":
        if s[i + 1 : i + 2] in (b"x", b"X") and s[i + 2 : i + 3] and s[i + 2 : i + 3] in b"0123456789abcdefABCDEF":
            base = 16
            i += 2
        else:
            base = 8
    digits = b"0123456789abcdefABCDEF"[: 10 if base == 10 else 8 if base == 8 else 22]
    j = i
    while j < n and s[j] in digits:
        j += 1
    if j == i:
        return 0, 0, False  # no conversion: end is the start of the string
    value = int(s[i:j], base)
    value = -value if neg else value
    if not _LONG_MIN <= value <= _LONG_MAX:
        return value, j, True
    return value, j, False


def _pylong(s: bytes, base: int) -> int | _Any:
    """``PyLong_FromString(s, NULL, base)``. Digit strings past the interpreter's int_max_str_digits limit
    (the loader's limit may be off) stand for an opaque value instead of an error."""
    try:
        return int(s, base)
    except ValueError as exc:
        if "limit" in str(exc) and re.fullmatch(rb"\s*[+-]?[0-9_]+\s*", s):
            return ANY
        raise


def parse_int_operand(line: bytes) -> int | bool | _Any:
    """The value CPython's ``load_int`` pushes for an INT operand (``line`` without its newline).

    Raises ValueError where ``load_int`` fails.
    """
    if not line:
        raise ValueError("bad readline")
    s = _cstr(line)
    value, end, overflow = _strtol0(s)
    if overflow or end != len(s):
        # "Hm, maybe we've got something long": PyLong_FromString(s, NULL, 0) on the same C string.
        return _pylong(s + (b"\n" if len(s) == len(line) else b""), 0)
    if len(line) == 2 and value in (0, 1):
        return bool(value)
    return value


def _long_operand(op: int, first: bytes, last: bytes, stack: list[Any], res: StreamResult, offset: int) -> None:
    """Push the stand-in for a protocol-0 operand longer than LINE_CAP (its value is never needed)."""
    if op == 0x53:  # STRING: still must be quoted to load
        if not first or first[:1] not in b"'\"" or last != first[:1]:
            raise Corrupt("STRING operand is not quoted", offset)
        stack.append(ANY)
    elif op == 0x46:
        stack.append(FLOAT)
    elif op == 0x50:  # PERSID
        res.persistent_ids.append(first)
        stack.append(Obj(Global("<persistent_load>", "", offset), first))
    else:  # INT, LONG, UNICODE
        stack.append(ANY)


# Reconstructors that load a nested pickle from their byte-string argument: the bytes are scanned too.
NESTED_LOADERS = frozenset(
    {
        "torch.storage._load_from_bytes",
        "pickle.loads",
        "_pickle.loads",
        "pickle._loads",
        "cPickle.loads",
        "dill.loads",
        "dill._dill.loads",
        "cloudpickle.loads",
        "numpy.loads",
        "numpy.core.numeric.loads",
        "joblib.load",
        "torch.load",
    }
)
# Composition helpers that call a callable they are given. Of these only functools.partial is allowed as an
# import (the others are denylisted), so the callable it wraps is judged at the call site.
_PARTIALS = frozenset({"functools.partial", "_functools.partial"})
_UFUNC_RECONSTRUCT_NAMES = frozenset({"_ufunc_reconstruct"})


def _callable_ok(v: Any) -> bool:
    """True when ``v`` is a callable whose origin is judged elsewhere: an import, or a call's result.

    A nested-pickle loader is not: called through a partial, its byte-string argument never reaches
    the call opcode where it is scanned.
    """
    if type(v) is Global:
        return not v.module.startswith("<") and v.dotted not in _GETATTR and v.dotted not in NESTED_LOADERS
    if type(v) is Obj:
        f = v.func
        return type(f) is Global and not f.module.startswith("<") and f.dotted not in _GETATTR
    return False


def _check_partial_callable(res: StreamResult, v: Any, offset: int, how: str) -> None:
    if not _callable_ok(v):
        res.hazards.append((offset, how, f"functools.partial wraps {_describe(v)}, a callable that is "
                            "unresolved, reached through getattr or a nested-pickle loader (whose argument then "
                            "escapes the scan); calling it may run anything"))


def _check_partial_state(res: StreamResult, state: Any, offset: int) -> None:
    if type(state) is tuple:
        if state:
            _check_partial_callable(res, state[0], offset, "BUILD of functools.partial")
    elif type(state) is Obj or type(state) is Global:
        res.hazards.append((offset, "BUILD of functools.partial",
                            "functools.partial gets a computed state; its callable cannot be judged"))
_GETATTR = frozenset({"builtins.getattr", "__builtin__.getattr"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z").match


def _getattr_call(imports: list[Import], func: Global, args: Any, offset: int) -> Any:
    """``getattr(cls, "name")`` as pickle writes it for methods of classes (``ZoneInfo._unpickle``).

    When the object is a resolved global and the name a plain (non-dunder) identifier, the call is
    the dotted global ``module.cls.name``: it is recorded as that import, judged like any other, and
    the result is that global (so a later REDUCE on it resolves too). Any other use of ``getattr`` -
    on a computed object, with a computed or special name - is recorded as the denylisted
    ``builtins.getattr`` itself.
    """
    if type(args) is tuple and len(args) == 2 and type(args[0]) is Global and type(args[1]) is bytes:
        attr = args[1].decode("utf-8", "replace")
        if _IDENTIFIER(attr) and not (attr.startswith("__") and attr.endswith("__")):
            target = args[0]
            func.uses += 1
            g = Global(target.module, f"{target.name}.{attr}", offset)
            imports.append(Import(g.module, g.name, offset, "getattr"))
            return g
    imports.append(Import("builtins", "getattr", offset, "REDUCE (getattr on a computed object or name)"))
    return Obj(Global("builtins", "getattr", offset), args)
# Opcodes that push a constant (or a shared container stand-in) and have no operand.
_CONSTS: dict[int, Any] = {0x4E: None, 0x88: True, 0x89: False, 0x29: (), 0x5D: LIST0, 0x7D: DICT0, 0x8F: SET}
# One or more BININT1/BININT2/BININT/BINFLOAT/NONE/NEWTRUE/NEWFALSE opcodes followed by APPENDS.
# Alternatives start with distinct opcode bytes, so the match is unambiguous and linear.
_NUMBER_OPS = frozenset(b"KMJGN\x88\x89")
_NUMBER_APPENDS = re.compile(rb"(?:K.|M..|J....|G.{8}|[N\x88\x89])+e", re.DOTALL).match


def _is_read_error(buf: bytes, pos: int, lim: int) -> bool:
    """True when the opcode at ``pos`` has fixed-width operands that run past ``lim``."""
    width = _FIXED_WIDTH.get(buf[pos], 0)
    return pos + 1 + width > lim


_FIXED_WIDTH = {
    0x4B: 1, 0x71: 1, 0x68: 1, 0x8C: 1, 0x4A: 4, 0x4D: 2, 0x6A: 4, 0x72: 4, 0x58: 4, 0x42: 4, 0x54: 4,
    0x43: 1, 0x55: 1, 0x8D: 8, 0x8E: 8, 0x96: 8, 0x8A: 1, 0x8B: 4, 0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4,
    0x47: 8, 0x95: 8,
}


def _describe(v: Any) -> str:
    if type(v) is bytes:
        return v.decode("utf-8", "replace")
    if type(v) is Global:
        return f"<result of {v.dotted}>"
    if type(v) is Obj and type(v.func) is Global:
        return f"<result of {v.func.dotted}(...)>"
    return f"<{type(v).__name__}>"


def as_text(v: Any) -> str | None:
    """The str a text operand stands for, or None."""
    if type(v) is bytes:
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


# ---------------------------------------------------------------------------
# joblib: raw numpy buffers between pickle opcodes

def dtype_info(value: Any) -> tuple[int, bool]:
    """(itemsize, hasobject) of a pickled ``numpy.dtype`` as numpy computes them when it loads it.

    The unpickler calls ``numpy.dtype(spec, align, copy)`` and then ``__setstate__(state)``. numpy's
    rules, checked against numpy itself in the tests: without ``copy`` a built-in kind is numpy's
    shared dtype and the state changes nothing; otherwise the state's element size counts only for
    flexible kinds (``S``, ``U``, ``V``, structured) - the pickled size of a built-in kind is ignored -
    and ``hasobject`` is the state's flags bit 1 for every kind. The type strings numpy writes are
    parsed here; any other string is parsed by ``numpy.dtype`` (a string, never an object from the
    file; numpy's ``__setstate__`` is never called, it crashes on some crafted states). Raises
    :class:`Corrupt` when the dtype cannot be sized: the following raw buffer's length is then unknown.
    """
    if type(value) is not Obj or type(value.func) is not Global or value.func.dotted not in _DTYPE_CTORS:
        raise Corrupt("joblib array wrapper without a numpy dtype: cannot size its payload")
    args = value.args
    spec = as_text(args[0]) if type(args) is tuple and args else None
    if spec is None:
        raise Corrupt("numpy dtype without a type string")
    flags_args = args[1:3] if type(args) is tuple else ()
    if not all(type(a) is bool or type(a) is int for a in flags_args):
        raise Corrupt("numpy dtype with non-boolean align/copy arguments")
    align = bool(flags_args[0]) if flags_args else False
    copy = bool(flags_args[1]) if len(flags_args) > 1 else False
    kind, size, hasobject, structured = _parse_dtype(spec, align, copy)
    state = value.state
    if state is None:
        return size, hasobject
    if not (type(state) is tuple and len(state) in (8, 9) and state[0] in (3, 4)
            and type(state[5]) is int and type(state[7]) is int):
        raise Corrupt(f"numpy dtype {spec!r} with a state the walker cannot size")
    flexible = structured or kind in "SUV"
    if not copy and (not flexible or (size == 0 and not structured)):
        return size, hasobject  # numpy's shared built-in dtype (unsized S/U/V too): __setstate__ leaves it as it is
    if flexible:
        if state[5] < 0:
            # numpy takes it (itemsize becomes negative); no loader can size the buffer from that.
            raise Corrupt(f"numpy dtype {spec!r} with a negative element size")
        size = state[5]
    return size, bool(state[7] & 1)


def _parse_dtype(spec: str, align: bool, copy: bool) -> tuple[str, int, bool, bool]:
    """(kind, itemsize, hasobject, structured) of ``numpy.dtype(spec, align, copy)``."""
    m = _CANONICAL(spec)
    if m is not None:
        kind, digits = m.group(1), m.group(2)
        size = int(digits) if digits else 0
        if kind in _FIXED_SIZES and size in _FIXED_SIZES[kind]:
            return kind, size, kind == "O", False
        if kind in "SV" and digits:
            return kind, size, False, False
        if kind == "U" and digits:
            return kind, 4 * size, False, False
    import warnings

    import numpy

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = numpy.dtype(spec, align, copy)
    except (TypeError, ValueError, OverflowError, KeyError, IndexError, MemoryError, SyntaxError) as exc:
        raise Corrupt(f"numpy refuses dtype {spec!r}: {exc}") from None
    return d.kind, int(d.itemsize), bool(d.hasobject), d.fields is not None


_CANONICAL = re.compile(r"[<>|=]?([biufcMmOSUV])(\d*)\Z").match
# Kinds whose size the type string fixes (numpy ignores the pickled elsize), with the sizes it accepts.
_FIXED_SIZES = {
    "b": {1}, "i": {1, 2, 4, 8}, "u": {1, 2, 4, 8}, "f": {2, 4, 8}, "c": {8, 16}, "M": {8}, "m": {8}, "O": {8},
}


_DTYPE_CTORS = frozenset({"numpy.dtype", "numpy.core.multiarray.dtype", "numpy._core.multiarray.dtype"})


_WRAPPERS = frozenset({"joblib.numpy_pickle.NumpyArrayWrapper"})
_RECONSTRUCTORS = frozenset({"copyreg._reconstructor", "copy_reg._reconstructor"})


def _is_array_wrapper(inst: Obj) -> bool:
    """True when ``inst`` is an instance joblib's unpickler treats as an array wrapper.

    The class may be called directly (NEWOBJ, REDUCE, OBJ, INST) or through
    ``copyreg._reconstructor`` (protocols 0 and 1).
    """
    func = inst.func
    if type(func) is not Global:
        return False
    if func.name == "NumpyArrayWrapper":
        return func.dotted in _WRAPPERS
    if func.dotted in _RECONSTRUCTORS and type(inst.args) is tuple and inst.args:
        cls = inst.args[0]
        return type(cls) is Global and cls.dotted in _WRAPPERS
    return False


SHADOW_BYTES = 4096
MAX_NESTED_STREAMS = 32


def _joblib_payload(w: Walker, wrapper: Obj) -> None:
    """Skip (or, for object arrays, walk) the array data joblib wrote after a ``NumpyArrayWrapper``.

    ``joblib.load`` reads these bytes as array data, but ``pickle.load`` on
    the same file would read them as opcodes. So the first bytes are also
    walked as a pickle (a "shadow" walk, errors ignored): an import hidden
    where joblib expects array data is still reported.
    """
    state = wrapper.state
    if type(state) is not DictVal:
        raise Corrupt("joblib array wrapper state is not a dict", w.offset())
    items = {as_text(k): v for k, v in state.items.items() if type(k) is bytes}
    shape = items.get("shape")
    if type(shape) is not tuple or not all(type(d) is int and d >= 0 for d in shape):
        raise Corrupt("joblib array wrapper has no valid shape", w.offset())
    itemsize, has_object = dtype_info(items.get("dtype"))
    if has_object:
        # Object arrays are a complete nested pickle stream, loaded with the same find_class.
        # Crafted files can nest wrappers inside those streams; bound the recursion.
        if w.depth >= MAX_NESTED_STREAMS:
            raise LimitExceeded(f"joblib object arrays nested more than {MAX_NESTED_STREAMS} deep", w.offset())
        w.depth += 1
        try:
            w.walk()
        finally:
            w.depth -= 1
        return
    count = 1
    for d in shape:
        count *= d
    start = w.offset()
    head = w.peek(SHADOW_BYTES)
    align = items.get("numpy_array_alignment_bytes")
    total = (1 + head[0] if align is not None and head else 0) + count * itemsize
    if _shadow_walk(w, start, head) and total > len(head):
        # The bytes kept reading as valid opcodes to the end of the head: a benign array almost
        # never does that (its first invalid byte comes within a few bytes). Walk all of it.
        if _shadow_walk(w, start, w.peek(min(total, INLINE_BYTES_CAP))) and total > INLINE_BYTES_CAP:
            raise LimitExceeded("joblib array data reads as a long pickle opcode sequence; too large to check",
                                start)
    if align is not None:
        pad = w.take(1)[0]
        if pad:
            w.skip(pad)
    w.skip(count * itemsize)


def _shadow_walk(w: Walker, offset: int, head: bytes) -> bool:
    """Walk ``head`` as ``pickle.load`` would; record importable names. True if it ran out of bytes still valid."""
    if not head or head[0] not in _OPCODE_BYTES:
        return False  # pickle.load fails on the first byte: nothing there can run
    shadow = Walker(Reader.from_bytes(head), joblib=False)
    inconclusive = False
    try:
        shadow.walk()
    except Truncated:
        inconclusive = True
    except (Corrupt, LimitExceeded):
        pass
    current = w.current
    if current is None:
        return inconclusive
    for s in shadow.streams:
        for imp in s.imports:
            if not (_DOTTED_NAME(imp.module) and _DOTTED_NAME(imp.name)):
                continue  # array bytes that only resemble an import: no loader can import that name
            how = imp.opcode + " (in joblib array data, as pickle.load reads it)"
            current.imports.append(Import(imp.module, imp.name, offset + imp.offset, how))
    return inconclusive


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z").match
_OPCODE_BYTES = frozenset(b"(.0125FIJKLMNPQRSTUVXabcdeghijloprstu}])G" + bytes(range(0x80, 0x99)) + b"BC")


def literal(text: str) -> Any:
    """``ast.literal_eval`` for small headers (numpy .npy), never code."""
    return ast.literal_eval(text)
