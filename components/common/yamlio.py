"""Strict YAML/JSON loading with line numbers for error messages.

PyYAML silently keeps the last of two duplicate keys; in a security policy that
hides an override, so duplicates are an error here. The composed node tree is
kept so a validation error on ``gates.model_scan.allow[2]`` can name its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, InputNotFoundError


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first defined on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class LoadedDocument:
    """A parsed YAML/JSON document and a way to find the line of a field path."""

    def __init__(self, path: str, data: Any, node: yaml.Node | None) -> None:
        self.path = path
        self.data = data
        self._node = node

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """1-based line of the value at ``loc`` (or of the deepest existing parent)."""
        node = self._node
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        line = k.start_mark.line + 1
                        node = v
                        break
                else:
                    return line
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def load_document(path: str | Path, *, what: str = "file") -> LoadedDocument:
    """Parse a YAML (or JSON, a YAML subset) file strictly.

    Raises :class:`InputNotFoundError` when the file is missing and
    :class:`ConfigError` naming the line when it does not parse.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputNotFoundError(f"{what} not found", where=str(p)) from None
    except IsADirectoryError:
        raise InputNotFoundError(f"{what} is a directory, expected a file", where=str(p)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text (byte {exc.start})", where=str(p)) from None
    return parse_document(text, str(p), what=what)


# No policy or suite needs more; the limits keep a hostile file a usage error (exit 2)
# instead of a RecursionError or an int-conversion ValueError deep in the parser.
MAX_DEPTH = 64
MAX_INT_DIGITS = 100
_INT_TAG = "tag:yaml.org,2002:int"


def _check_shape(node: yaml.Node | None, name: str, what: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and integer literals longer than :data:`MAX_INT_DIGITS`."""
    stack: list[tuple[yaml.Node, int]] = [(node, 1)] if node is not None else []
    while stack:
        current, depth = stack.pop()
        where = f"{name}:{current.start_mark.line + 1}"
        if depth > MAX_DEPTH:
            raise ConfigError(f"{what} is nested more than {MAX_DEPTH} levels deep", where=where)
        if isinstance(current, yaml.ScalarNode):
            digits = len(current.value.lstrip("+-").replace("_", ""))
            if current.tag == _INT_TAG and digits > MAX_INT_DIGITS:
                raise ConfigError(
                    f"{what} has an integer literal of {digits} digits (at most {MAX_INT_DIGITS})", where=where
                )
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def parse_document(text: str, name: str, *, what: str = "document") -> LoadedDocument:
    """Parse YAML/JSON ``text`` strictly; raises :class:`ConfigError` naming ``name`` (and the line) otherwise.

    Besides syntax, refuses duplicate keys, nesting deeper than
    :data:`MAX_DEPTH` and integer literals longer than :data:`MAX_INT_DIGITS`.
    """
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
        _check_shape(node, name, what)
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except RecursionError:
        raise ConfigError(f"{what} is nested too deeply to parse (at most {MAX_DEPTH} levels)", where=name) from None
    except ValueError as exc:  # a scalar the constructor cannot convert (e.g. a date like 2026-13-45)
        raise ConfigError(f"{what} is not valid YAML/JSON: {exc}", where=name) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{what} is not valid YAML/JSON: {problem}", where=where) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} is not valid YAML/JSON: {exc}", where=name) from None
    return LoadedDocument(name, data, node)
