"""Python sources: Hugging Face Hub loads without a pinned commit, and ``trust_remote_code=True``.

A Hub repository is mutable: ``from_pretrained("org/model")`` fetches
whatever the default branch holds today, and ``trust_remote_code=True``
executes Python shipped with it. The scan walks the syntax tree (no import,
no execution) and reports:

* ``KFPG-HF-NO-REVISION``: a Hub load (``from_pretrained``, ``hf_hub_download``,
  ``snapshot_download``, ``load_dataset``, ``pipeline(model=...)``,
  ``SentenceTransformer``) without ``revision=`` set to a 40-hex commit id (a
  branch or tag name can be moved);
* ``KFPG-HF-TRUST-REMOTE-CODE``: any call passing ``trust_remote_code=True``.

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
    def __init__(self, path: str, constants: dict[str, str], field: str | None) -> None:
        self.path = path
        self.constants = constants
        self.field = field
        self.findings: list[SourceFinding] = []

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
        # **{"trust_remote_code": True} is the same as the keyword.
        for k in node.keywords:
            if k.arg is None and isinstance(k.value, ast.Dict):
                for key, value in zip(k.value.keys, k.value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        kwargs[key.value] = value
        trc = kwargs.get("trust_remote_code")
        name = _func_name(node) or "<call>"
        if isinstance(trc, ast.Constant) and trc.value is True:
            self.findings.append(SourceFinding(
                TRUST_REMOTE_CODE,
                f"{name}(..., trust_remote_code=True) runs Python code downloaded with the model",
                self._loc(trc), {"call": name}))
        self._hub_load(node, name, kwargs)
        self.generic_visit(node)

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
    v = _Visitor(path, _constants(tree), field)
    v.visit(tree)
    return v.findings


def parse_python(path: str | Path) -> Inventory:
    """Scan one ``.py`` file."""
    p = Path(path)
    text, record = read_input(p, "Python source")
    return Inventory(source_findings=tuple(scan_source(text, str(p))), inputs=(record,))



