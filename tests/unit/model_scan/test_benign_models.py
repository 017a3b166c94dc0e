"""False-alarm rate zero on real benign models (issue 17): every library, pickle protocol and joblib compression.

XGBoost and LightGBM are test-only dependencies; each model here is trained for real, saved the way
users save it, and must pass the gate with no finding.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kfp_gates.components.model_scan import run_gate

COMPRESSIONS: list[Any] = [0, 3, "gzip", "bz2", "xz", "lzma"]


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _models() -> dict[str, Any]:
    X, y = _data()
    out: dict[str, Any] = {}
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["xgboost-classifier"] = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
        out["xgboost-regressor"] = xgb.XGBRegressor(n_estimators=5, max_depth=2).fit(X, X[:, 2])
        out["xgboost-booster"] = xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=y), num_boost_round=3)
        out["lightgbm-classifier"] = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
        out["lightgbm-regressor"] = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X, X[:, 2])
        out["lightgbm-booster"] = lgb.train({"verbose": -1}, lgb.Dataset(X, label=y), num_boost_round=3)
    return out


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    return _models()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_gradient_boosting_models_pickled_pass(tmp_path: Path, models: dict[str, Any], protocol: int) -> None:
    for name, model in models.items():
        path = tmp_path / f"{name}.p{protocol}.pkl"
        path.write_bytes(pickle.dumps(model, protocol=protocol))
        res = run_gate(path)
        assert res.decision.value == "pass", (name, [f.message for f in res.findings])


@pytest.mark.parametrize("compress", COMPRESSIONS)
def test_gradient_boosting_models_joblib_pass(tmp_path: Path, models: dict[str, Any], compress: Any) -> None:
    import joblib

    path = tmp_path / "models.joblib"
    joblib.dump(models, path, compress=compress)
    res = run_gate(path)
    assert res.decision.value == "pass", [f.message for f in res.findings]
