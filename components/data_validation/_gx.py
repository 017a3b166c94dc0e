"""Great Expectations, imported offline.

Every GX import in this package goes through :func:`import_gx`, which first
turns off every outbound call GX (and the libraries it pulls in) knows about.
Gates run in network-isolated pods: telemetry there is at best a hang on a
blocked socket and at worst a leak of dataset metadata. The variables are set
with ``os.environ[...] =`` (not ``setdefault``) because a user's ``=true``
must not switch analytics back on inside a security gate.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

# Off before GX is imported: GX reads these at import and at context creation.
OFFLINE_ENV: dict[str, str] = {
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # pyspark: no UI server, bind to loopback only.
    "SPARK_LOCAL_IP": "127.0.0.1",
}
# GX Cloud is chosen when these are present; a gate never talks to GX Cloud.
_CLOUD_ENV = ("GX_CLOUD_ACCESS_TOKEN", "GX_CLOUD_ORGANIZATION_ID", "GX_CLOUD_BASE_URL", "GX_CLOUD_WORKSPACE_ID")

_lock = threading.Lock()


def disable_network_features() -> None:
    """Set the offline environment and drop GX Cloud credentials from this process's environment."""
    os.environ.update(OFFLINE_ENV)
    for name in _CLOUD_ENV:
        os.environ.pop(name, None)


# Loggers whose INFO/DEBUG records are noise in a gate's log: GX logs ~200 "Skipping registering function"
# lines at import, and the KFP executor logs at INFO. Warnings and errors still show.
_NOISY_LOGGERS = ("great_expectations", "py4j", "pyspark")


def quiet_third_party_logs() -> None:
    """Keep GX/Spark chatter out of the task log, so the gate's own summary is what a person reads.

    Only loggers that nobody configured are raised to WARNING; ``--debug`` /
    ``KFP_GATES_DEBUG=1`` leaves them alone.
    """
    if os.environ.get("KFP_GATES_DEBUG") == "1":
        return
    for name in _NOISY_LOGGERS:
        log = logging.getLogger(name)
        if log.level == logging.NOTSET:
            log.setLevel(logging.WARNING)


def import_gx() -> ModuleType:
    """Import ``great_expectations`` with analytics and cloud access off. Idempotent."""
    disable_network_features()
    quiet_third_party_logs()
    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    main = sys.modules.get("__main__")
    # GX imports pyspark's Spark Connect support when pyspark is installed. In
    # pyspark 4, that import calls sys.exit(0) ("Skipping doctests") when the
    # main module has no __file__ (python -c, embedded interpreters) and grpc is
    # absent: the process would end with status 0 in the middle of a gate,
    # which reads as "passed". pyspark skips that branch in an interactive
    # shell, so the import runs with sys.ps1 set, and Spark Connect is then
    # just reported as unavailable.
    fake_shell = main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__") \
        and not hasattr(sys, "ps1")
    if fake_shell:
        sys.ps1 = ">>> "
    try:
        with warnings.catch_warnings():
            # pyspark warns that it does not fully support pandas 3 when GX probes it;
            # the Spark engine does not use pyspark's pandas conversions.
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\..*)?$")
            import great_expectations as gx
    finally:
        if fake_shell:
            del sys.ps1
    return gx


def gx_version() -> str:
    return str(import_gx().__version__)


def ephemeral_context() -> Any:
    """A fresh in-memory GX context: no project directory, no stores on disk, no cloud, no progress bars."""
    gx = import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config, cloud_mode=False)


def _no_decimal_in_typed_array(original: Any) -> Any:
    """GX's Decimal probe, answered without a Python loop when the array cannot hold Decimals."""

    def probe(data: Any) -> bool:
        dtype = getattr(data, "dtype", None)
        if dtype is not None and getattr(dtype, "kind", "O") != "O":
            # Only an object array can hold decimal.Decimal instances; a numeric,
            # boolean, string or datetime array never does.
            return False
        return bool(original(data))

    return probe


def _single_column_domain(original: Any) -> Any:
    """``get_compute_domain`` that hands a single-column metric only its column."""

    def get_compute_domain(self: Any, domain_kwargs: dict, domain_type: Any,
                           accessor_keys: Any = None) -> tuple[Any, dict, dict]:
        data, compute_kwargs, accessor_kwargs = original(self, domain_kwargs, domain_type, accessor_keys)
        column = accessor_kwargs.get("column")
        if str(getattr(domain_type, "value", domain_type)) == "column" and isinstance(column, str) \
                and getattr(data, "ndim", 0) == 2 and data.shape[1] > 1 and column in data.columns:
            # Row conditions were applied above; the index is kept, so masks still align.
            data = data[[column]]
        return data, compute_kwargs, accessor_kwargs

    return get_compute_domain


_narrow = threading.local()


def _narrowing_domain_records(original: Any) -> Any:
    """``get_domain_records`` that returns only the hinted column while a column-values metric runs."""

    def get_domain_records(self: Any, domain_kwargs: dict) -> Any:
        data = original(self, domain_kwargs)
        column = getattr(_narrow, "column", None)
        if isinstance(column, str) and getattr(data, "ndim", 0) == 2 and column in data.columns:
            return data[[column]]
        return data

    return get_domain_records


def _column_values_hint(original: Any) -> Any:
    """Wrap GX's ``_pandas_column_map_condition_values`` so its domain records are narrowed to its column."""
    import functools

    @functools.wraps(original)
    def metric_fn(cls: Any, execution_engine: Any, metric_domain_kwargs: dict, metric_value_kwargs: dict,
                  metrics: dict, **kwargs: Any) -> Any:
        accessor = metrics["unexpected_condition"][2]
        _narrow.column = accessor.get("column") if isinstance(accessor, dict) else None
        try:
            return original(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs)
        finally:
            _narrow.column = None

    metric_fn.metric_fn_type = getattr(original, "metric_fn_type", None)  # type: ignore[attr-defined]
    return metric_fn


@contextmanager
def fast_paths() -> Iterator[None]:
    """Skip four per-run costs of GX's pandas engine that do not check anything.

    1. The whole-dataframe fingerprint. ``PandasExecutionEngine.get_batch_data_and_markers``
       hashes every cell (``pd.util.hash_pandas_object`` + md5) whenever the frame is
       under ``HASH_THRESHOLD`` (1e9 bytes), and it runs twice per validation (when the
       batch is made and again inside ``Batch.validate``). The digest is only stored as
       the informational batch marker ``pandas_data_fingerprint``; nothing in GX reads
       it back (no cache, metric or identity depends on it), and GX already skips it
       for frames over the threshold. A threshold of 0 takes that same, shipped branch
       for every frame. The gate binds its verdict to the sha256 of the file's bytes
       instead: cryptographic, over the bytes rather than the parsed values, streamed.
    2. ``great_expectations.util.does_ndarray_contain_decimal_dtype``, called by the
       mean, sum and standard-deviation metrics, tests ``isinstance(v, Decimal)`` for
       every value in a Python loop (about 1 s per million rows). The replacement
       answers ``False`` at once for arrays whose dtype is not ``object`` (which cannot
       hold ``Decimal`` objects) and calls GX's own function otherwise: same answer.
    3. Column metrics get the whole frame as their compute domain and then drop the
       column's nulls with ``df[df[column].notnull()]``, which copies *every* column
       (about 0.1 s and the size of the whole frame per expectation). A metric on the
       COLUMN domain reads only its own column (that is what the domain means; the
       index-list results that read other columns use ``get_domain_records``, which is
       not changed, and the gate asks for BASIC results anyway), so it is handed
       ``df[[column]]``: same rows, same index, one column.
    4. The same whole-frame copy happens where a column expectation collects its few
       unexpected values (``_pandas_column_map_condition_values``, registered for every
       ``*.unexpected_values`` pandas metric). That function reads nothing but
       ``df[column]``; while it runs, ``get_domain_records`` returns ``df[[column]]``.

    All are restored on exit; a lock keeps concurrent validations from interleaving.
    """
    import_gx()
    from great_expectations import util as gx_util
    from great_expectations.execution_engine import pandas_execution_engine as pee

    with _lock:
        saved_threshold = pee.HASH_THRESHOLD
        saved_probe = gx_util.does_ndarray_contain_decimal_dtype
        engine = pee.PandasExecutionEngine
        saved_domain = engine.__dict__["get_compute_domain"]
        saved_records = engine.__dict__["get_domain_records"]
        saved_providers = _hint_column_value_metrics()
        pee.HASH_THRESHOLD = 0
        gx_util.does_ndarray_contain_decimal_dtype = _no_decimal_in_typed_array(saved_probe)
        engine.get_compute_domain = _single_column_domain(saved_domain)  # type: ignore[method-assign]
        engine.get_domain_records = _narrowing_domain_records(saved_records)  # type: ignore[method-assign]
        try:
            yield
        finally:
            pee.HASH_THRESHOLD = saved_threshold
            gx_util.does_ndarray_contain_decimal_dtype = saved_probe
            engine.get_compute_domain = saved_domain  # type: ignore[method-assign]
            engine.get_domain_records = saved_records  # type: ignore[method-assign]
            _restore_providers(saved_providers)


def _hint_column_value_metrics() -> dict[str, tuple[Any, Any]]:
    """Wrap the pandas providers of every ``*.unexpected_values`` metric that use GX's shared
    ``_pandas_column_map_condition_values``; return what to restore."""
    from great_expectations.expectations import registry
    from great_expectations.expectations.metrics.map_metric_provider import (
        column_map_condition_auxilliary_methods as aux,
    )

    original = aux._pandas_column_map_condition_values
    wrapped = _column_values_hint(original)
    saved: dict[str, tuple[Any, Any]] = {}
    for name, definition in registry._registered_metrics.items():
        providers = definition.get("providers") or {}
        entry = providers.get("PandasExecutionEngine")
        if entry is not None and entry[1] is original:
            saved[name] = entry
            providers["PandasExecutionEngine"] = (entry[0], wrapped)
    return saved


def _restore_providers(saved: dict[str, tuple[Any, Any]]) -> None:
    from great_expectations.expectations import registry

    for name, entry in saved.items():
        registry._registered_metrics[name]["providers"]["PandasExecutionEngine"] = entry
