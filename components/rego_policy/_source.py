"""What a Rego module says about itself, read from its tokens: package, rule names, what it reads.

The gate needs three facts before it evaluates anything, and regopy gives none
of them: the package each file declares, the rules it defines (``deny``,
``warn``, ``test_*``), and the documents it reads — ``input.metrics.<name>``,
``input.gates.<gate>`` and ``data.<key>``. A comparison with a value that is
not there is *undefined* in Rego, and an undefined ``deny`` body is no denial:
``input.metrics.accuracy < 0.9`` passes a run that logged no accuracy. So every
name read here must be present before the verdict counts (see ``engine``).

This is a lexer, not a parser: references are found as token sequences outside
strings and comments (``input.metrics.accuracy``, ``input.metrics["f1"]``, and
through ``import input.metrics as m``). A metric read through a variable key
(``input.metrics[k]``) cannot be found this way; README says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<newline>\n)
  | (?P<space>[ \t\r\f\v]+)
  | (?P<punct>:=|==|!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # ident | string | number | punct
    text: str
    line: int
    first_on_line: bool
    depth: int  # nesting of (), [], {} before this token


@dataclass(frozen=True)
class Ref:
    """A read of ``<root>.<name>``: root is ``metrics``, ``gates`` or ``data``."""

    root: str
    name: str
    line: int


@dataclass
class ModuleFacts:
    path: str
    package: str | None = None
    rules: dict[str, int] = field(default_factory=dict)  # rule name -> first line
    refs: list[Ref] = field(default_factory=list)
    whole_input_with: list[int] = field(default_factory=list)  # lines of `with input as ...`


def tokens(source: str) -> list[Token]:
    out: list[Token] = []
    line, depth, first = 1, 0, True
    for m in _TOKEN.finditer(source):
        kind = m.lastgroup or "punct"
        text = m.group()
        if kind == "newline":
            line, first = line + 1, True
            continue
        if kind in ("space", "comment"):
            continue
        if kind == "raw":
            kind = "string"
        if kind == "punct" and text in ")]}":
            depth = max(0, depth - 1)
        out.append(Token(kind, text, line, first, depth))
        if kind == "punct" and text in "([{":
            depth += 1
        line += text.count("\n")  # raw strings may span lines
        first = False
    return out


def _unquote(tok: Token) -> str:
    if tok.text.startswith("`"):
        return tok.text[1:-1]
    import json

    try:
        return str(json.loads(tok.text))
    except ValueError:
        return tok.text[1:-1]


def _name_at(toks: list[Token], i: int) -> tuple[str, int] | None:
    """The key read at ``toks[i]``: ``.name`` or ``["name"]``; returns (name, tokens consumed)."""
    if i + 1 < len(toks) and toks[i].text == "." and toks[i + 1].kind == "ident":
        return toks[i + 1].text, 2
    if (
        i + 2 < len(toks)
        and toks[i].text == "["
        and toks[i + 1].kind == "string"
        and toks[i + 2].text == "]"
    ):
        return _unquote(toks[i + 1]), 3
    return None


_KEYWORDS = {"package", "import", "default", "not", "some", "every", "with", "as", "if", "contains", "else"}


def scan(path: str, source: str) -> ModuleFacts:
    """Package, rule heads and references of one module."""
    toks = tokens(source)
    facts = ModuleFacts(path=path)
    aliases: dict[str, str] = {}  # import alias -> root ("metrics" | "gates")
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "ident" and t.text == "package" and t.first_on_line and facts.package is None:
            parts, j = [], i + 1
            while j < len(toks) and toks[j].kind == "ident":
                parts.append(toks[j].text)
                if j + 1 < len(toks) and toks[j + 1].text == "." and toks[j + 1].line == toks[j].line:
                    j += 2
                else:
                    j += 1
                    break
            facts.package = ".".join(parts) or None
            i = j
            continue
        if t.kind == "ident" and t.text == "import" and t.first_on_line:
            # import input.metrics [as m]
            if i + 3 < len(toks) and toks[i + 1].text == "input" and toks[i + 2].text == ".":
                root = toks[i + 3].text
                if root in ("metrics", "gates"):
                    alias = root
                    if i + 5 < len(toks) and toks[i + 4].text == "as" and toks[i + 5].kind == "ident":
                        alias = toks[i + 5].text
                    aliases[alias] = root
        if t.kind == "ident" and t.depth == 0 and t.first_on_line and t.text not in _KEYWORDS:
            facts.rules.setdefault(t.text, t.line)
        if t.kind == "ident" and t.text == "default" and t.depth == 0 and i + 1 < len(toks):
            facts.rules.setdefault(toks[i + 1].text, t.line)
        if t.kind == "ident" and t.text == "with" and i + 2 < len(toks):
            if toks[i + 1].text == "input" and toks[i + 2].text == "as":
                facts.whole_input_with.append(t.line)
        preceded_by_dot = i > 0 and toks[i - 1].text == "."
        if t.kind == "ident" and not preceded_by_dot:
            if t.text == "input" and i + 2 < len(toks):
                head = _name_at(toks, i + 1)
                if head and head[0] in ("metrics", "gates"):
                    key = _name_at(toks, i + 1 + head[1])
                    if key:
                        facts.refs.append(Ref(head[0], key[0], t.line))
            elif t.text == "data":
                key = _name_at(toks, i + 1)
                if key:
                    facts.refs.append(Ref("data", key[0], t.line))
            elif t.text in aliases and not (i > 0 and toks[i - 1].text in ("as", "import")):
                key = _name_at(toks, i + 1)
                if key:
                    facts.refs.append(Ref(aliases[t.text], key[0], t.line))
        i += 1
    return facts


def line_of_offset(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset into ``source`` (UTF-8)."""
    raw = source.encode("utf-8")[: max(0, offset)]
    line = raw.count(b"\n") + 1
    col = len(raw) - (raw.rfind(b"\n") + 1) + 1
    return line, col
