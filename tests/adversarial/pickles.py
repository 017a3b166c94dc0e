"""Grammar-aware pickle building blocks: an expression encoder for every protocol, and op streams.

An *expression* is a small tuple tree, encoded to opcodes with randomly chosen but valid
spellings for the target protocol (GLOBAL or STACK_GLOBAL, REDUCE, OBJ or INST, every string
and integer opcode the protocol has, memo PUTs, one FRAME or none). Nothing here imports or
calls the globals an expression names: the bytes are only ever loaded inside the sandbox.

    ("g", module, name)      a global            ("call", f, [args])   f(*args)
    ("s", text)  ("i", n)  ("b", data)  ("t", [..])  ("l", [..])  ("d", [(k, v)..])  ("none",)
"""

from __future__ import annotations

import functools
import pickle
import pickletools
import random
import struct
import warnings
from dataclasses import dataclass

Expr = tuple


@dataclass(frozen=True)
class Op:
    """One opcode with its operand, as bytes, and what pickletools read from it."""

    name: str
    raw: bytes
    arg: object = None


def parse(stream: bytes) -> list[Op]:
    """The ops of the first pickle in ``stream`` (FRAMEs dropped: mutations invalidate their lengths).

    Raises ValueError when pickletools cannot read the stream to its STOP.
    """
    return list(_parse(stream))


@functools.lru_cache(maxsize=4096)
def _parse(stream: bytes) -> tuple[Op, ...]:
    ops: list[Op] = []
    with warnings.catch_warnings():  # a mutated STRING operand may hold an invalid escape: still an operand
        warnings.simplefilter("ignore", DeprecationWarning)
        items = list(pickletools.genops(stream))
    for n, (opcode, arg, pos) in enumerate(items):
        end = items[n + 1][2] if n + 1 < len(items) else pos + 1
        if opcode.name != "FRAME":
            ops.append(Op(opcode.name, stream[pos:end], arg))
    return tuple(ops)


def join(ops: list[Op]) -> bytes:
    return b"".join(op.raw for op in ops)


class Encoder:
    """Encodes expressions for one protocol with the spellings ``rng`` picks."""

    def __init__(self, rng: random.Random, protocol: int, *, memo: bool = True) -> None:
        self.rng = rng
        self.p = protocol
        self.memo = memo
        self.memo_n = rng.randrange(0, 4)

    def stream(self, expr: Expr, *, frame: bool | None = None) -> bytes:
        body = self.encode(expr) + b"."
        head = b"\x80" + bytes([self.p]) if self.p >= 2 else b""
        if self.p >= 4 and (frame if frame is not None else self.rng.random() < 0.5):
            return head + b"\x95" + struct.pack("<Q", len(body)) + body
        return head + body

    def fragment(self, expr: Expr) -> bytes:
        """Ops that push ``expr`` and pop it again: stack-neutral, injectable between two ops."""
        return self.encode(expr) + b"0"

    def encode(self, e: Expr) -> bytes:
        kind = e[0]
        out = getattr(self, "_" + kind)(*e[1:])
        if self.memo and kind in ("g", "call", "s") and self.rng.random() < 0.2:
            out += self._put()
        return out

    def _put(self) -> bytes:
        self.memo_n += 1
        if self.p >= 4 and self.rng.random() < 0.7:
            return b"\x94"
        if self.p >= 1 and self.rng.random() < 0.7:
            return b"q" + bytes([self.memo_n % 256])
        return b"p%d\n" % self.memo_n

    def _none(self) -> bytes:
        return b"N"

    def _i(self, n: int) -> bytes:
        choices = ["INT", "LONG"]
        if self.p >= 1:
            if 0 <= n < 256:
                choices.append("BININT1")
            if 0 <= n < 65536:
                choices.append("BININT2")
            if -(2**31) <= n < 2**31:
                choices.append("BININT")
        if self.p >= 2:
            choices.append("LONG1")
        pick = self.rng.choice(choices)
        if pick == "INT":
            return b"I%d\n" % n
        if pick == "LONG":
            return b"L%dL\n" % n
        if pick == "BININT1":
            return b"K" + bytes([n])
        if pick == "BININT2":
            return b"M" + struct.pack("<H", n)
        if pick == "BININT":
            return b"J" + struct.pack("<i", n)
        data = pickle.encode_long(n)
        return b"\x8a" + bytes([len(data)]) + data

    def _s(self, text: str) -> bytes:
        data = text.encode()
        choices = ["UNICODE"]
        if text.isascii() and "'" not in text and "\\" not in text and "\n" not in text:
            choices.append("STRING")
        if self.p >= 1:
            choices.append("BINUNICODE")
            if text.isascii() and len(data) < 256:
                choices.append("SHORT_BINSTRING")
        if self.p >= 4:
            choices += ["SHORT_BINUNICODE"] * 3 if len(data) < 256 else ["BINUNICODE8"]
        pick = self.rng.choice(choices)
        if pick == "UNICODE":
            escaped = text.replace("\\", "\\u005c").replace("\n", "\\u000a").replace("\r", "\\u000d")
            return b"V" + escaped.replace("\x1a", "\\u001a").encode("raw-unicode-escape") + b"\n"
        if pick == "STRING":
            return b"S'" + data + b"'\n"
        if pick == "BINUNICODE":
            return b"X" + struct.pack("<I", len(data)) + data
        if pick == "SHORT_BINSTRING":
            return b"U" + bytes([len(data)]) + data
        if pick == "SHORT_BINUNICODE":
            return b"\x8c" + bytes([len(data)]) + data
        return b"\x8d" + struct.pack("<Q", len(data)) + data

    def _b(self, data: bytes) -> bytes:
        if self.p < 3:  # how Python 3 pickles bytes for protocols 0-2
            return self._call(("g", "_codecs", "encode"), [("s", data.decode("latin-1")), ("s", "latin1")])
        if len(data) < 256 and self.rng.random() < 0.5:
            return b"C" + bytes([len(data)]) + data
        if self.rng.random() < 0.8:
            return b"B" + struct.pack("<I", len(data)) + data
        return b"\x8e" + struct.pack("<Q", len(data)) + data

    def _t(self, items: list[Expr]) -> bytes:
        inner = b"".join(self.encode(x) for x in items)
        if self.p >= 2 and len(items) <= 3 and self.rng.random() < 0.7:
            return inner + (b")", b"\x85", b"\x86", b"\x87")[len(items)]
        if self.p >= 1 and not items and self.rng.random() < 0.5:
            return b")"
        return b"(" + inner + b"t"

    def _l(self, items: list[Expr]) -> bytes:
        inner = b"".join(self.encode(x) for x in items)
        if self.p >= 1 and self.rng.random() < 0.6:
            return b"](" + inner + b"e"
        return b"(" + inner + b"l"

    def _d(self, pairs: list[tuple[Expr, Expr]]) -> bytes:
        inner = b"".join(self.encode(k) + self.encode(v) for k, v in pairs)
        if self.p >= 1 and self.rng.random() < 0.6:
            return b"}(" + inner + b"u"
        return b"(" + inner + b"d"

    def _g(self, module: str, name: str) -> bytes:
        if self.p >= 4 and self.rng.random() < 0.75:
            saved, self.memo = self.memo, False
            out = self._s(module) + self._s(name) + b"\x93"
            self.memo = saved
            return out
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    def _call(self, f: Expr, args: list[Expr]) -> bytes:
        styles = ["REDUCE"]
        if self.p >= 1:
            styles.append("OBJ")
        if f[0] == "g":
            styles.append("INST")
        style = self.rng.choice(styles)
        if style == "REDUCE" and self.p >= 1 and self.rng.random() < 0.25:
            # The callable parked in the memo and fetched back: scanners that track the stack must track the memo.
            self.memo_n += 1
            slot = 200 + self.memo_n % 50
            return self.encode(f) + b"q" + bytes([slot]) + b"0h" + bytes([slot]) + self._t(list(args)) + b"R"
        if style == "REDUCE":
            return self.encode(f) + self._t(list(args)) + b"R"
        if style == "OBJ":
            return b"(" + self.encode(f) + b"".join(self.encode(a) for a in args) + b"o"
        return b"(" + b"".join(self.encode(a) for a in args) + b"i" + f[1].encode() + b"\n" + f[2].encode() + b"\n"


# -- operand mutations that stay inside (or probe the edge of) the grammar ------------------------

# Integer spellings CPython's protocol-0 INT/LONG parser accepts (it parses with base 0).
INT_SPELLINGS = (b"0x%x", b"0o%o", b"0b{:b}", b"+%d", b" %d", b"%d ", b"0%d", b"%dL", b"%d_0")


def respell_int(op: Op, rng: random.Random) -> Op | None:
    """A different text spelling of a protocol-0 INT or LONG operand."""
    if op.name not in ("INT", "LONG") or not isinstance(op.arg, int) or isinstance(op.arg, bool):
        return None
    n = abs(op.arg)
    pattern = rng.choice(INT_SPELLINGS)
    text = pattern.decode().format(n).encode() if b"{" in pattern else pattern % n
    if op.arg < 0:
        text = b"-" + text
    return Op(op.name, op.raw[:1] + text + (b"L" if op.name == "LONG" and not text.endswith(b"L") else b"") + b"\n")


def mutate_int(op: Op, rng: random.Random) -> Op | None:
    """Another value for an integer operand, in the same opcode."""
    value = rng.choice([0, 1, -1, 2, 7, 8, 16, 64, 255, 256, 65535, 1 << 20, 2**31 - 1, -(2**31)])
    if op.name == "BININT1":
        return Op(op.name, b"K" + bytes([value & 0xFF]), value & 0xFF)
    if op.name == "BININT2":
        return Op(op.name, b"M" + struct.pack("<H", value & 0xFFFF), value & 0xFFFF)
    if op.name == "BININT":
        return Op(op.name, b"J" + struct.pack("<i", max(-(2**31), min(2**31 - 1, value))), value)
    if op.name == "INT":
        return Op(op.name, b"I%d\n" % value, value)
    if op.name == "LONG1":
        data = pickle.encode_long(value)
        return Op(op.name, b"\x8a" + bytes([len(data)]) + data, value)
    return None
