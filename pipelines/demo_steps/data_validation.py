"""Data validation demo: the bundled iris CSV passes its suite; a defective copy is blocked.

The defective copy is made at run time from the clean one: an out-of-range
measurement, a class label the model has never seen, and a duplicated sample
id. Pandas engine only, so the step takes a few seconds.
"""

from __future__ import annotations

import csv
from pathlib import Path

from kfp_gates.components.common.gate import GateSettings
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.result import GateResult

from ..demo import SAMPLES, DemoStep

DATA = SAMPLES / "data_validation" / "iris.csv"
SUITE = SAMPLES / "data_validation" / "iris.suite.json"


def _settings(policy: GatePolicy) -> GateSettings:
    return GateSettings.from_effective(policy.gate("data_validation"))


def _clean(policy: GatePolicy, tmp: Path) -> GateResult:
    from kfp_gates.components.data_validation import validate_data

    return validate_data(DATA, SUITE, settings=_settings(policy))


def defective_copy(target: Path) -> Path:
    """The clean CSV with three defects a poisoned or broken extract would carry."""
    with DATA.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    rows[10][header.index("sepal_length")] = "58.0"  # a decimal point lost upstream
    rows[20][header.index("species")] = "setosa_poisoned"  # a label the model never saw
    rows[30][header.index("sample_id")] = rows[29][header.index("sample_id")]  # a duplicated record
    with target.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return target


def _defective(policy: GatePolicy, tmp: Path) -> GateResult:
    from kfp_gates.components.data_validation import validate_data

    return validate_data(defective_copy(tmp / "iris-defective.csv"), SUITE, settings=_settings(policy))


STEPS: list[DemoStep] = [
    DemoStep(title="data validation: clean iris training data", gate="data_validation", run=_clean, expect="pass"),
    DemoStep(title="data validation: defective copy (out of range, unseen label, duplicate id)",
             gate="data_validation", run=_defective, expect="fail"),
]
