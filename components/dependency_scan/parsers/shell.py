"""What an executor's command line installs with pip when its container starts.

One parser for ``kfp-gates check`` and ``scan-deps --pipeline``. An executor's
``command + args`` is the argv the kernel executes; a shell (``sh -c``,
``bash -lc``, ``eval``, ``$(...)``) re-parses its script, so scripts are read
with a POSIX shell lexer (quotes, escapes, ``$name``/``${...}``/``$(...)``/
backticks, operators, here-documents) and analysed recursively, with ``$0``,
``$1``... and ``"$@"`` bound to the shell's own arguments as the shell binds
them, and literal assignments (``REQ=x; pip install $REQ``) followed.

``shlex`` is not used: it drops quoting, so ``'$x'`` (literal) and ``"$x"``
(expanded) look the same, and it splits ``$(a; b)`` at the ``;``.

A pip install is recognised however it is spelled: ``pip``, ``pip3.11``,
``/opt/venv/bin/pip``, ``python3 -m pip`` (``-mpip``, ``-I -m pip``), general
options before ``install`` (``pip -q install``), abbreviated long options as
pip's optparse accepts them, wrappers (``env``, ``exec``, ``command``,
``nohup``, ``timeout``, ``sudo``, ``su -c``, ``xargs``, ``busybox``, and any
unknown program handed a pip command line), ``uv pip install``, aliases,
shell functions (run with their own ``"$@"``; one never called is judged with
unknown arguments), bash brace expansion, ``set --``/``shift``, and KFP's ``Concat``/``IfPresent``
arguments (:func:`analyze_executor`, every alternative). Where the parser
cannot know what runs (the command name comes from an expansion, a command
substitution or a glob, ``eval`` of one, a shell or Python reading its
program from stdin, a KFP placeholder pasted into a script, code given to
``python -c`` that calls pip), it reports :class:`Unverifiable`: that is a
finding, never clean.

Not covered: a pip binary renamed or linked under another name inside the
image, ``source``/``.`` of a file in the image, and installers other than pip/uv (``conda``, ``apt-get``, ``uvx``).

Control flow is not evaluated: every simple command in a script counts, as if
every branch ran (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kfp_gates.components.common.kfp_ir import Executor

__all__ = ["PipInstall", "ShellAnalysis", "Unverifiable", "analyze_argv", "analyze_executor", "analyze_script"]

_MAX_DEPTH = 12


@dataclass(frozen=True)
class PipInstall:
    """One ``pip install`` the command line runs.

    ``requirements`` are the requirement words as pip receives them;
    ``unresolved`` the requirement or option words whose value is only known
    at run time (``$REQ``, ``"$@"`` of an unknown caller, a KFP placeholder);
    ``options`` are ``(long option name, value)`` pairs, flags with value "".
    """

    requirements: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    unresolved: tuple[str, ...]
    command: str


@dataclass(frozen=True)
class Unverifiable:
    """A place in the command line where a pip install could hide and the parser cannot see through."""

    reason: str
    text: str


@dataclass(frozen=True)
class ShellAnalysis:
    installs: tuple[PipInstall, ...] = ()
    unverifiable: tuple[Unverifiable, ...] = ()

    @property
    def requirements(self) -> list[str]:
        return [r for i in self.installs for r in i.requirements]

    @property
    def options(self) -> list[tuple[str, str]]:
        return [o for i in self.installs for o in i.options]


# ----- lexer -------------------------------------------------------------------------------------------------

# A word is a tuple of segments; a segment is one of:
#   ("lit", text, quoted)        literal text after quote removal
#   ("param", name, quoted)      $name / ${name} / $1 / $@ ...; name "" = an expansion the parser does not evaluate
#   ("cmdsub", script, quoted)   $(...) or `...`
Segment = tuple[str, str, bool]
Word = tuple[Segment, ...]

_OPERATORS = ("&&", "||", ";;", ";&", "|&", "<<-", "<<<", "<<", ">>", "<&", ">&", "<>", ">|", "&>>", "&>",
              ";", "&", "|", "(", ")", "<", ">", "\n")
_OPERATOR_START = frozenset(o[0] for o in _OPERATORS)
_PLAIN = re.compile(r"[^\s\\'\"$`&|;()<>]+")  # a run of characters that are literal wherever they appear
_REDIRECTS = {"<", ">", ">>", "<&", ">&", "<>", ">|", "&>", "&>>", "<<<"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{\{\$.*?\}\}", re.S)


class ShellSyntaxError(ValueError):
    pass


@dataclass
class _Token:
    op: str | None = None
    word: Word = ()
    heredoc: str | None = None  # body of a here-document (for "<<" / "<<-" tokens)
    heredoc_expands: bool = False


def _find_closing_paren(text: str, i: int) -> int:
    """Index of the ``)`` closing a ``$(`` whose body starts at ``i``."""
    depth = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated single quote")
            i = j + 1
            continue
        if c == '"':
            i = _skip_dquote(text, i + 1)
            continue
        if c == "`":
            i = _skip_backtick(text, i + 1)
            continue
        if c == "#" and (i == 0 or text[i - 1] in " \t\n;&|()"):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError("unterminated $(")


def _skip_dquote(text: str, i: int) -> int:
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c == "$" and text.startswith("$(", i):
            i = _find_closing_paren(text, i + 2) + 1
            continue
        if c == "`":
            i = _skip_backtick(text, i + 1)
            continue
        i += 1
    raise ShellSyntaxError("unterminated double quote")


def _skip_backtick(text: str, i: int) -> int:
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "`":
            return i + 1
        i += 1
    raise ShellSyntaxError("unterminated backquote")


def _find_brace(text: str, i: int) -> int:
    depth = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            i = _skip_dquote(text, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError("unterminated ${")


def _dollar(text: str, i: int, quoted: bool) -> tuple[Segment, int]:
    """The expansion starting at ``text[i] == '$'``, and the index after it."""
    n = len(text)
    nxt = text[i + 1] if i + 1 < n else ""
    if text.startswith("$((", i):
        end = text.find("))", i + 3)
        if end < 0:
            raise ShellSyntaxError("unterminated $((")
        inner = text[i + 3:end]
        # Arithmetic can hold a command substitution; pass it on so it is analysed.
        return (("cmdsub", inner, quoted) if ("$(" in inner or "`" in inner) else ("param", "", quoted)), end + 2
    if nxt == "(":
        end = _find_closing_paren(text, i + 2)
        return ("cmdsub", text[i + 2:end], quoted), end + 1
    if nxt == "{":
        end = _find_brace(text, i + 2)
        inner = text[i + 2:end]
        if _NAME.fullmatch(inner) or inner.isdigit() or inner in ("@", "*", "#", "?", "$", "!", "-"):
            return ("param", inner, quoted), end + 1
        if "$(" in inner or "`" in inner:
            return ("cmdsub", inner, quoted), end + 1
        return ("param", "", quoted), end + 1
    if nxt and (nxt.isdigit() or nxt in "@*#?$!-"):
        return ("param", nxt, quoted), i + 2
    m = _NAME.match(text, i + 1)
    if m:
        return ("param", m.group(0), quoted), m.end()
    if not quoted and nxt == "'":
        # bash $'...' (ANSI-C quoting)
        j = i + 2
        out = []
        while j < n and text[j] != "'":
            if text[j] == "\\" and j + 1 < n:
                esc = text[j + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a",
                            "b": "\b", "e": "\x1b", "f": "\f", "v": "\v"}.get(esc, "\\" + esc))
                j += 2
                continue
            out.append(text[j])
            j += 1
        if j >= n:
            raise ShellSyntaxError("unterminated $'")
        return ("lit", "".join(out), True), j + 1
    return ("lit", "$", quoted), i + 1


def _backtick(text: str, i: int, quoted: bool) -> tuple[Segment, int]:
    end = _skip_backtick(text, i + 1) - 1
    inner = re.sub(r"\\([$`\\])", r"\1", text[i + 1:end])
    return ("cmdsub", inner, quoted), end + 1


def _dquote(text: str, i: int, segs: list[Segment]) -> int:
    """Read a double-quoted string starting after its opening quote; return the index after the closing one."""
    n = len(text)
    buf: list[str] = []
    start = len(segs)

    def flush() -> None:
        if buf:
            segs.append(("lit", "".join(buf), True))
            buf.clear()

    while i < n:
        c = text[i]
        if c == '"':
            flush()
            if len(segs) == start:
                segs.append(("lit", "", True))  # "" is still a word (an empty argument)
            return i + 1
        if c == "\\" and i + 1 < n:
            if text[i + 1] in '$`"\\':
                buf.append(text[i + 1])
            elif text[i + 1] != "\n":
                buf.append("\\" + text[i + 1])
            i += 2
            continue
        if c == "$":
            flush()
            seg, i = _dollar(text, i, True)
            segs.append(seg)
            continue
        if c == "`":
            flush()
            seg, i = _backtick(text, i, True)
            segs.append(seg)
            continue
        buf.append(c)
        i += 1
    raise ShellSyntaxError("unterminated double quote")


def _heredoc_delimiter(word: Word) -> tuple[str, bool]:
    """(delimiter, expands): a quoted delimiter turns expansion in the body off."""
    text = "".join(s[1] if s[0] == "lit" else "$" + s[1] for s in word)
    quoted = any(s[2] for s in word)
    return text, not quoted


def tokenize(text: str) -> list[_Token]:
    """POSIX token recognition (XCU 2.3) for the parts that decide which commands run."""
    tokens: list[_Token] = []
    segs: list[Segment] = []
    buf: list[str] = []
    started = False
    pending_heredocs: list[tuple[_Token, bool]] = []  # (token, strip tabs)
    n = len(text)
    i = 0

    def flush_lit() -> None:
        if buf:
            segs.append(("lit", "".join(buf), False))
            buf.clear()

    def end_word() -> None:
        nonlocal started
        flush_lit()
        if started:
            tokens.append(_Token(word=tuple(segs)))
        segs.clear()
        started = False

    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                i += 2
                continue
            buf.append(text[i + 1] if i + 1 < n else "")
            started = True
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated single quote")
            flush_lit()
            segs.append(("lit", text[i + 1:j], True))
            started = True
            i = j + 1
            continue
        if c == '"':
            flush_lit()
            i = _dquote(text, i + 1, segs)
            started = True
            continue
        if c == "$":
            flush_lit()
            seg, i = _dollar(text, i, False)
            segs.append(seg)
            started = True
            continue
        if c == "`":
            flush_lit()
            seg, i = _backtick(text, i, False)
            segs.append(seg)
            started = True
            continue
        if c in " \t":
            end_word()
            i += 1
            continue
        if c == "#" and not started:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c not in _OPERATOR_START:
            m = _PLAIN.match(text, i)
            end = m.end() if m else i + 1
            buf.append(text[i:end])
            started = True
            i = end
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            if op in ("<", ">", "<<", "<<-", ">>", "<&", ">&", "<>", ">|", "<<<") and not segs and buf and \
                    "".join(buf).isdigit():
                buf.clear()  # an IO number (2>&1): part of the redirection
                started = False
            end_word()
            tok = _Token(op=op)
            tokens.append(tok)
            i += len(op)
            if op in ("<<", "<<-"):
                pending_heredocs.append((tok, op == "<<-"))
            if op == "\n" and pending_heredocs:
                i = _read_heredocs(text, i, tokens, pending_heredocs)
            continue
        buf.append(c)
        started = True
        i += 1
    end_word()
    if pending_heredocs:
        _read_heredocs(text, n, tokens, pending_heredocs)
    return tokens


def _read_heredocs(text: str, i: int, tokens: list[_Token], pending: list[tuple[_Token, bool]]) -> int:
    for tok, strip in pending:
        idx = tokens.index(tok)
        if idx + 1 >= len(tokens) or tokens[idx + 1].op is not None:
            raise ShellSyntaxError("here-document without a delimiter")
        delim, expands = _heredoc_delimiter(tokens[idx + 1].word)
        lines: list[str] = []
        while i < len(text):
            j = text.find("\n", i)
            line = text[i:] if j < 0 else text[i:j]
            i = len(text) if j < 0 else j + 1
            if (line.lstrip("\t") if strip else line) == delim:
                break
            lines.append(line.lstrip("\t") if strip else line)
        tok.heredoc = "\n".join(lines) + "\n"
        tok.heredoc_expands = expands
    pending.clear()
    return i


# ----- evaluation --------------------------------------------------------------------------------------------

_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "case", "esac", "{", "}", "!",
             "in", "function", "[[", "time"}
_SEPARATORS = {"&&", "||", ";;", ";&", "|&", ";", "&", "|", "(", ")", "\n"}
_SHELLS = re.compile(r"(ba|da|a|z|k|mk|y|po)?sh")
_PYTHON = re.compile(r"(python|pypy)(\d+(\.\d+)*)?[dmtw]?")
_PIP = re.compile(r"pip(-?\d+(\.\d+)*)?")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_PIP_ENV = {"PIP_INDEX_URL": "--index-url", "PIP_EXTRA_INDEX_URL": "--extra-index-url",
            "PIP_TRUSTED_HOST": "--trusted-host", "PIP_FIND_LINKS": "--find-links", "PIP_NO_INDEX": "--no-index",
            "UV_INDEX_URL": "--index-url", "UV_EXTRA_INDEX_URL": "--extra-index-url", "UV_DEFAULT_INDEX": "--index-url",
            "UV_INDEX": "--extra-index-url"}
PIP_CALL = re.compile(r"""pip3?['"]?\s*,\s*['"]install|\bpip3?\s+install\b|\bpip\.main\(|-m['"]?\s*,?\s*['"]?pip\b""")

# pip's general options that take a value (they may come before the subcommand).
_PIP_GENERAL_VALUE = ("--log", "--log-file", "--local-log", "--proxy", "--retries", "--timeout", "--exists-action",
                      "--trusted-host", "--cert", "--client-cert", "--cache-dir", "--python", "--use-feature",
                      "--use-deprecated", "--keyring-provider", "--resume-retries")
_PIP_GENERAL_FLAGS = ("--help", "--debug", "--isolated", "--require-virtualenv", "--verbose", "--version", "--quiet",
                      "--no-input", "--no-cache-dir", "--disable-pip-version-check", "--no-color",
                      "--no-python-version-warning")
_PIP_INSTALL_VALUE = (
    "--index-url", "--extra-index-url", "--find-links", "--requirement", "--constraint", "--editable", "--target",
    "--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi", "--src",
    "--upgrade-strategy", "--progress-bar", "--global-option", "--config-settings", "--no-binary", "--only-binary",
    "--report", "--group", "--build-constraint", "--root-user-action", "--override", "--default-index",
    *_PIP_GENERAL_VALUE,
)
_PIP_INSTALL_FLAGS = (
    "--no-index", "--no-deps", "--pre", "--user", "--upgrade", "--force-reinstall", "--ignore-installed",
    "--ignore-requires-python", "--no-build-isolation", "--use-pep517", "--no-use-pep517", "--check-build-dependencies",
    "--break-system-packages", "--no-compile", "--compile", "--no-warn-script-location", "--no-warn-conflicts",
    "--prefer-binary", "--require-hashes", "--no-clean", "--dry-run", "--system", "--no-deps", *_PIP_GENERAL_FLAGS,
)
_SHORT_VALUE = {"i": "--index-url", "f": "--find-links", "r": "--requirement", "c": "--constraint",
                "e": "--editable", "t": "--target", "C": "--config-settings"}
_SHORT_FLAG = {"U": "--upgrade", "q": "--quiet", "v": "--verbose", "I": "--ignore-installed", "h": "--help",
               "V": "--version", "y": "--yes"}


def _long_option(word: str, value_opts: Sequence[str], flag_opts: Sequence[str]) -> tuple[str, bool]:
    """(canonical name, takes a value): optparse accepts any unambiguous prefix of a long option."""
    if word in value_opts:
        return word, True
    if word in flag_opts:
        return word, False
    cands = {o for o in (*value_opts, *flag_opts) if o.startswith(word)}
    if len(cands) == 1:
        name = cands.pop()
        return name, name in value_opts
    return word, False  # unknown or ambiguous: pip would refuse; treat as a flag


@dataclass
class _Ctx:
    positional: tuple[str | None, ...] = ()  # $0, $1, ...; None = unknown at run time
    positional_known: bool = True  # False when "$@" of this shell is unknown
    vars: dict[str, str | None] = field(default_factory=dict)
    exported: dict[str, str | None] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    functions: dict[str, list[_Token]] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)
    depth: int = 0
    installs: list[PipInstall] = field(default_factory=list)
    unverifiable: list[Unverifiable] = field(default_factory=list)

    def child(self, positional: tuple[str | None, ...], known: bool = True) -> _Ctx:
        return _Ctx(positional=positional, positional_known=known, vars=dict(self.exported),
                    exported=dict(self.exported), depth=self.depth + 1, installs=self.installs,
                    unverifiable=self.unverifiable)

    def flag(self, reason: str, text: str) -> None:
        self.unverifiable.append(Unverifiable(reason=reason, text=_short(text)))


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _word_text(word: Word) -> str:
    out = []
    for kind, val, _q in word:
        out.append(val if kind == "lit" else ("$(" + val + ")" if kind == "cmdsub" else "${" + (val or "...") + "}"))
    return "".join(out)


def _param_value(ctx: _Ctx, name: str) -> str | list[str | None] | None:
    if name.isdigit():
        k = int(name)
        if k < len(ctx.positional):
            return ctx.positional[k]
        return "" if ctx.positional_known else None
    if name in ("@", "*"):
        if not ctx.positional_known:
            return None
        return list(ctx.positional[1:])
    if name == "#":
        return str(len(ctx.positional) - 1) if ctx.positional_known else None
    if name and name in ctx.vars:
        return ctx.vars[name]
    return None  # unset here: it may come from the container's environment


def _expand(word: Word, ctx: _Ctx, *, analyze: bool = True) -> list[str | None]:
    """The fields ``word`` expands to; None for a field only known at run time.

    Command substitutions inside it are analysed as scripts on the way. A
    quoted ``"$@"`` expands element by element (one unknown argument leaves
    the others known); any other word with an unknown part is one unknown field.
    """
    for kind, val, _q in word:
        if kind == "cmdsub" and analyze:
            _analyze(val, ctx)
    if len(word) == 1 and word[0][:2] == ("param", "@") and word[0][2] and ctx.positional_known:
        return list(ctx.positional[1:])
    fields: list[str] = [""]
    real = [False]  # whether the field exists (quoted empty strings make a field)
    for kind, val, quoted in word:
        if kind == "lit":
            if _PLACEHOLDER.search(val):
                return [None]
            fields[-1] += val
            real[-1] = real[-1] or quoted or bool(val)
            continue
        if kind == "cmdsub":
            return [None]
        value = _param_value(ctx, val) if val else None
        if value is None or (isinstance(value, list) and any(v is None for v in value)):
            return [None]
        pieces: list[str] = [v for v in value if v is not None] if isinstance(value, list) else [value]
        if quoted and isinstance(value, list) and val == "@":
            if pieces:
                fields[-1] += pieces[0]
                real[-1] = True
                for p in pieces[1:]:
                    fields.append(p)
                    real.append(True)
            continue
        text = " ".join(pieces)
        if quoted:
            fields[-1] += text
            real[-1] = True
            continue
        parts = text.split()
        if not parts:
            continue
        if text[:1].isspace() and real[-1]:
            fields.append("")
            real.append(False)
        fields[-1] += parts[0]
        real[-1] = True
        for p in parts[1:]:
            fields.append(p)
            real.append(True)
        if text[-1:].isspace():
            fields.append("")
            real.append(False)
    return [f for f, r in zip(fields, real, strict=True) if r]


def _simple_commands(tokens: list[_Token]) -> list[tuple[list[Word], list[Word], list[_Token]]]:
    """(words, redirection targets, here-document tokens) of every simple command."""
    out: list[tuple[list[Word], list[Word], list[_Token]]] = []
    words: list[Word] = []
    targets: list[Word] = []
    heredocs: list[_Token] = []
    skip_next = False
    for tok in tokens:
        if tok.op is None:
            (targets if skip_next else words).append(tok.word)
            skip_next = False
            continue
        if tok.op in _REDIRECTS or tok.op in ("<<", "<<-"):
            skip_next = True
            if tok.heredoc is not None:
                heredocs.append(tok)
            continue
        if words or targets or heredocs:
            out.append((words, targets, heredocs))
        words, targets, heredocs, skip_next = [], [], [], False
    if words or targets or heredocs:
        out.append((words, targets, heredocs))
    return out


def analyze_script(script: str, positional: Sequence[str | None] = ("sh",), *,
                   env: Mapping[str, str | None] | None = None) -> ShellAnalysis:
    """Analyse a shell script (``sh -c script $0 $1 ...``)."""
    ctx = _Ctx(positional=tuple(positional), vars=dict(env or {}), exported=dict(env or {}))
    try:
        _analyze(script, ctx)
        _finish_shell(ctx)
    except RecursionError:
        ctx.flag("command line nested too deeply to analyse", script)
    return ShellAnalysis(tuple(ctx.installs), tuple(ctx.unverifiable))


def analyze_argv(argv: Sequence[str], *, env: Mapping[str, str | None] | None = None) -> ShellAnalysis:
    """Analyse an argv as the kernel executes it (a container's ``command + args``).

    ``env`` is the container's environment (values None when only known at run
    time). Never raises: what cannot be parsed is reported as unverifiable.
    """
    ctx = _Ctx(vars=dict(env or {}), exported=dict(env or {}))
    try:
        _run(list(argv), ctx, " ".join(argv))
    except RecursionError:
        ctx.flag("command line nested too deeply to analyse", " ".join(argv))
    return ShellAnalysis(tuple(ctx.installs), tuple(ctx.unverifiable))


def _analyze(script: str, ctx: _Ctx) -> None:
    if ctx.depth > _MAX_DEPTH:
        ctx.flag("shell scripts nested too deeply to analyse", script)
        return
    ctx.depth += 1
    try:
        _analyze_tokens(script, ctx)
    finally:
        ctx.depth -= 1


def _analyze_tokens(script: str, ctx: _Ctx) -> None:
    if _PLACEHOLDER.search(script):
        ctx.flag("a KFP placeholder is pasted into a shell script before the shell parses it: its run-time value "
                 "can add commands", script)
    try:
        tokens = tokenize(script)
    except ShellSyntaxError as exc:
        ctx.flag(f"shell script does not parse ({exc})", script)
        return
    _run_tokens(tokens, ctx)


def _extract_functions(tokens: list[_Token], ctx: _Ctx) -> list[_Token]:
    """``name() { body; }`` / ``function name { body; }``: bodies stored in ``ctx``, removed from the stream."""
    out: list[_Token] = []
    i = 0
    n = len(tokens)

    def lit(k: int) -> str | None:
        if k < n and tokens[k].op is None and len(tokens[k].word) == 1 and tokens[k].word[0][0] == "lit" \
                and not tokens[k].word[0][2]:
            return tokens[k].word[0][1]
        return None

    while i < n:
        name, j = None, i
        if lit(i) == "function" and lit(i + 1):
            name, j = lit(i + 1), i + 2
            if j + 1 < n and tokens[j].op == "(" and tokens[j + 1].op == ")":
                j += 2
        elif lit(i) and _NAME.fullmatch(lit(i) or "") and i + 2 < n and tokens[i + 1].op == "(" \
                and tokens[i + 2].op == ")" and (not out or out[-1].op is not None):
            name, j = lit(i), i + 3
        if name is None:
            out.append(tokens[i])
            i += 1
            continue
        while j < n and tokens[j].op == "\n":
            j += 1
        opener = lit(j) if j < n else None
        closer = "}" if opener == "{" else None
        if opener != "{" and not (j < n and tokens[j].op == "("):
            out.append(tokens[i])  # not a body this parser reads: leave the words to be judged as commands
            i += 1
            continue
        depth, k = 0, j
        while k < n:
            if (closer and lit(k) == "{") or (not closer and tokens[k].op == "("):
                depth += 1
            elif (closer and lit(k) == "}") or (not closer and tokens[k].op == ")"):
                depth -= 1
                if depth == 0:
                    break
            k += 1
        ctx.functions[name] = tokens[j + 1:k]
        out.append(_Token(op=";"))
        i = k + 1
    return out


def _finish_shell(ctx: _Ctx) -> None:
    """Functions a script defines but never calls: judged with unknown arguments (fail closed)."""
    for name in sorted(set(ctx.functions) - ctx.called):
        ctx.called.add(name)
        saved = (ctx.positional, ctx.positional_known)
        ctx.positional, ctx.positional_known = ctx.positional[:1], False
        _run_tokens(ctx.functions[name], ctx)
        ctx.positional, ctx.positional_known = saved


def _run_tokens(tokens: list[_Token], ctx: _Ctx) -> None:
    if ctx.depth > _MAX_DEPTH:
        ctx.flag("shell functions nested too deeply to analyse", "")
        return
    tokens = _extract_functions(tokens, ctx)
    for words, targets, heredocs in _simple_commands(tokens):
        for t in targets:
            _expand(t, ctx)  # a command substitution in a redirection target runs too
        # Leading assignments: shell variables, or the environment of the command that follows.
        prefix: dict[str, str | None] = {}
        k = 0
        while k < len(words):
            w = words[k]
            if w and w[0][0] == "lit" and not w[0][2] and (m := _ASSIGN.match(w[0][1])):
                rest: Word = ((("lit", w[0][1][m.end():], False),) if m.end() < len(w[0][1]) else ()) + w[1:]
                value = _expand(rest, ctx)
                prefix[m.group(1)] = None if None in value else " ".join(v for v in value if v is not None)
                k += 1
                continue
            break
        cmd_words = words[k:]
        while cmd_words and _is_reserved(cmd_words[0]):
            if _word_text(cmd_words[0]) in ("for", "case", "select"):
                for w in cmd_words[1:]:
                    _expand(w, ctx)
                cmd_words = []
                break
            cmd_words = cmd_words[1:]
        if not cmd_words:
            ctx.vars.update(prefix)
            continue
        if _has_glob(cmd_words[0]):
            ctx.flag("the command name is a glob pattern: which program runs depends on the image's files",
                     _word_text(cmd_words[0]))
        cmd_words = [b for w in cmd_words for b in _brace_expand(w)]
        fields: list[str | None] = [f for w in cmd_words for f in _expand(w, ctx)]
        saved = (dict(ctx.vars), dict(ctx.exported))
        ctx.exported.update(prefix)
        ctx.vars.update(prefix)
        stdin_script = next((h.heredoc for h in heredocs if h.heredoc is not None), None)
        text = " ".join(_word_text(w) for w in cmd_words)
        if fields and fields[0] == "alias":
            for a in fields[1:]:
                if a is None:
                    ctx.flag("alias defined from a value only known at run time", text)
                elif "=" in a:
                    alias_name, _, alias_text = a.partition("=")
                    ctx.aliases[alias_name] = alias_text
        elif fields and fields[0] in ctx.aliases and len(cmd_words[0]) == 1 and not cmd_words[0][0][2]:
            # An unquoted command word that names an alias is replaced by the alias text (POSIX 2.3.1).
            tail = " ".join("${__kfpg_unknown__}" if f is None else _quote(f) for f in fields[1:])
            alias_text = ctx.aliases.pop(str(fields[0]))  # an alias is not expanded inside itself
            try:
                _analyze(f"{alias_text} {tail}", ctx)
            finally:
                ctx.aliases[str(fields[0])] = alias_text
            ctx.vars, ctx.exported = saved
            continue
        if fields and fields[0] in ctx.functions:
            # A function runs in this shell with its own positional parameters.
            name = str(fields[0])
            ctx.called.add(name)
            saved_pos = (ctx.positional, ctx.positional_known)
            ctx.positional, ctx.positional_known = (ctx.positional[0], *fields[1:]), True
            ctx.depth += 1
            try:
                _run_tokens(ctx.functions[name], ctx)
            finally:
                ctx.depth -= 1
                ctx.positional, ctx.positional_known = saved_pos
        else:
            _run(fields, ctx, text, stdin_script=stdin_script)
        if fields and fields[0] in _DECLARE:
            for w in cmd_words[1:]:
                if w and w[0][0] == "lit" and (m := _ASSIGN.match(w[0][1])):
                    rhs: Word = ((("lit", w[0][1][m.end():], w[0][2]),) if m.end() < len(w[0][1]) else ()) + w[1:]
                    rhs_fields = _expand(rhs, ctx, analyze=False)  # its $(...) was judged with the command
                    known = None if None in rhs_fields else " ".join(v for v in rhs_fields if v is not None)
                    saved[0][m.group(1)] = known
                    if fields[0] == "export":
                        saved[1][m.group(1)] = known
                elif fields[0] == "export" and len(w) == 1 and w[0][0] == "lit" and w[0][1] in saved[0]:
                    saved[1][w[0][1]] = saved[0][w[0][1]]
        elif fields and fields[0] == "set":
            _set_positional(fields[1:], ctx)
        elif fields and fields[0] == "shift":
            n = fields[1] if len(fields) > 1 else "1"
            if n is None or not n.isdigit():
                ctx.positional_known = False
            else:
                ctx.positional = ctx.positional[:1] + ctx.positional[1 + int(n):]
        ctx.vars, ctx.exported = saved
        for h in heredocs:
            if h.heredoc is not None and h.heredoc_expands and ("$(" in h.heredoc or "`" in h.heredoc):
                try:
                    segs: list[Segment] = []
                    _dquote(h.heredoc.replace('"', '\\"') + '"', 0, segs)
                except ShellSyntaxError:
                    ctx.flag("here-document does not parse", h.heredoc)
                    continue
                for kind, val, _q in segs:
                    if kind == "cmdsub":
                        _analyze(val, ctx)


_DECLARE = {"export", "readonly", "local", "declare", "typeset"}
# Commands that print, test or move files: a pip command line among their arguments is data, not run.
_INERT = {"echo", "printf", "cat", "grep", "egrep", "fgrep", "test", "[", "[[", "true", "false", ":", "ls", "cd",
          "mkdir", "rm", "cp", "mv", "touch", "chmod", "chown", "ln", "tee", "sed", "awk", "head", "tail", "wc",
          "sort", "uniq", "cut", "tr", "which", "type", "hash", "export", "readonly", "local", "declare",
          "typeset", "set", "shift", "unset", "alias", "unalias", "read", "trap", "exit", "return", "wait",
          "sleep", "logger", "basename", "dirname", "realpath", "readlink", "date", "id", "whoami"}


_BRACE = re.compile(r"\{([^{}]*?(?:,|\.\.)[^{}]*?)\}")


_GLOB = re.compile(r"[*?]|\[[^\]]+\]")


def _has_glob(word: Word) -> bool:
    """An unquoted pattern the shell matches against file names (``[`` alone is the test command)."""
    return any(kind == "lit" and not quoted and _GLOB.search(val) for kind, val, quoted in word)


def _brace_expand(word: Word) -> list[Word]:
    """bash brace expansion of an all-literal, unquoted word (``{pip,install,x}``, ``pi{p,}``); else the word.

    dash does not expand braces; treating the word as bash would only adds commands to judge (fail closed).
    """
    if not (len(word) == 1 and word[0][0] == "lit" and not word[0][2] and _BRACE.search(word[0][1])):
        return [word]
    texts = [word[0][1]]
    for _ in range(8):  # nested braces, innermost first
        out: list[str] = []
        changed = False
        for t in texts:
            m = _BRACE.search(t)
            if not m:
                out.append(t)
                continue
            changed = True
            body = m.group(1)
            if ".." in body and "," not in body:
                lo, _, hi = body.partition("..")
                if lo.isdigit() and hi.isdigit() and abs(int(hi) - int(lo)) < 64:
                    step = 1 if int(hi) >= int(lo) else -1
                    parts = [str(n) for n in range(int(lo), int(hi) + step, step)]
                elif len(lo) == 1 and len(hi) == 1:
                    step = 1 if hi >= lo else -1
                    parts = [chr(c) for c in range(ord(lo), ord(hi) + step, step)]
                else:
                    parts = [m.group(0)]
            else:
                parts = body.split(",")
            out.extend(t[: m.start()] + p + t[m.end():] for p in parts)
        texts = out[:256]
        if not changed:
            break
    return [(("lit", t, False),) for t in texts if t]


def _set_positional(args: list[str | None], ctx: _Ctx) -> None:
    """``set [options] [--] args``: new positional parameters when any argument follows the options."""
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            ctx.positional_known = False
            return
        if a == "--":
            i += 1
            break
        if a in ("-o", "+o"):
            i += 2
            continue
        if a.startswith(("-", "+")) and a not in ("-", "+"):
            i += 1
            continue
        break
    else:
        if not (args and args[-1] == "--"):
            return  # only options: the positional parameters stay
    rest = args[i:]
    if any(a is None for a in rest):
        ctx.positional_known = False
    ctx.positional = ctx.positional[:1] + tuple(rest)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _is_reserved(word: Word) -> bool:
    return len(word) == 1 and word[0][0] == "lit" and not word[0][2] and word[0][1] in _RESERVED


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _run(argv: list[str | None], ctx: _Ctx, text: str, *, stdin_script: str | None = None) -> None:
    """Judge one command about to be executed with ``argv``."""
    if not argv:
        return
    prog = argv[0]
    if prog is None or _PLACEHOLDER.search(prog):
        ctx.flag("the command name is only known at run time (an expansion, a command substitution or a "
                 "pipeline placeholder): it can be a pip install", text)
        return
    name = _base(prog)
    args = argv[1:]
    if name in ("exec", "nohup", "setsid", "time", "builtin", "doas"):
        _run(_drop_options(args, {"-a"}), ctx, text, stdin_script=stdin_script)
        return
    if name == "command":
        if any(a in ("-v", "-V") for a in args[:2]):
            return
        _run(_drop_options(args, set()), ctx, text, stdin_script=stdin_script)
        return
    if name == "sudo":
        _run(_drop_options(args, {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"}), ctx, text)
        return
    if name == "nice":
        _run(_drop_options(args, {"-n"}), ctx, text)
        return
    if name == "stdbuf":
        _run(_drop_options(args, {"-i", "-o", "-e"}), ctx, text)
        return
    if name == "timeout":
        rest = _drop_options(args, {"-s", "-k", "--signal", "--kill-after"})
        _run(rest[1:], ctx, text)
        return
    if name in ("su", "runuser"):
        for k, a in enumerate(args):
            if a in ("-c", "--command") or (a is not None and a.startswith("--command=")):
                script = a.partition("=")[2] if a is not None and "=" in a else (
                    args[k + 1] if k + 1 < len(args) else "")
                if script is None:
                    ctx.flag(f"{name} -c with a command only known at run time", text)
                else:
                    child = ctx.child((name,))
                    _analyze(script, child)
                    _finish_shell(child)
                return
        return
    if name == "busybox":
        _run(args, ctx, text, stdin_script=stdin_script)
        return
    if name == "env":
        rest = list(args)
        env_prefix: dict[str, str | None] = {}
        while rest:
            a = rest[0]
            if a is None:
                break
            if a in ("-u", "--unset", "-C", "--chdir"):
                rest = rest[2:]
            elif a == "-S" or a.startswith("--split-string"):
                script = rest[1] if a == "-S" and len(rest) > 1 else a.partition("=")[2]
                if script is None:
                    ctx.flag("env -S with a string only known at run time", text)
                    return
                ctx.vars.update(env_prefix)
                _analyze(script, ctx)
                return
            elif a.startswith("-"):
                rest = rest[1:]
                if a == "--":
                    break
            elif _ASSIGN.match(a):
                key, _, val = a.partition("=")
                env_prefix[key] = val
                rest = rest[1:]
            else:
                break
        saved = dict(ctx.exported)
        ctx.exported.update(env_prefix)
        _run(rest, ctx, text, stdin_script=stdin_script)
        ctx.exported = saved
        return
    if name == "xargs":
        rest = _drop_options(args, {"-I", "-i", "-L", "-l", "-n", "-P", "-s", "-E", "-e", "-d", "-a"})
        if not rest:
            return
        _run([*rest, None], ctx, text)  # xargs appends words read from stdin
        return
    if name in ("eval",):
        if any(a is None for a in args):
            ctx.flag("eval of a value only known at run time", text)
            return
        _analyze(" ".join(a for a in args if a is not None), ctx)
        return
    if _SHELLS.fullmatch(name):
        _run_shell(args, ctx, text, prog, stdin_script)
        return
    if _PYTHON.fullmatch(name):
        _run_python(args, ctx, text, stdin_script)
        return
    if _PIP.fullmatch(name):
        _run_pip(args, ctx, text)
        return
    if name == "uv" and len(args) >= 2 and args[0] == "pip":
        _run_pip(args[1:], ctx, text)
        return
    if name in _INERT:
        return
    # An unknown program given a pip command line among its arguments (flock, ionice, strace, chroot ...)
    # most likely runs it: judge the rest as a command (fail closed).
    for k, a in enumerate(args):
        if a is not None and (_PIP.fullmatch(_base(a)) or _PYTHON.fullmatch(_base(a))) and k + 1 < len(args):
            before = len(ctx.installs) + len(ctx.unverifiable)
            _run(args[k:], ctx, text)
            if len(ctx.installs) + len(ctx.unverifiable) > before:
                return


def _drop_options(args: list[str | None], with_value: set[str]) -> list[str | None]:
    """``args`` after the leading options of a wrapper command (``-u user``, ``--``)."""
    i = 0
    while i < len(args):
        a = args[i]
        if a is None or not a.startswith("-") or a == "-":
            break
        if a == "--":
            i += 1
            break
        i += 2 if a in with_value else 1
    return args[i:]


def _run_shell(args: list[str | None], ctx: _Ctx, text: str, prog: str, stdin_script: str | None) -> None:
    i = 0
    command_mode = False
    while i < len(args):
        a = args[i]
        if a is None:
            ctx.flag("a shell option or script name only known at run time", text)
            return
        if a == "--":
            i += 1
            break
        if a.startswith(("-", "+")) and a not in ("-", "+"):
            if a in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 2
                continue
            if not a.startswith("--") and "c" in a[1:]:
                command_mode = True
            i += 1
            continue
        break
    rest = args[i:]
    if command_mode:
        if not rest:
            return
        script = rest[0]
        if script is None:
            ctx.flag("sh -c with a script only known at run time", text)
            return
        positional = tuple(rest[1:]) if len(rest) > 1 else (prog,)
        child = ctx.child(positional)
        _analyze(script, child)
        _finish_shell(child)
        return
    if rest:
        return  # `sh file.sh`: a script inside the image, part of the image's own review
    if stdin_script is not None:
        child = ctx.child((prog,))
        _analyze(stdin_script, child)
        _finish_shell(child)
        return
    ctx.flag("a shell reads its commands from standard input (a pipe or redirection): they can be a pip install",
             text)


def _run_python(args: list[str | None], ctx: _Ctx, text: str, stdin_script: str | None = None) -> None:
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            ctx.flag("a Python option or script only known at run time", text)
            return
        if a == "-":
            break  # the program comes from stdin
        if not a.startswith("-"):
            return  # a script file: code inside the image
        if a == "--":
            return
        if a.startswith("--"):
            i += 2 if a in ("--check-hash-based-pycs",) else 1
            continue
        j = 1
        while j < len(a):
            ch = a[j]
            if ch in "mc":
                value = a[j + 1:] if j + 1 < len(a) else (args[i + 1] if i + 1 < len(args) else "")
                tail = args[i + 1:] if j + 1 < len(a) else args[i + 2:]
                if value is None:
                    ctx.flag(f"python -{ch} with a value only known at run time", text)
                    return
                if ch == "m":
                    if value in ("pip", "pip.__main__"):
                        _run_pip(list(tail), ctx, text)
                    elif value == "uv" and tail and tail[0] == "pip":
                        _run_pip(list(tail[1:]), ctx, text)
                elif PIP_CALL.search(value):
                    ctx.flag("python -c code that calls pip", value)
                return
            if ch in "WXQ":
                if j + 1 == len(a):
                    i += 1
                break
            j += 1
        i += 1
    # No script, -c or -m: Python runs what it reads from standard input.
    if stdin_script is not None:
        if PIP_CALL.search(stdin_script):
            ctx.flag("Python code on standard input that calls pip", stdin_script)
        return
    ctx.flag("Python reads its program from standard input (a pipe or redirection): it can install packages", text)


def _run_pip(args: list[str | None], ctx: _Ctx, text: str) -> None:
    i = 0
    general: list[tuple[str, str]] = []
    while i < len(args):
        a = args[i]
        if a is None:
            ctx.flag("a pip option or subcommand only known at run time", text)
            return
        if a.startswith("--"):
            name, eq, value = a.partition("=")
            canon, takes = _long_option(name, _PIP_GENERAL_VALUE, _PIP_GENERAL_FLAGS)
            if takes and not eq:
                nxt = args[i + 1] if i + 1 < len(args) else ""
                general.append((canon, nxt or ""))
                i += 2
            else:
                general.append((canon, value))
                i += 1
            continue
        if a.startswith("-") and len(a) > 1:
            i += 1
            continue
        break
    if i >= len(args) or args[i] != "install":
        return
    reqs: list[str] = []
    opts: list[tuple[str, str]] = list(general)
    unresolved: list[str] = []
    for key, opt in _PIP_ENV.items():
        val = ctx.exported.get(key)
        if key in ctx.exported:
            if val is None:
                unresolved.append(f"${key}")
            else:
                opts.extend((opt, v) for v in (val.split() or [""]))
    words = args[i + 1:]
    j = 0
    only_positional = False
    while j < len(words):
        w = words[j]
        j += 1
        if w is None or _PLACEHOLDER.search(w):
            unresolved.append(w or "<run-time value>")
            continue
        if not only_positional and w == "--":
            only_positional = True
            continue
        if not only_positional and w.startswith("--"):
            name, eq, value = w.partition("=")
            canon, takes = _long_option(name, _PIP_INSTALL_VALUE, _PIP_INSTALL_FLAGS)
            if takes and not eq:
                nxt = words[j] if j < len(words) else ""
                j += 1
                if nxt is None:
                    unresolved.append(f"{canon} <run-time value>")
                    nxt = ""
                value = nxt
            opts.append((canon, value))
            continue
        if not only_positional and w.startswith("-") and len(w) > 1:
            k = 1
            while k < len(w):
                ch = w[k]
                if ch in _SHORT_VALUE:
                    value = w[k + 1:]
                    if not value:
                        nxt = words[j] if j < len(words) else ""
                        j += 1
                        if nxt is None:
                            unresolved.append(f"{_SHORT_VALUE[ch]} <run-time value>")
                            nxt = ""
                        value = nxt
                    opts.append((_SHORT_VALUE[ch], value))
                    break
                opts.append((_SHORT_FLAG.get(ch, "-" + ch), ""))
                k += 1
            continue
        reqs.append(w)
    ctx.installs.append(PipInstall(requirements=tuple(reqs), options=tuple(opts), unresolved=tuple(unresolved),
                                   command=_short(text)))


def analyze_executor(executor: Executor) -> ShellAnalysis:
    """:func:`analyze_argv` on an executor's ``command + args``, with the container's literal ``env``."""
    env: dict[str, str | None] = {}
    container = executor.raw.get("container") if isinstance(executor.raw, dict) else None
    for item in (container or {}).get("env") or ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            value = item.get("value")
            env[item["name"]] = value if isinstance(value, str) and not _PLACEHOLDER.search(value) else None
    argv = list(executor.command + executor.args)
    variants = _kfp_argv_variants(argv)
    if variants is None:
        why = "too many IfPresent alternatives in the command line to analyse each"
        return ShellAnalysis(unverifiable=(Unverifiable(reason=why, text=_short(" ".join(argv))),))
    if len(variants) == 1:
        return analyze_argv(variants[0], env=env)
    installs: list[PipInstall] = []
    unverifiable: list[Unverifiable] = []
    for variant in variants:  # KFP's launcher picks one at run time: each may be the one that runs
        result = analyze_argv(variant, env=env)
        seen = list(installs)
        installs.extend(i for i in result.installs if i not in seen)
        unverifiable.extend(u for u in result.unverifiable if u not in unverifiable)
    return ShellAnalysis(tuple(installs), tuple(unverifiable))


_MAX_VARIANTS = 64


def _kfp_argv_variants(argv: list[str]) -> list[list[str]] | None:
    """The argvs KFP's launcher may build from ``{"Concat": [...]}`` / ``{"IfPresent": {...}}`` arguments.

    The compiler writes these structured placeholders as JSON strings; the
    launcher expands them (an optional input present or not) before the
    kernel sees the argv. None when there are more than ``_MAX_VARIANTS``.
    """
    if not any(a.startswith(('{"Concat"', '{"IfPresent"')) for a in argv):
        return [argv]
    try:
        return _kfp_items(argv)
    except _TooMany:
        return None


class _TooMany(Exception):
    pass


def _kfp_items(items: Sequence[object]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for item in items:
        alternatives = _kfp_item(item)
        out = [left + right for left in out for right in alternatives]
        if len(out) > _MAX_VARIANTS:
            raise _TooMany
    return out


def _kfp_item(item: object) -> list[list[str]]:
    if isinstance(item, str) and item.startswith(('{"Concat"', '{"IfPresent"')):
        import json

        try:
            item = json.loads(item)
        except ValueError:
            return [[item]]  # type: ignore[list-item]
    if isinstance(item, dict) and "Concat" in item and isinstance(item["Concat"], list):
        joined = _kfp_items(item["Concat"])
        return [["".join(words)] for words in joined]
    if isinstance(item, dict) and "IfPresent" in item and isinstance(item["IfPresent"], dict):
        body = item["IfPresent"]
        then = body.get("Then") or []
        other = body.get("Else") or []
        then = then if isinstance(then, list) else [then]
        other = other if isinstance(other, list) else [other]
        return _kfp_items(then) + _kfp_items(other)
    return [[item if isinstance(item, str) else str(item)]]
