"""Generate the model scan's exact allowlist of library globals from the pinned library versions.

    .venv/bin/python -m kfp_gates.sdk.tools.build_model_scan_allowlist            # write the data file
    .venv/bin/python -m kfp_gates.sdk.tools.build_model_scan_allowlist --check    # fail if it is stale
    make model-scan-allowlist

Why generated: package wildcards (``sklearn.*``) trusted every name a module happens to bind,
including re-exports (``sklearn.feature_selection._base.attrgetter`` is ``operator.attrgetter``,
``sklearn.model_selection._search.reduce`` is ``functools.reduce``). A pickle names a global as
``(module, qualname)`` and the loader resolves exactly that, so the allowlist is a set of exact
pairs, each checked here against the imported library:

* it is **defined where it claims**: ``obj.__module__ == module`` and ``obj.__qualname__ == name``
  (a re-export fails this and is left out);
* it is a **class** of a module that is not I/O, testing, parallelism or vendored code, and not a
  subclass of an I/O, thread, process or server base, nor named like one; or
* it is a **vetted function**: a reconstructor a library's ``__reduce__`` returns, listed below by
  hand after review, or a Cython ``__pyx_unpickle_<Class>`` of an allowed class of the same module.

The libraries are imported, so by default this runs inside the local isolation sandbox (Linux
namespaces, no network: importing a library runs its code); ``--no-sandbox`` runs in-process. The
output records the Python and library versions it was generated from; a library that is not
installed is recorded as missing and contributes nothing (its names stay unknown, so they block
with the ``--allow`` hint - never a silent pass).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "components" / "model_scan" / "data" / "generated_globals.json"

# distribution -> (import name, module roots enumerated, excluded module prefixes)
LIBRARIES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "scikit-learn": ("sklearn", ("sklearn",), (
        "sklearn.utils._testing", "sklearn.utils.estimator_checks", "sklearn.utils._joblib", "sklearn.utils.fixes",
        "sklearn.utils.discovery", "sklearn.utils._show_versions", "sklearn.utils._optional_dependencies",
        "sklearn.datasets", "sklearn.externals", "sklearn._build_utils", "sklearn.__check_build",
        "sklearn.experimental", "sklearn.utils.parallel", "sklearn.utils._plotting", "sklearn.inspection._plot",
        "sklearn.metrics._plot", "sklearn.calibration_plot", "sklearn._config", "sklearn.utils._user_interface",
        "sklearn.utils._estimator_html_repr", "sklearn.utils._repr_html",
    )),
    "pandas": ("pandas", ("pandas",), (
        "pandas.io", "pandas.plotting", "pandas.util", "pandas.core.computation", "pandas.compat", "pandas.api",
        "pandas.core.config_init", "pandas._config", "pandas.core.apply", "pandas.core.common", "pandas.conftest",
        "pandas._testing", "pandas.tests", "pandas.core.window.numba_", "pandas.core._numba", "pandas.core.util",
        "pandas.core.groupby.numba_", "pandas.core.interchange",
    )),
    "scipy": ("scipy", ("scipy.sparse", "scipy.stats", "scipy.spatial", "scipy.interpolate"), (
        "scipy.sparse._matrix_io", "scipy.sparse.linalg", "scipy.stats._mstats_basic", "scipy.sparse.csgraph",
    )),
    "xgboost": ("xgboost", ("xgboost",), (
        "xgboost.dask", "xgboost.spark", "xgboost.testing", "xgboost.collective", "xgboost.tracker",
        "xgboost.federated", "xgboost.plotting", "xgboost.callback",
    )),
    "lightgbm": ("lightgbm", ("lightgbm",), ("lightgbm.dask", "lightgbm.plotting", "lightgbm.callback")),
}

EXCLUDED_PARTS = frozenset({
    "tests", "testing", "_testing", "conftest", "io", "_io", "externals", "_vendor", "vendored", "parallel",
    "_parallel", "plotting", "_plotting", "_show_versions", "display", "_display",
})
# Class names that open files, sockets, processes or threads.
_RISKY_NAME_PARTS = ("Writer", "Reader", "Server", "Socket", "Thread", "Process", "Pool", "Executor", "Popen",
                     "File", "Handler", "Connection", "Client", "Opener", "Loader", "Shell", "Display",
                     "Parallel", "Backend", "Tracker", "Callback")

# Reviewed functions that libraries' __reduce__ methods return (reconstructors), or that estimators keep as
# parameters (score functions). Each is checked to exist and to be defined where it is named.
VETTED_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "pandas": (
        "pandas._libs.internals._unpickle_block", "pandas.core.internals.blocks.new_block",
        "pandas._libs.tslibs.timestamps._unpickle_timestamp", "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
        "pandas.core.indexes.base._new_Index", "pandas.core.indexes.period._new_PeriodIndex",
        "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked", "pandas._libs.interval.__pyx_unpickle_IntervalMixin",
    ),
    "scikit-learn": (
        "sklearn.feature_selection._univariate_selection.f_classif",
        "sklearn.feature_selection._univariate_selection.f_regression",
        "sklearn.feature_selection._univariate_selection.chi2",
        "sklearn.feature_selection._univariate_selection.r_regression",
        "sklearn.feature_selection._mutual_info.mutual_info_classif",
        "sklearn.feature_selection._mutual_info.mutual_info_regression",
        "sklearn.metrics._regression.mean_squared_error", "sklearn.metrics._regression.mean_absolute_error",
        "sklearn.metrics._regression.r2_score", "sklearn.metrics._classification.accuracy_score",
        "sklearn.metrics._classification.f1_score", "sklearn.metrics._classification.log_loss",
        "sklearn.metrics._ranking.roc_auc_score", "sklearn.metrics.pairwise.euclidean_distances",
        # Cython reconstructors of KDTree/BallTree/DistanceMetric: newObj(cls) is cls.__new__(cls); the class
        # it gets is an import of its own, judged on its own.
        "sklearn.neighbors._kd_tree.newObj", "sklearn.neighbors._ball_tree.newObj",
        "sklearn.metrics._dist_metrics.newObj",
    ),
    "scipy": (
        "scipy.stats._distn_infrastructure.rv_frozen", "scipy.sparse._data._data_matrix",
    ),
    "xgboost": (),
    "lightgbm": (),
}

_RISKY_BASES = ("io.IOBase", "threading.Thread", "socketserver.BaseServer", "subprocess.Popen",
                "multiprocessing.process.BaseProcess", "concurrent.futures._base.Executor", "socket.socket",
                "contextlib.AbstractContextManager", "logging.Handler", "http.server.BaseHTTPRequestHandler")


def _risky_bases() -> tuple[type, ...]:
    out = []
    for dotted in _RISKY_BASES:
        mod, _, name = dotted.rpartition(".")
        try:
            out.append(getattr(importlib.import_module(mod), name))
        except (ImportError, AttributeError):
            continue
    return tuple(out)


def _excluded(modname: str, excludes: tuple[str, ...]) -> bool:
    if any(modname == e or modname.startswith(e + ".") for e in excludes):
        return True
    return any(part in EXCLUDED_PARTS for part in modname.split("."))


def _modules(roots: tuple[str, ...], excludes: tuple[str, ...], problems: list[str]) -> list[Any]:
    mods = []
    for root in roots:
        try:
            pkg = importlib.import_module(root)
        except Exception as exc:  # noqa: BLE001 - recorded: a root that does not import contributes nothing
            problems.append(f"{root}: {type(exc).__name__}: {exc}")
            continue
        mods.append(pkg)
        for info in pkgutil.walk_packages(getattr(pkg, "__path__", []), root + ".", onerror=lambda _n: None):
            if _excluded(info.name, excludes):
                continue
            try:
                mods.append(importlib.import_module(info.name))
            except Exception as exc:  # noqa: BLE001 - optional submodules (missing extras) are skipped, recorded
                problems.append(f"{info.name}: {type(exc).__name__}")
    return mods


def _classes(mod: Any, risky: tuple[type, ...]) -> list[str]:
    out = []
    for name, obj in sorted(vars(mod).items()):
        if not isinstance(obj, type) or name.startswith("__"):
            continue
        # Defined where it claims: a re-export (or an alias under another name) is left out.
        if getattr(obj, "__module__", None) != mod.__name__ or getattr(obj, "__qualname__", None) != name:
            continue
        if any(part in name for part in _RISKY_NAME_PARTS):
            continue
        try:
            if risky and issubclass(obj, risky):
                continue
        except TypeError:
            continue
        out.append(f"{mod.__name__}.{name}")
    return out


def _pyx_unpicklers(mod: Any, allowed: set[str]) -> list[str]:
    out = []
    for name, obj in sorted(vars(mod).items()):
        if name.startswith("__pyx_unpickle_") and callable(obj):
            cls = name[len("__pyx_unpickle_") :]
            if f"{mod.__name__}.{cls}" in allowed and getattr(obj, "__module__", mod.__name__) == mod.__name__:
                out.append(f"{mod.__name__}.{name}")
    return out


def _vetted(dotted: str, problems: list[str]) -> str | None:
    mod, _, name = dotted.rpartition(".")
    try:
        obj = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError):
        problems.append(f"vetted {dotted}: not found in this version (left out)")
        return None
    if not callable(obj):
        problems.append(f"vetted {dotted}: not callable (left out)")
        return None
    claimed: tuple[object, object]
    if isinstance(obj, type):
        claimed = (obj.__module__, obj.__qualname__)
    else:
        claimed = (getattr(obj, "__module__", None), getattr(obj, "__qualname__", getattr(obj, "__name__", None)))
    if claimed != (mod, name):
        problems.append(f"vetted {dotted}: defined as {claimed[0]}.{claimed[1]} (left out)")
        return None
    return dotted


def generate() -> dict[str, Any]:
    """Import each installed library and return the allowlist document (see the module docstring)."""
    warnings.simplefilter("ignore")
    risky = _risky_bases()
    libraries: dict[str, str] = {}
    missing: list[str] = []
    globals_by_lib: dict[str, list[str]] = {}
    problems: list[str] = []
    for dist, (import_name, roots, excludes) in LIBRARIES.items():
        try:
            libraries[dist] = metadata.version(dist)
            importlib.import_module(import_name)
        except (metadata.PackageNotFoundError, ImportError):
            libraries.pop(dist, None)
            missing.append(dist)
            continue
        names: set[str] = set()
        mods = _modules(roots, excludes, problems)
        for mod in mods:
            names.update(_classes(mod, risky))
        for mod in mods:
            names.update(_pyx_unpicklers(mod, names))
        for dotted in VETTED_FUNCTIONS.get(dist, ()):
            got = _vetted(dotted, problems)
            if got:
                names.add(got)
        globals_by_lib[dist] = sorted(names)
    return {
        "description": "Generated by sdk/tools/build_model_scan_allowlist.py (make model-scan-allowlist); do not "
        "edit by hand. Exact module.qualname globals, each defined where it is named, of the libraries below.",
        "python": platform.python_version(),
        "libraries": libraries,
        "missing": missing,
        "globals": globals_by_lib,
        "notes": sorted(problems),
    }


def _in_sandbox(out: Path) -> None:
    from kfp_gates.components.isolation.interface import StepSpec
    from kfp_gates.components.isolation.local import LocalNamespaceBackend

    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp) / "out"
        outdir.mkdir()
        step = StepSpec(argv=(sys.executable, "-m", "kfp_gates.sdk.tools.build_model_scan_allowlist", "--no-sandbox",
                              "--output", str(outdir / "generated_globals.json")),
                        inputs=(Path(sys.prefix), Path(sys.base_prefix), ROOT), output=outdir, timeout=1800)
        outcome = LocalNamespaceBackend().run(step)
        produced = outdir / "generated_globals.json"
        if outcome.exit_code != 0 or not produced.is_file():
            raise SystemExit(f"generation in the sandbox failed: {outcome}")
        out.write_text(produced.read_text("utf-8"), "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=OUTPUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if the data file differs from a fresh generation")
    ap.add_argument("--no-sandbox", action="store_true", help="import the libraries in this process")
    args = ap.parse_args(argv)
    if args.check or args.no_sandbox:
        doc = generate()
        text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_out = Path(tmp) / "g.json"
            try:
                _in_sandbox(tmp_out)
                text = tmp_out.read_text("utf-8")
            except Exception as exc:  # noqa: BLE001 - no namespaces here: say so, and generate in-process
                print(f"sandbox unavailable ({type(exc).__name__}: {exc}); generating in-process", file=sys.stderr)
                text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if args.check:
        current = args.output.read_text("utf-8") if args.output.exists() else ""
        if json.loads(current or "{}") != json.loads(text):
            print(f"{args.output} is stale: run `make model-scan-allowlist`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, "utf-8")
    doc = json.loads(text)
    counts = ", ".join(f"{k} {doc['libraries'].get(k)}: {len(v)}" for k, v in doc["globals"].items())
    print(f"wrote {args.output} ({counts}; missing: {', '.join(doc['missing']) or 'none'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
