"""Rego policies the policy-gate tests share."""

import pytest

ACCURACY = """package main

import rego.v1

deny contains msg if {
\tinput.metrics.accuracy < data.min_accuracy
\tmsg := sprintf("accuracy %v is below the minimum %v", [input.metrics.accuracy, data.min_accuracy])
}
"""

WARN_LOSS = """package main

import rego.v1

warn contains msg if {
\tinput.metrics.loss > 0.5
\tmsg := sprintf("loss %v is high", [input.metrics.loss])
}
"""


@pytest.fixture
def policy_dir(tmp_path):
    d = tmp_path / "policy"
    d.mkdir()
    (d / "accuracy.rego").write_text(ACCURACY)
    (d / "loss.rego").write_text(WARN_LOSS)
    return d
