"""Great Expectations, imported offline.

Every GX import in this package goes through :func:`import_gx`, which first
turns off every outbound call GX (and the libraries it pulls in) knows about.
Gates run in network-isolated pods: telemetry there is at best a hang on a
blocked socket and at worst a leak of dataset metadata. The variables are set
with ``os.environ[...] =`` (not ``setdefault``) because a user's ``=true``
must not switch analytics back on inside a security gate.
"""

from __future__ import annotations

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


def import_gx() -> ModuleType:
    """Import ``great_expectations`` with analytics and cloud access off. Idempotent."""
    disable_network_features()
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


@contextmanager
def no_dataframe_fingerprint() -> Iterator[None]:
    """Skip GX's whole-dataframe md5 fingerprint while a pandas batch is created.

    ``PandasExecutionEngine.get_batch_data_and_markers`` hashes every cell of
    the frame (``pd.util.hash_pandas_object`` + md5) whenever the frame is
    under ``HASH_THRESHOLD`` (1e9 bytes) and stores the digest only as the
    informational batch marker ``pandas_data_fingerprint``. Nothing in GX reads
    that marker back (no cache, no metric, no identity depends on it), and GX
    already takes the no-fingerprint branch for frames over the threshold.
    Setting the threshold to 0 takes that same branch for every frame. The
    gate binds its verdict to the sha256 of the file's bytes instead, which is
    stronger (cryptographic, covers the bytes rather than the parsed values)
    and is computed streaming in constant memory.
    """
    import_gx()
    from great_expectations.execution_engine import pandas_execution_engine as pee

    with _lock:
        saved = pee.HASH_THRESHOLD
        pee.HASH_THRESHOLD = 0
        try:
            yield
        finally:
            pee.HASH_THRESHOLD = saved
