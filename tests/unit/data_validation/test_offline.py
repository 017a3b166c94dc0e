"""GX runs offline, and without its whole-dataframe fingerprint."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from kfp_gates.components.data_validation import _gx


def test_import_sets_the_offline_environment(monkeypatch):
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "true")
    monkeypatch.setenv("GX_CLOUD_ACCESS_TOKEN", "not-a-real-token")
    _gx.import_gx()
    assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    assert "GX_CLOUD_ACCESS_TOKEN" not in os.environ
    context = _gx.ephemeral_context()
    assert type(context).__name__ == "EphemeralDataContext"
    assert context.config.analytics_enabled is False


def test_python_dash_c_does_not_exit_0_while_importing_gx():
    # pyspark 4 calls sys.exit(0) inside GX's import when __main__ has no __file__;
    # a gate would then "pass" without running. The guard in import_gx prevents it.
    code = ("from kfp_gates.components.data_validation._gx import import_gx; import_gx(); "
            "print('still running'); raise SystemExit(7)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 7, proc.stderr[-2000:]
    assert "still running" in proc.stdout


def test_fingerprint_is_skipped_and_the_threshold_restored(monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine as pee

    def boom(df):  # GX must not hash the frame inside the context manager
        raise AssertionError("GX fingerprinted the dataframe")

    monkeypatch.setattr(pee, "hash_pandas_dataframe", boom)
    before = pee.HASH_THRESHOLD
    context = _gx.ephemeral_context()
    definition = context.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("w")
    with _gx.no_dataframe_fingerprint():
        batch = definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2, 3]})})
    assert "pandas_data_fingerprint" not in batch.batch_markers
    assert pee.HASH_THRESHOLD == before
    # outside the context manager GX behaves as shipped
    try:
        definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1]})})
    except AssertionError as exc:
        assert "fingerprinted" in str(exc)
    else:
        raise AssertionError("the fingerprint patch leaked outside the context manager")
