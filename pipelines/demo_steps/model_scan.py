"""Demo of the model-scan gate: a real scikit-learn model passes, a pickle with a payload blocks.

Both files are generated at demo time in the demo's temp dir and never
loaded: the benign one is a fitted scikit-learn pipeline saved with joblib
(compressed), the malicious one is a pickle whose ``__reduce__`` names
``os.system`` (writing it does not call it). Runs offline in about a second.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult
from kfp_gates.components.model_scan import run_gate

from ..demo import DemoStep


class _Payload:
    """Pickles as ``os.system("echo pwned")``; only a loader would call it."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, ("echo pwned",)


def _benign(policy: GatePolicy, tmp: Path) -> GateResult:
    import functools

    import joblib
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    model = make_pipeline(
        FunctionTransformer(functools.partial(np.clip, a_min=-3, a_max=3)), StandardScaler(), LogisticRegression()
    ).fit(X, y)
    path = tmp / "model_scan" / "classifier.joblib"
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=("zlib", 3))
    return run_gate(path, policy)


def _malicious(policy: GatePolicy, tmp: Path) -> GateResult:
    path = tmp / "model_scan" / "classifier-trojan.pkl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"coef": [0.1, 0.2], "hook": _Payload()}, protocol=4))
    return run_gate(path, policy)


STEPS = [
    DemoStep("model scan: scikit-learn pipeline (joblib, zlib)", "model_scan", _benign, "pass"),
    DemoStep("model scan: pickle that calls os.system on load", "model_scan", _malicious, "fail"),
]
