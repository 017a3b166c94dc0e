"""The Rego engine: load a policy once, check it can decide, evaluate ``deny`` and ``warn`` alone.

Conftest conventions: in the configured package (default ``main``, Conftest's
own), ``deny contains msg`` blocks and ``warn contains msg`` warns; a message
is a string or an object ``{"msg": ..., "id": ..., "severity": "critical"}``.
``*_test.rego`` files hold the policy's own tests (``test_*`` rules) and are
loaded only by :meth:`PolicyEngine.run_tests`.

Fail closed, everywhere a Rego engine would quietly say "nothing denied":

* a module that does not compile, or a rule that calls an unknown function:
  :class:`ConfigError` naming ``file:line``;
* a package without ``deny`` and ``warn`` rules, a ``deny``/``warn`` rule that
  evaluates to undefined, or one that is not a set (the v0 form
  ``deny[msg] {…}`` is an object): :class:`ConfigError`;
* ``data.<key>`` read by a rule but missing from the data: :class:`ConfigError`;
* ``input.metrics.<name>`` or ``input.gates.<gate>`` read by a rule but absent
  from the input (or a metric that is not a number): reported by
  :meth:`PolicyEngine.evaluate` as missing, which the gate turns into a
  blocking finding that no waiver or ``on_fail: warn`` can soften.

Each rule is queried alone: a query binding several rules is undefined if any
one of them is.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError

from ._rego import Interpreter, Value
from ._source import ModuleFacts, Ref, scan

DEFAULT_PACKAGE = "main"
ENTRY_RULES = ("deny", "warn")
_SEVERITIES = ("high", "critical")


@dataclass(frozen=True)
class RegoFile:
    """One Rego module: the name errors use, its text and the sha256 of its bytes."""

    name: str
    source: str
    sha256: str

    @property
    def is_test(self) -> bool:
        return self.name.endswith("_test.rego")

    @classmethod
    def from_text(cls, name: str, source: str) -> RegoFile:
        return cls(name=name, source=source, sha256=hashlib.sha256(source.encode("utf-8")).hexdigest())


def default_policy_dir() -> Path:
    """The shipped policies (``promotion.rego``: no deployment if accuracy is below ``data.min_accuracy``)."""
    return Path(str(resources.files("kfp_gates.components.rego_policy") / "policies"))


def load_rego(path: str | os.PathLike[str] | None = None, *, text: str | None = None) -> list[RegoFile]:
    """The modules of a ``.rego`` file, of every ``.rego`` file under a directory, or of ``text``.

    Raises :class:`InputNotFoundError` for a missing path and :class:`ConfigError`
    for a directory without ``.rego`` files or a file that is not UTF-8.
    """
    if text is not None:
        return [RegoFile.from_text("policy.rego", text)]
    root = Path(path) if path is not None else default_policy_dir()
    if root.is_dir():
        files = sorted(
            p for p in root.rglob("*.rego") if p.is_file() and not any(part.startswith(".") for part in p.parts)
        )
        if not files:
            raise ConfigError("no .rego files in the directory", where=str(root))
        base = root
    elif root.is_file():
        files, base = [root], root.parent
    else:
        raise InputNotFoundError("Rego file or directory not found", where=str(root))
    out = []
    for f in files:
        try:
            source = f.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("Rego file is not UTF-8", where=str(f)) from None
        except OSError as exc:
            raise InputNotFoundError(f"cannot read Rego file: {exc.strerror}", where=str(f)) from None
        name = f.relative_to(base).as_posix() if path is not None else f"policies/{f.relative_to(base).as_posix()}"
        out.append(RegoFile(name=name, source=source, sha256=hashlib.sha256(source.encode("utf-8")).hexdigest()))
    return out


@dataclass(frozen=True)
class Message:
    rule: str  # deny | warn
    text: str
    id: str | None
    severity: str | None
    value: Any


@dataclass(frozen=True)
class Missing:
    """An input document a rule reads that the run did not produce (or that is not a number)."""

    ref: Ref
    file: str
    why: str  # "missing" | "not a number"

    def describe(self) -> str:
        where = f"{self.file}:{self.ref.line}"
        what = f"input.{self.ref.root}.{self.ref.name}"
        if self.why == "missing":
            return f"{where} reads {what}, which the run did not produce"
        return f"{where} reads {what}, which is {self.why}"


@dataclass(frozen=True)
class Evaluation:
    deny: tuple[Message, ...]
    warn: tuple[Message, ...]
    missing: tuple[Missing, ...]
    seconds: float


@dataclass(frozen=True)
class TestOutcome:
    name: str  # data.<package>.<rule>
    file: str
    line: int
    passed: bool
    detail: str = ""


class PolicyEngine:
    """A compiled policy: its modules and data in one interpreter, built once, queried per input.

    Construction does every check that does not need an input (compiles,
    entry rules exist, data keys present) and raises :class:`ConfigError`.
    """

    def __init__(
        self,
        files: Iterable[RegoFile],
        data: Mapping[str, Any] | None = None,
        package: str = DEFAULT_PACKAGE,
        *,
        tests: bool = False,
    ) -> None:
        all_files = list(files)
        self.package = package
        self.data = dict(data or {})
        self.files = [f for f in all_files if tests or not f.is_test]
        if not self.files:
            raise ConfigError("no Rego modules to evaluate (only *_test.rego files)")
        self.facts: dict[str, ModuleFacts] = {f.name: scan(f.name, f.source) for f in self.files}
        for facts in self.facts.values():
            if facts.package is None:
                raise ConfigError("Rego module declares no package", where=facts.path)
            if facts.whole_input_with:
                raise ConfigError(
                    "`with input as ...` replaces the whole input, which crashes regopy 1.5",
                    where=f"{facts.path}:{facts.whole_input_with[0]}",
                    hint="replace the parts the rule reads: `with input.metrics as {...} with input.gates as {...}`",
                )
        roots = {f.package.split(".")[0] for f in self.facts.values() if f.package}
        clash = sorted(set(self.data) & roots)
        if clash:
            raise ConfigError(
                f"data key {clash[0]!r} is also the root of a Rego package",
                where="gates.policy_gate.data",
                hint="rename the threshold: data and packages share the `data` document",
            )
        self.rules: dict[str, tuple[str, int]] = {}
        for facts in self.facts.values():
            if facts.package == package:
                for rule, line in facts.rules.items():
                    self.rules.setdefault(rule, (facts.path, line))
        if not tests:
            self._check_entry_points(roots)
        self._interp = Interpreter({f.name: f.source for f in self.files}, self.data)
        if not tests:
            path = package.replace(".", "/")
            self._interp.build([f"{path}/{rule}" for rule in ENTRY_RULES])

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        text: str | None = None,
        data: Mapping[str, Any] | None = None,
        package: str = DEFAULT_PACKAGE,
    ) -> PolicyEngine:
        return cls(load_rego(path, text=text), data, package)

    # ----- static checks ------------------------------------------------------------------------------
    def _check_entry_points(self, roots: set[str]) -> None:
        packages = sorted({f.package for f in self.facts.values() if f.package})
        if self.package not in packages:
            raise ConfigError(
                f"no Rego module declares package {self.package}",
                where=", ".join(f.path for f in self.facts.values()),
                hint=f"packages found: {', '.join(packages)}; set gates.policy_gate.package (or --package)",
            )
        if not any(r in self.rules for r in ENTRY_RULES):
            raise ConfigError(
                f"package {self.package} has no deny or warn rule: nothing could ever block",
                where=", ".join(f.path for f in self.facts.values() if f.package == self.package),
                hint="write `deny contains msg if { ... }` (Conftest convention)",
            )
        missing = [
            (facts.path, ref)
            for facts in self.facts.values()
            for ref in facts.refs
            if ref.root == "data" and ref.name not in roots and ref.name not in self.data
        ]
        if missing:
            path, ref = missing[0]
            names = sorted({r.name for _, r in missing})
            raise ConfigError(
                f"the policy reads data.{ref.name}, which the policy data does not set "
                f"(an unset threshold would make the rule undefined, never a denial)",
                where=f"{path}:{ref.line}",
                hint="set "
                + ", ".join(f"gates.policy_gate.data.{n}" for n in names)
                + " in the policy file (CLI: --data FILE)",
            )

    def required(self) -> dict[str, list[str]]:
        """Names the rules read: ``{"metrics": [...], "gates": [...], "data": [...]}``, sorted."""
        out: dict[str, set[str]] = {"metrics": set(), "gates": set(), "data": set()}
        for facts in self.facts.values():
            for ref in facts.refs:
                if ref.root in out and not (ref.root == "data" and ref.name not in self.data):
                    out[ref.root].add(ref.name)
        return {k: sorted(v) for k, v in out.items()}

    # ----- evaluation -----------------------------------------------------------------------------
    def _missing(self, document: Mapping[str, Any]) -> list[Missing]:
        found: dict[tuple[str, str], Missing] = {}
        for facts in self.facts.values():
            for ref in facts.refs:
                if ref.root not in ("metrics", "gates") or (ref.root, ref.name) in found:
                    continue
                section = document.get(ref.root)
                if not isinstance(section, Mapping) or ref.name not in section:
                    found[(ref.root, ref.name)] = Missing(ref, facts.path, "missing")
                    continue
                value = section[ref.name]
                if ref.root == "metrics" and not _is_number(value):
                    found[(ref.root, ref.name)] = Missing(ref, facts.path, f"not a number ({value!r})")
        return list(found.values())

    def evaluate(self, document: Mapping[str, Any]) -> Evaluation:
        """Evaluate ``deny`` and ``warn`` of the package on ``document``, each alone.

        Raises :class:`ConfigError` for an entry rule that is undefined or not a
        set, and for a Rego error during evaluation.
        """
        check_input(document)
        t0 = time.perf_counter()
        missing = self._missing(document)
        self._interp.set_bundle_input(document)
        found: dict[str, tuple[Message, ...]] = {}
        for rule in ENTRY_RULES:
            ref = f"data.{self.package}.{rule}"
            value = self._interp.query_entry(f"{self.package.replace('.', '/')}/{rule}")
            found[rule] = self._messages(rule, ref, value)
        return Evaluation(found["deny"], found["warn"], tuple(missing), time.perf_counter() - t0)

    def _where(self, rule: str) -> str | None:
        loc = self.rules.get(rule)
        return f"{loc[0]}:{loc[1]}" if loc else None

    def _messages(self, rule: str, ref: str, value: Value) -> tuple[Message, ...]:
        if value.kind == "undefined":
            if rule in self.rules:
                raise ConfigError(
                    f"{ref} is undefined: a complete rule whose body failed decides nothing",
                    where=self._where(rule),
                    hint=f"write `{rule} contains msg if {{ ... }}` (a set, empty when nothing matches)",
                )
            return ()
        if value.kind == "object":
            raise ConfigError(
                f"{ref} is an object, not a set: this is the Rego v0 form `{rule}[msg] {{ ... }}`",
                where=self._where(rule),
                hint=f"write `{rule} contains msg if {{ ... }}` (rego.v1)",
            )
        if value.kind != "set":
            raise ConfigError(
                f"{ref} is a {value.kind}, not a set of messages",
                where=self._where(rule),
                hint=f"write `{rule} contains msg if {{ ... }}`",
            )
        out = []
        for item in value.value or []:
            if isinstance(item, str):
                out.append(Message(rule, item, None, None, item))
            elif isinstance(item, Mapping) and isinstance(item.get("msg"), str):
                mid = item.get("id") if isinstance(item.get("id"), str) and item.get("id") else None
                sev = item.get("severity") if item.get("severity") in _SEVERITIES else None
                out.append(Message(rule, item["msg"], mid, sev, item))
            else:  # still a denial: an odd message never turns one into a pass
                import json

                out.append(Message(rule, json.dumps(item, sort_keys=True), None, None, item))
        return tuple(sorted(out, key=lambda m: (m.text, m.id or "")))

    # ----- the policy's own tests -------------------------------------------------------------
    def test_rules(self) -> list[tuple[str, str, int]]:
        """(data.<package>.<rule>, file, line) of every ``test_*`` rule."""
        seen: dict[str, tuple[str, str, int]] = {}
        for facts in self.facts.values():
            for rule, line in facts.rules.items():
                if rule.startswith("test_"):
                    ref = f"data.{facts.package}.{rule}"
                    seen.setdefault(ref, (ref, facts.path, line))
        return sorted(seen.values())

    def run_tests(self) -> list[TestOutcome]:
        """Run each ``test_*`` rule alone: it passes when it is ``true``; undefined, false or an error fail."""
        self._interp.set_input({})
        outcomes = []
        for ref, path, line in self.test_rules():
            try:
                value = self._interp.query(ref)
            except ConfigError as exc:
                outcomes.append(TestOutcome(ref, path, line, False, exc.message))
                continue
            if value.kind == "boolean" and value.value is True:
                outcomes.append(TestOutcome(ref, path, line, True))
            else:
                detail = "undefined" if value.kind == "undefined" else f"{value.kind} {value.value!r}"
                outcomes.append(TestOutcome(ref, path, line, False, detail))
        return outcomes


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_input(document: Any) -> None:
    """The input is ``{"metrics": {name: number}, "gates": {gate: result}, ...}``; raises ConfigError otherwise."""
    if not isinstance(document, Mapping):
        raise ConfigError("the policy input must be a JSON object with metrics and gates")
    for key in ("metrics", "gates"):
        if key in document and not isinstance(document[key], Mapping):
            raise ConfigError(f"input.{key} must be an object, not {type(document[key]).__name__}")
    for name, result in (document.get("gates") or {}).items():
        if not isinstance(result, Mapping):
            raise ConfigError(f"input.gates.{name} must be a gate result object")
