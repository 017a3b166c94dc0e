"""Python sources: Hugging Face Hub loads without a pinned commit, and ``trust_remote_code=True``.

A Hub repository is mutable: ``from_pretrained("org/model")`` fetches
whatever the default branch holds today, and ``trust_remote_code=True``
executes Python shipped with it. The scan walks the syntax tree (no import,
no execution) and reports:

* ``KFPG-HF-NO-REVISION``: a Hub load (``from_pretrained``, ``hf_hub_download``,
  ``snapshot_download``, ``load_dataset``, ``pipeline(model=...)``,
  ``SentenceTransformer``) without ``revision=`` set to a 40-hex commit id (a
  branch or tag name can be moved);
* ``KFPG-HF-TRUST-REMOTE-CODE``: any call passing ``trust_remote_code`` a value
  that is not a literal false, directly or through a keyword mapping
  (``**{...}``, ``**dict(...)``, ``**kw`` where ``kw`` is bound to one or given
  the key by ``kw[...] =``/``update``/``setdefault`` anywhere in the file,
  ``model_kwargs={...}``).

Call names are followed through aliases (``load = AutoModel.from_pretrained``,
``import ... as``). Bindings are collected flow-insensitively: a binding on any
path counts (fail closed).

Model ids that are local paths (``./model``, ``/mnt/model``) are not Hub
loads; a model id held in a variable cannot be judged statically and is not
reported unless the function always reads the Hub (``hf_hub_download``,
``snapshot_download``). A module-level string constant used as ``revision=``
is resolved.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kfp_gates.components.common.result import Location

from ..model import Inventory, SourceFinding
from ._common import read_input

NO_REVISION = "KFPG-HF-NO-REVISION"
TRUST_REMOTE_CODE = "KFPG-HF-TRUST-REMOTE-CODE"
UNPARSEABLE = "KFPG-SRC-UNPARSEABLE"

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_ALWAYS_HUB = {"hf_hub_download", "snapshot_download"}
_MAYBE_HUB = {"from_pretrained", "load_dataset", "SentenceTransformer", "CrossEncoder"}


def _func_name(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return None


def _looks_local(model_id: str) -> bool:
    return model_id.startswith(("/", "./", "../", "~", "file:")) or model_id.endswith((".bin", ".pt", ".safetensors"))


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: str, constants: dict[str, str], field: str | None, tree: ast.AST | None = None) -> None:
        self.path = path
        self.constants = constants
        self.field = field
        self.findings: list[SourceFinding] = []
        self.bindings, self.extra_keys, self.aliases = _bindings(tree) if tree is not None else ({}, {}, {})

    def _loc(self, node: ast.AST) -> Location:
        return Location(path=self.path, line=getattr(node, "lineno", None), column=getattr(node, "col_offset", 0) + 1,
                        field=self.field)

    def _literal(self, node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        return None

    def visit_Call(self, node: ast.Call) -> None:
        kwargs: dict[str, ast.AST] = {k.arg: k.value for k in node.keywords if k.arg}
        # **{...}, **dict(...) and **kw (kw bound to either anywhere, or given the key later) are the keyword.
        spread = next((v for k in node.keywords if k.arg is None
                       for v in self._spread_values(k.value, "trust_remote_code")), None)
        if "trust_remote_code" not in kwargs and spread is not None:
            kwargs["trust_remote_code"] = spread
        trc = kwargs.get("trust_remote_code")
        name = self._call_name(node) or "<call>"
        if name in _DICT_BUILDERS:
            trc = None  # judged where the mapping is used
        elif trc is None:
            # model_kwargs={"trust_remote_code": True} and similar nested mappings
            trc = next((v for k in node.keywords if k.arg for v in self._spread_values(k.value, "trust_remote_code")),
                       None)
        if trc is not None and self._truthy(trc):
            via = "" if any(trc is k.value for k in node.keywords if k.arg) else " (through a keyword mapping)"
            known = isinstance(trc, ast.Constant) or (isinstance(trc, ast.Name) and trc.id in self.bindings)
            shown = "True" if known else "<a value not known statically>"
            self.findings.append(SourceFinding(
                TRUST_REMOTE_CODE,
                f"{name}(..., trust_remote_code={shown}){via} runs Python code downloaded with the model",
                self._loc(trc if via == "" else node), {"call": name}))
        for k in node.keywords:
            if k.arg is None:
                for key in ("revision", "model", "repo_id"):
                    value = next(iter(self._spread_values(k.value, key)), None)
                    if key not in kwargs and value is not None:
                        kwargs[key] = value
        self._hub_load(node, name, kwargs)
        self.generic_visit(node)

    def _call_name(self, node: ast.Call) -> str | None:
        """The called function's name, through aliases (``load = AutoModel.from_pretrained``, ``import ... as``)."""
        name = _func_name(node)
        if isinstance(node.func, ast.Name):
            return self.aliases.get(node.func.id, name)
        return name

    def _truthy(self, node: ast.AST) -> bool:
        """True unless ``node`` is a literal falsy value (or a name only ever bound to one): fail closed."""
        if isinstance(node, ast.Constant):
            return bool(node.value)
        if isinstance(node, ast.Name) and node.id in self.bindings:
            values = self.bindings[node.id]
            return any(not isinstance(v, ast.Constant) or bool(v.value) for v in values)
        return not (isinstance(node, ast.Name) and node.id in ("False", "None"))

    def _spread_values(self, node: ast.AST, key: str, depth: int = 0) -> list[ast.AST]:
        """Values ``key`` may take in the mapping ``node`` spread with ``**``."""
        if depth > 8:
            return []
        if isinstance(node, ast.Dict):
            out: list[ast.AST] = []
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:  # {**other}
                    out.extend(self._spread_values(v, key, depth + 1))
                elif isinstance(k, ast.Constant) and k.value == key:
                    out.append(v)
            return out
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            out = [kw.value for kw in node.keywords if kw.arg == key]
            for kw in node.keywords:
                if kw.arg is None:
                    out.extend(self._spread_values(kw.value, key, depth + 1))
            for a in node.args:
                out.extend(self._spread_values(a, key, depth + 1))
            return out
        if isinstance(node, ast.Name):
            found: list[ast.AST] = list(self.extra_keys.get((node.id, key), ()))
            for bound in self.bindings.get(node.id, ()):
                found.extend(self._spread_values(bound, key, depth + 1))
            return found
        return []

    def _hub_load(self, node: ast.Call, name: str, kwargs: dict[str, ast.AST]) -> None:
        if name not in _ALWAYS_HUB and name not in _MAYBE_HUB and name != "pipeline":
            return
        if name == "pipeline":
            target = kwargs.get("model")
            if target is None:
                return
        else:
            target = node.args[0] if node.args else (
                kwargs.get("repo_id") or kwargs.get("pretrained_model_name_or_path") or kwargs.get("path")
                or kwargs.get("model_name_or_path"))
        model_id = self._literal(target) if target is not None else None
        if name not in _ALWAYS_HUB and (model_id is None or _looks_local(model_id)):
            return
        revision = kwargs.get("revision")
        rev_text = self._literal(revision) if revision is not None else None
        if rev_text is not None and _COMMIT.match(rev_text):
            return
        shown = model_id or "<variable>"
        if revision is None:
            why = "without revision="
        elif rev_text is None:
            why = "with a revision that is not a literal commit id"
        else:
            why = f"with revision={rev_text!r}, a branch or tag that can move"
        self.findings.append(SourceFinding(
            NO_REVISION,
            f"{name}({shown!r}) loads from the Hugging Face Hub {why}; pin revision= to a 40-hex commit id",
            self._loc(node), {"call": name, "model": shown, "revision": rev_text}))


_MUTATORS = {"update", "setdefault", "__setitem__"}
_DICT_BUILDERS = {"dict", *_MUTATORS}


def _bindings(
    tree: ast.AST,
) -> tuple[dict[str, list[ast.AST]], dict[tuple[str, str], list[ast.AST]], dict[str, str]]:
    """Every value a name is bound to anywhere in the file, keys added to dict names later, and call aliases.

    Deliberately flow-insensitive: a name bound to a dict with
    ``trust_remote_code=True`` on any path counts (fail closed).
    """
    bindings: dict[str, list[ast.AST]] = {}
    extra: dict[tuple[str, str], list[ast.AST]] = {}
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if value is None:
                continue
            for t in targets:
                if isinstance(t, ast.Name):
                    bindings.setdefault(t.id, []).append(value)
                    if isinstance(value, ast.Attribute):
                        aliases[t.id] = value.attr  # load = AutoModel.from_pretrained
                    elif isinstance(value, ast.Name):
                        aliases[t.id] = aliases.get(value.id, value.id)
                elif (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)
                      and isinstance(t.slice, ast.Constant) and isinstance(t.slice.value, str)):
                    extra.setdefault((t.value.id, t.slice.value), []).append(value)  # kw["key"] = value
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name.rsplit(".", 1)[-1]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.attr in _MUTATORS):
            owner = node.func.value.id
            for kw in node.keywords:
                if kw.arg:
                    extra.setdefault((owner, kw.arg), []).append(kw.value)  # kw.update(key=value)
            args = node.args
            first = args[0] if args else None
            if node.func.attr in ("setdefault", "__setitem__") and len(args) >= 2 \
                    and isinstance(first, ast.Constant) and isinstance(first.value, str):
                extra.setdefault((owner, first.value), []).append(args[1])
            elif node.func.attr == "update" and args and isinstance(args[0], ast.Dict):
                for k, v in zip(args[0].keys, args[0].values, strict=True):
                    if isinstance(k, ast.Constant) and isinstance(k.value, str):
                        extra.setdefault((owner, k.value), []).append(v)
    return bindings, extra, aliases


def _constants(tree: ast.Module) -> dict[str, str]:
    out: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = stmt.value.value
    return out


def scan_source(code: str, path: str, *, field: str | None = None) -> list[SourceFinding]:
    """Findings in one Python source text. Code that does not parse is itself a finding (not scanned = not safe)."""
    try:
        tree = ast.parse(code, filename=path)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return [SourceFinding(UNPARSEABLE, f"Python source does not parse ({getattr(exc, 'msg', exc)}); not scanned",
                              Location(path=path, line=line if line and line > 0 else None, field=field))]
    v = _Visitor(path, _constants(tree), field, tree)
    v.visit(tree)
    return v.findings


def parse_python(path: str | Path) -> Inventory:
    """Scan one ``.py`` file."""
    p = Path(path)
    text, record = read_input(p, "Python source")
    return Inventory(source_findings=tuple(scan_source(text, str(p))), inputs=(record,))



