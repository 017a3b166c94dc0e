"""Which imports a model pickle may make: allowlist, denylist, and the verdict for one global.

Both lists are data shipped in the package (``data/safe_globals.json`` and
``data/dangerous_globals.json``) so that reviewers can read and diff them
without reading code. Three verdicts:

* ``dangerous`` - on the denylist, or reaches a denylisted module or a
  dunder attribute through a dotted name. Always blocks; cannot be allowed.
* ``safe`` - on the allowlist (built in, or added by the policy's ``allow``).
* ``unknown`` - everything else. Blocks by default (the fast-track tier may
  turn it into a warning), because "not known to be bad" is not "safe".

Python 2 names (``__builtin__``, ``copy_reg``) are mapped the way the
unpickler maps them, and both spellings are judged; the worse verdict wins.
"""

from __future__ import annotations

import _compat_pickle
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources

from kfp_gates.components.common.errors import ConfigError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Verdict(str, Enum):
    SAFE = "safe"
    UNKNOWN = "unknown"
    DANGEROUS = "dangerous"

    @property
    def rank(self) -> int:
        return ("safe", "unknown", "dangerous").index(self.value)


@dataclass(frozen=True)
class Judgement:
    """The verdict on ``module.name`` and why."""

    module: str
    name: str
    verdict: Verdict
    reason: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class _Package:
    prefix: str
    exclude: tuple[str, ...]


def _load(name: str) -> dict:
    return json.loads(resources.files("kfp_gates.components.model_scan").joinpath("data", name).read_text("utf-8"))


@lru_cache(maxsize=1)
def _builtin_lists() -> tuple[frozenset[str], tuple[_Package, ...], frozenset[str], dict[str, str], dict[str, str],
                              frozenset[str]]:
    safe = _load("safe_globals.json")
    bad = _load("dangerous_globals.json")
    exact = set(safe["exact"]) | {f"numpy.{n}" for n in safe["numpy_ufuncs"]}
    # Exact (module, qualname) names of library classes and vetted reconstructors, generated from the
    # pinned library versions (sdk/tools/build_model_scan_allowlist.py): never a wildcard.
    for names in _load("generated_globals.json")["globals"].values():
        exact.update(names)
    packages = tuple(_Package(p["prefix"], tuple(p["exclude"])) for p in safe["packages"])
    return (
        frozenset(exact),
        packages,
        frozenset(safe["excluded_module_parts"]),
        dict(bad["modules"]),
        dict(bad["globals"]),
        frozenset(bad["attributes"]),
    )


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


class GlobalsPolicy:
    """Judge imports against the shipped lists plus extra allowed entries.

    ``allow`` entries are ``module.name`` (exact) or ``module.*`` (every plain
    name of that module and its submodules). An entry that the denylist
    covers raises :class:`ConfigError`: the denylist cannot be overridden.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        exact, packages, excluded_parts, bad_modules, bad_globals, bad_attrs = _builtin_lists()
        self._bad_modules = bad_modules
        self._bad_globals = bad_globals
        self._bad_attrs = bad_attrs
        self._bad_module_leaves = frozenset(m.split(".")[-1] for m in bad_modules)
        self._excluded_parts = excluded_parts
        self._packages = list(packages)
        extra_exact: set[str] = set()
        self.allow = tuple(sorted(set(allow)))
        for entry in self.allow:
            entry = entry.strip()
            if entry.endswith(".*") and _DOTTED.match(entry[:-2]):
                mod = entry[:-2]
                if self._module_danger(mod):
                    raise ConfigError(
                        f"cannot allow {entry!r}: the module is on the dangerous-globals denylist",
                        where="gates.model_scan.allow",
                        hint="dangerous globals always block; retrain or re-export the model without them",
                    )
                self._packages.append(_Package(mod, ()))
                continue
            if not _DOTTED.match(entry) or "." not in entry:
                raise ConfigError(
                    f"invalid allow entry {entry!r}",
                    where="gates.model_scan.allow",
                    hint="use 'module.name' (e.g. mypkg.models.MyEstimator) or 'module.*'",
                )
            mod, _, name = entry.rpartition(".")
            judged = self._danger(mod, name)
            if judged is not None:
                raise ConfigError(
                    f"cannot allow {entry!r}: {judged}",
                    where="gates.model_scan.allow",
                    hint="dangerous globals always block; retrain or re-export the model without them",
                )
            extra_exact.add(entry)
        self._exact = exact | extra_exact
        self._cache: dict[tuple[str, str], Judgement] = {}

    # ------------------------------------------------------------------
    def judge(self, module: str, name: str) -> Judgement:
        """The verdict on importing ``name`` from ``module`` (never raises)."""
        key = (module, name)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        # Python 2 names: the loader maps them (fix_imports) for protocols 0-2, and the Python 2
        # module does not exist otherwise, so the mapped name decides - unless the name as
        # written is itself dangerous.
        spellings = _spellings(module, name)
        worst = self._judge_one(*spellings[0])
        if len(spellings) > 1 and worst.verdict is not Verdict.DANGEROUS:
            worst = self._judge_one(*spellings[1])
        result = Judgement(module, name, worst.verdict, worst.reason)
        self._cache[key] = result
        return result

    def _module_danger(self, module: str) -> str | None:
        for bad, why in self._bad_modules.items():
            if _under(module, bad):
                return f"module {bad} is denylisted: {why}"
        return None

    def _danger(self, module: str, name: str) -> str | None:
        why = self._module_danger(module)
        if why:
            return why
        full = f"{module}.{name}"
        if full in self._bad_globals:
            return f"denylisted: {self._bad_globals[full]}"
        parts = name.split(".")
        if len(parts) > 1:
            for part in parts:
                if part.startswith("__") and part.endswith("__"):
                    return f"dotted name reaches the special attribute {part!r} (attribute traversal)"
                if part in self._bad_attrs:
                    return f"dotted name reaches {part!r}, which runs code or touches files"
            # A dotted name may walk into another module through an attribute: judge each prefix.
            for i in range(1, len(parts)):
                sub = f"{module}.{'.'.join(parts[:i])}"
                if self._module_danger(sub) is None and f"{sub}.{parts[i]}" in self._bad_globals:
                    return f"dotted name reaches {sub}.{parts[i]}: {self._bad_globals[sub + '.' + parts[i]]}"
                if parts[i - 1] in self._bad_module_leaves:
                    return f"dotted name reaches module attribute {parts[i - 1]!r}, which is denylisted"
        return None

    def _judge_one(self, module: str, name: str) -> Judgement:
        if module.startswith("<"):  # extension registry, unresolvable STACK_GLOBAL operands
            return Judgement(module, name, Verdict.UNKNOWN, "cannot be resolved without loading the file")
        danger = self._danger(module, name)
        if danger:
            return Judgement(module, name, Verdict.DANGEROUS, danger)
        full = f"{module}.{name}"
        if full in self._exact:
            return Judgement(module, name, Verdict.SAFE, "allowlisted")
        if not _DOTTED.match(module) or not _IDENT.match(name):
            return Judgement(module, name, Verdict.UNKNOWN, "not an allowlisted global (dotted or unusual name)")
        if name.startswith("__") and name.endswith("__"):
            return Judgement(module, name, Verdict.UNKNOWN, "special attribute of a module")
        if name in self._bad_attrs:
            return Judgement(module, name, Verdict.UNKNOWN, f"{name!r} is a name that often loads or runs code")
        for pkg in self._packages:
            prefix = pkg.prefix.rstrip(".")
            inside = module.startswith(pkg.prefix) if pkg.prefix.endswith(".") else _under(module, prefix)
            if not inside:
                continue
            if any(_under(module, ex) for ex in pkg.exclude):
                continue
            if any(part in self._excluded_parts for part in module.split(".")):
                continue
            return Judgement(module, name, Verdict.SAFE, f"allowlisted package {prefix}")
        return Judgement(module, name, Verdict.UNKNOWN, "not on the allowlist")


def _spellings(module: str, name: str) -> list[tuple[str, str]]:
    """The (module, name) pairs a loader may resolve: as written, and as Python 2 names map."""
    out = [(module, name)]
    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        out.append(mapped)
    elif module in _compat_pickle.IMPORT_MAPPING:
        out.append((_compat_pickle.IMPORT_MAPPING[module], name))
    return out
