"""The one place that talks to regopy (rego-cpp), and every way it can go wrong, as typed values.

regopy 1.5.2 behaviours this module absorbs (each checked by a test):

* a syntax error raises ``RegoError`` from ``add_module`` whose text names the
  file and a byte offset, not a line: turned into ``file:line:col``;
* the interpreter prints errors to stdout unless its log level is ``NONE``
  (stdout is the CLI's report): always ``NONE``;
* some compile errors ("Function not found") only surface at query time, as an
  error node in an output that ``ok()`` calls fine and that ``regopy.Output``
  then fails to parse as JSON: outputs are read here from the C API, by node kind;
* the old v0 form ``deny[msg] {…}`` parses and evaluates to an *object*; a set
  and an array both print as JSON lists: the node kind tells them apart;
* ``with input as {...}`` (replacing the whole input) crashes the process
  (segfault); ``with input.metrics as {...}`` works. The engine refuses the
  first form before it reaches the interpreter.
* ``strict_built_in_errors`` crashes on a division by zero: left off.

This module imports regopy lazily, so importing the gate stays cheap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfp_gates.components.common.errors import ConfigError

from ._source import line_of_offset

_ERROR_AT = re.compile(r"\(error \d+:(?P<file>[^|\n]*)\|(?P<offset>\d+)\|(?P<length>\d+)")
_ERROR_MSG = re.compile(r"\(errormsg \d+:(?P<msg>[^\n]*?)\)\s*$", re.M)


def _regopy() -> Any:
    try:
        import regopy
    except ImportError:  # pragma: no cover - a declared dependency
        raise ConfigError(
            "the policy gate needs regopy (rego-cpp)", hint="pip install 'regopy>=1.5,<2'"
        ) from None
    return regopy


@dataclass(frozen=True)
class Value:
    """The value of one query: ``kind`` is set | object | array | string | number | boolean | null | undefined."""

    kind: str
    value: Any = None


_KINDS = {
    "Set": "set",
    "Object": "object",
    "Array": "array",
    "String": "string",
    "Int": "number",
    "Float": "number",
    "True_": "boolean",
    "False_": "boolean",
    "Boolean": "boolean",
    "Null": "null",
    "Undefined": "undefined",
}


def _error_text(raw: str) -> str:
    msgs = [m.group("msg") for m in _ERROR_MSG.finditer(raw)]
    return "; ".join(msgs) if msgs else raw.strip().splitlines()[0] if raw.strip() else "unknown Rego error"


class Interpreter:
    """One regopy interpreter holding the policy's modules and data, queried once per rule.

    Build it once per task (:class:`~.engine.PolicyEngine` does): adding the
    modules parses them; each query then costs about a millisecond.
    """

    def __init__(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        regopy = _regopy()
        self._regopy = regopy
        self._sources = dict(modules)
        self._interp = regopy.Interpreter()
        self._interp.log_level = regopy.LogLevel.NONE
        for name, source in modules.items():
            try:
                self._interp.add_module(name, source)
            except regopy.RegoError as exc:
                raise self.compile_error(str(exc)) from None
        try:
            self._interp.add_data_json(json.dumps(dict(data), allow_nan=False))
        except (regopy.RegoError, ValueError) as exc:
            raise ConfigError(f"the policy data cannot be loaded: {exc}", where="gates.policy_gate.data") from None

    def compile_error(self, raw: str) -> ConfigError:
        where = None
        m = _ERROR_AT.search(raw)
        if m and m.group("file") in self._sources:
            line, col = line_of_offset(self._sources[m.group("file")], int(m.group("offset")))
            where = f"{m.group('file')}:{line}:{col}"
        elif m and m.group("file"):
            where = m.group("file")
        return ConfigError(
            f"Rego does not compile: {_error_text(raw)}",
            where=where,
            hint="`kfp-gates policy test DIR` compiles the policy and runs its tests",
        )

    def set_input(self, document: Mapping[str, Any]) -> None:
        try:
            self._interp.set_input_term(json.dumps(dict(document), allow_nan=False))
        except (self._regopy.RegoError, ValueError) as exc:
            raise ConfigError(f"the policy input cannot be loaded: {exc}") from None

    def build(self, entrypoints: list[str]) -> None:
        """Compile the modules once into a bundle with these entry points (``main/deny``); see :meth:`query_entry`.

        Built once per task, an entry-point query costs well under a millisecond
        (benchmarks/RESULTS.md, "Policy gate"); :meth:`query` compiles on every call.
        """
        try:
            self._bundle = self._interp.build(None, entrypoints)
        except self._regopy.RegoError as exc:
            raise self.compile_error(str(exc)) from None
        self._runner = self._regopy.Interpreter()
        self._runner.log_level = self._regopy.LogLevel.NONE

    def set_bundle_input(self, document: Mapping[str, Any]) -> None:
        try:
            self._runner.set_input_term(json.dumps(dict(document), allow_nan=False))
        except (self._regopy.RegoError, ValueError) as exc:
            raise ConfigError(f"the policy input cannot be loaded: {exc}") from None

    def query_entry(self, entrypoint: str) -> Value:
        """Evaluate one entry point of the prebuilt bundle alone (``main/deny``)."""
        from regopy.rego_shared import rego_bundle_query_entrypoint

        ref = "data." + entrypoint.replace("/", ".")
        return self._read(rego_bundle_query_entrypoint(self._runner._impl, self._bundle._impl, entrypoint), ref)

    def query(self, ref: str) -> Value:
        """Evaluate one reference (``data.main.deny``) alone; a Rego error raises :class:`ConfigError`."""
        from regopy.rego_shared import rego_query

        return self._read(rego_query(self._interp._impl, ref), ref)

    def _read(self, impl: Any, ref: str) -> Value:
        from regopy.node import Node
        from regopy.rego_shared import rego_free_output, rego_output_node, rego_output_string

        try:
            text = rego_output_string(impl)
            if text == "undefined":
                return Value("undefined")
            node = Node(rego_output_node(impl))
            kind = node.kind.name
            if kind in ("Error", "ErrorSeq") or text.lstrip().startswith("("):
                raise self._runtime_error(text, ref)
            # Results -> Result -> Terms -> the one expression
            result = node.at(0) if kind == "Results" else node
            terms = result.at(0)
            if len(terms._children) == 0:
                return Value("undefined")
            term = terms.at(0)
            value = json.loads(self._regopy.rego_shared.rego_node_json(term._impl))
            return Value(_KINDS.get(term.kind.name, term.kind.name.lower()), value)
        finally:
            rego_free_output(impl)

    def _runtime_error(self, raw: str, ref: str) -> ConfigError:
        text = _error_text(raw)
        where = None
        m = re.search(r"Function not found: ([\w.]+)", text)
        if m:  # name the file and line that calls it
            call = re.compile(rf"(?<![\w.]){re.escape(m.group(1))}\s*\(")
            for name, source in self._sources.items():
                for n, line in enumerate(source.splitlines(), 1):
                    if call.search(line.split("#", 1)[0]):
                        where = f"{name}:{n}"
                        break
                if where:
                    break
        return ConfigError(
            f"Rego error evaluating {ref}: {text}",
            where=where,
            hint="`kfp-gates policy test DIR` compiles the policy and runs its tests",
        )
