"""Allowlist and denylist as data; verdicts for each kind of name."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from kfp_gates.components.common.errors import ConfigError
from kfp_gates.components.model_scan import GlobalsPolicy, Verdict


@pytest.fixture(scope="module")
def gp() -> GlobalsPolicy:
    return GlobalsPolicy()


@pytest.mark.parametrize(
    ("module", "name", "verdict"),
    [
        ("numpy.core.multiarray", "_reconstruct", Verdict.SAFE),
        ("numpy", "log1p", Verdict.SAFE),
        ("sklearn.ensemble._forest", "RandomForestClassifier", Verdict.SAFE),
        ("sklearn.tree._tree", "__pyx_unpickle_TreeBuilder", Verdict.SAFE),
        # Exact names only (issue 17): a name the pinned version does not define is not trusted.
        ("sklearn.tree._tree", "__pyx_unpickle_Tree", Verdict.UNKNOWN),
        ("sklearn.feature_selection._base", "attrgetter", Verdict.UNKNOWN),
        ("copy_reg", "_reconstructor", Verdict.SAFE),
        ("__builtin__", "set", Verdict.SAFE),
        ("__builtin__", "eval", Verdict.DANGEROUS),
        ("builtins", "getattr", Verdict.DANGEROUS),
        ("os", "system", Verdict.DANGEROUS),
        ("os.path", "join", Verdict.DANGEROUS),
        ("nt", "system", Verdict.DANGEROUS),
        ("numpy", "load", Verdict.DANGEROUS),
        ("numpy.testing", "assert_equal", Verdict.DANGEROUS),
        ("collections", "OrderedDict.__init__.__globals__", Verdict.DANGEROUS),
        ("sklearn.base", "os.system", Verdict.DANGEROUS),
        ("pathlib", "Path.write_text", Verdict.DANGEROUS),
        ("sklearn.utils._testing", "TempMemmap", Verdict.UNKNOWN),
        ("sklearn.datasets", "fetch_openml", Verdict.UNKNOWN),
        ("sklearn.utils", "load", Verdict.UNKNOWN),
        ("sklearn.base", "__builtins__", Verdict.UNKNOWN),
        ("pandas", "read_pickle", Verdict.DANGEROUS),
        ("pandas.io.pickle", "read_pickle", Verdict.DANGEROUS),
        ("mypkg.model", "Thing", Verdict.UNKNOWN),
        ("<extension registry>", "7", Verdict.UNKNOWN),
        ("builtins", "type", Verdict.UNKNOWN),
    ],
)
def test_verdicts(gp: GlobalsPolicy, module: str, name: str, verdict: Verdict) -> None:
    assert gp.judge(module, name).verdict is verdict


def test_allow_extends_but_cannot_override_the_denylist() -> None:
    gp = GlobalsPolicy(["mypkg.model.Thing", "otherpkg.*"])
    assert gp.judge("mypkg.model", "Thing").verdict is Verdict.SAFE
    assert gp.judge("mypkg.model", "Other").verdict is Verdict.UNKNOWN
    assert gp.judge("otherpkg.sub", "Anything").verdict is Verdict.SAFE
    assert gp.judge("otherpkg.sub", "os.system").verdict is Verdict.DANGEROUS
    for bad in ("os.system", "builtins.eval", "subprocess.*", "not a name", "nodot"):
        with pytest.raises(ConfigError):
            GlobalsPolicy([bad])


def test_lists_are_data_files_shipped_in_the_package() -> None:
    base = resources.files("kfp_gates.components.model_scan").joinpath("data")
    safe = json.loads(base.joinpath("safe_globals.json").read_text())
    bad = json.loads(base.joinpath("dangerous_globals.json").read_text())
    assert "numpy.core.multiarray._reconstruct" in safe["exact"]
    assert {"os", "subprocess", "runpy", "pickle", "marshal", "ctypes", "pydoc", "timeit", "cProfile", "pip",
            "webbrowser", "socket", "importlib"} <= set(bad["modules"])
    assert {"builtins.eval", "builtins.exec", "builtins.getattr", "builtins.__import__"} <= set(bad["globals"])
    gp = GlobalsPolicy()
    overlap = [g for g in safe["exact"] if gp.judge(*g.rsplit(".", 1)).verdict is not Verdict.SAFE]
    assert overlap == []
