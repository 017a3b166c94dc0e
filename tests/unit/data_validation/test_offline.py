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


def test_fingerprint_is_skipped_and_everything_restored(monkeypatch):
    from great_expectations import util as gx_util
    from great_expectations.execution_engine import pandas_execution_engine as pee

    def boom(df):  # GX must not hash the frame inside the context manager
        raise AssertionError("GX fingerprinted the dataframe")

    monkeypatch.setattr(pee, "hash_pandas_dataframe", boom)
    before = (pee.HASH_THRESHOLD, gx_util.does_ndarray_contain_decimal_dtype,
              pee.PandasExecutionEngine.get_compute_domain, pee.PandasExecutionEngine.get_domain_records)
    context = _gx.ephemeral_context()
    definition = context.data_sources.add_pandas("p").add_dataframe_asset("a").add_batch_definition_whole_dataframe("w")
    with _gx.fast_paths():
        batch = definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2, 3]})})
    assert "pandas_data_fingerprint" not in batch.batch_markers
    after = (pee.HASH_THRESHOLD, gx_util.does_ndarray_contain_decimal_dtype,
             pee.PandasExecutionEngine.get_compute_domain, pee.PandasExecutionEngine.get_domain_records)
    assert after == before
    # outside the context manager GX behaves as shipped
    try:
        definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1]})})
    except AssertionError as exc:
        assert "fingerprinted" in str(exc)
    else:
        raise AssertionError("the fingerprint patch leaked outside the context manager")


def test_fast_paths_give_exactly_the_results_of_plain_gx():
    """Same success, counts, observed values and unexpected values, with and without the fast paths."""
    import numpy as np

    gx = _gx.import_gx()
    E = gx.expectations
    n = 3000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "id": np.arange(n) % 2990,
        "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 10, n)),
        "cat": pd.array(np.where(rng.random(n) < 0.05, None, rng.choice(["a", "b", "c", "zz"], n)), dtype="str"),
        "k": rng.integers(0, 50, n),
    })
    exps = [
        E.ExpectColumnValuesToBeUnique(column="id"),
        E.ExpectColumnValuesToBeBetween(column="x", min_value=-15, max_value=15, mostly=0.9),
        E.ExpectColumnValuesToNotBeNull(column="x"),
        E.ExpectColumnValuesToBeInSet(column="cat", value_set=["a", "b", "c"]),
        E.ExpectColumnValuesToBeInSet(column="cat", value_set=["a", "b"], row_condition='k > 25',
                                      condition_parser="pandas"),
        E.ExpectColumnMeanToBeBetween(column="x", min_value=-0.1, max_value=0.1),
        E.ExpectColumnSumToBeBetween(column="k", min_value=0, max_value=10),
        E.ExpectColumnStdevToBeBetween(column="x", min_value=0, max_value=5),
        E.ExpectColumnValueLengthsToBeBetween(column="cat", min_value=1, max_value=1),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="k", column_B="x"),
        E.ExpectCompoundColumnsToBeUnique(column_list=["id", "k"]),
        E.ExpectColumnValuesToMatchRegex(column="cat", regex="^[ab]$"),
    ]

    def run(fast: bool) -> list:
        suite = gx.ExpectationSuite(name="s", expectations=[e.copy() for e in exps])
        definition = (_gx.ephemeral_context().data_sources.add_pandas("p").add_dataframe_asset("a")
                      .add_batch_definition_whole_dataframe("w"))
        fmt = {"result_format": "SUMMARY", "partial_unexpected_count": 10}
        if fast:
            with _gx.fast_paths():
                res = definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=fmt)
        else:
            res = definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=fmt)
        out = []
        for r in res.results:
            assert not (r.exception_info or {}).get("raised_exception"), r.exception_info
            out.append((r.expectation_config.type, str(r.expectation_config.kwargs), r.success,
                        repr(sorted(r.result.items(), key=lambda kv: kv[0]))))
        return sorted(out)

    plain, fast = run(False), run(True)
    assert plain == fast
    assert sum(1 for o in plain if not o[2]) >= 6  # the suite really exercises failing expectations


def test_decimal_probe_fast_path_gives_the_same_answer():
    import decimal

    import numpy as np
    from great_expectations import util as gx_util

    calls = []

    def original(data):
        calls.append(len(data))
        return gx_util.does_ndarray_contain_decimal_dtype(data)

    probe = _gx._no_decimal_in_typed_array(original)
    assert probe(np.array([decimal.Decimal("1.5"), 2.0], dtype=object)) is True
    assert probe(np.array([1.0, 2.0], dtype=object)) is False
    assert len(calls) == 2  # object arrays are still inspected by GX's own function
    assert probe(np.arange(10.0)) is False and probe(np.arange(10)) is False
    assert len(calls) == 2  # typed arrays are answered without the Python loop
