"""The Spark engine: Spark reads the file and GX validates a Spark DataFrame (GX Spark datasource).

Locally this starts PySpark in local mode bound to loopback, with the web UI
off. On a cluster, pass an existing ``SparkSession`` (``SparkEngine(spark)``)
or set ``KFP_GATES_SPARK_MASTER``. The suite, the findings and the result
shape are the same as with the pandas engine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kfp_gates.components.common.errors import ConfigError, InfrastructureError

from .._gx import disable_network_features, ephemeral_context
from ..readers import (
    CsvOptions,
    DataFormat,
    DataProblem,
    DataUnreadable,
    check_readable,
    csv_precheck,
    locate_csv_problem,
    locate_jsonl_problem,
)
from ..suite import Suite
from .interface import EngineRun, ValidationEngine, gx_suite, outcomes_from_gx, result_format

SPARK_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
}


def local_session(master: str | None = None) -> Any:
    """A SparkSession (reused if one exists) in local mode unless ``master`` or $KFP_GATES_SPARK_MASTER say."""
    disable_network_features()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master or os.environ.get("KFP_GATES_SPARK_MASTER") or "local[*]")
    builder = builder.appName("kfp-gates-data-validation")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine(ValidationEngine):
    name = "spark"

    def __init__(self, spark: Any = None) -> None:
        self._spark = spark

    @property
    def spark(self) -> Any:
        """The session; raises InfrastructureError (exit 3) when Spark cannot be started or reached."""
        if self._spark is None:
            try:
                self._spark = local_session()
            except ImportError:
                raise ConfigError("the Spark engine needs pyspark", hint="pip install 'kfp-gates[spark]'") from None
            except Exception as exc:  # noqa: BLE001 - py4j/pyspark raise many types for "no JVM, no master"
                raise InfrastructureError(
                    f"cannot start or reach Spark ({type(exc).__name__})",
                    where=os.environ.get("KFP_GATES_SPARK_MASTER") or "local[*]",
                    hint="the Spark engine needs Java 17+ (JAVA_HOME) and, on a cluster, a reachable "
                    "$KFP_GATES_SPARK_MASTER; or use --engine pandas",
                ) from None
        return self._spark

    def read(self, path: Path, fmt: DataFormat, options: CsvOptions) -> Any:
        """A cached Spark DataFrame of the file. Raises DataUnreadable naming the bad line."""
        check_readable(path)
        reader = self.spark.read.option("mode", "FAILFAST")
        if fmt == "csv":
            csv_precheck(path, options)
            reader = (reader.option("header", str(options.header).lower()).option("sep", options.delimiter)
                      .option("encoding", options.encoding).option("quote", options.quotechar)
                      .option("escape", options.quotechar).option("multiLine", "true")
                      .option("inferSchema", "true").option("enforceSchema", "false"))
            loader = reader.csv
        elif fmt == "parquet":
            loader = reader.parquet
        else:
            loader = reader.json
        try:
            frame = loader(str(path))
            if fmt == "csv" and not options.header and options.column_names:
                frame = frame.toDF(*options.column_names)
            frame = frame.cache()
            rows = frame.count()  # forces the parse, so FAILFAST errors surface here
        except Exception as exc:  # noqa: BLE001 - py4j and pyspark raise many types; all mean "unreadable"
            raise DataUnreadable(self._locate(path, fmt, options, exc)) from None
        if not frame.columns:
            raise DataUnreadable(DataProblem("the data has no columns", line=1, kind="empty"))
        if rows == 0:
            raise DataUnreadable(DataProblem("the data has no rows", line=2, kind="no_rows"))
        if fmt == "csv":
            self._check_encoding(path, options, frame)
        return frame

    @staticmethod
    def _locate(path: Path, fmt: DataFormat, options: CsvOptions, exc: BaseException) -> DataProblem:
        problem = None
        if fmt == "csv":
            problem = locate_csv_problem(path, options)
        elif fmt == "jsonl":
            problem = locate_jsonl_problem(path)
        # Spark's message quotes the record, so only its class is passed on.
        return problem or DataProblem(f"Spark could not read the data ({type(exc).__name__})", kind="unreadable")

    @staticmethod
    def _check_encoding(path: Path, options: CsvOptions, frame: Any) -> None:
        """Refuse undecodable bytes, which Spark silently turns into U+FFFD instead of failing.

        One Spark pass looks for U+FFFD in the string columns; only when one is
        found is the file scanned in Python, to tell a real U+FFFD in the data
        from a decoding error and to name the line.
        """
        from functools import reduce

        from pyspark.sql import functions as F
        from pyspark.sql.types import StringType

        strings = [f.name for f in frame.schema.fields if isinstance(f.dataType, StringType)]
        suspicious = any("\ufffd" in c for c in frame.columns)
        if strings and not suspicious:
            cond = reduce(lambda a, b: a | b, [F.col(f"`{c}`").contains("\ufffd") for c in strings])
            suspicious = frame.filter(cond).limit(1).count() > 0
        if suspicious:
            problem = locate_csv_problem(path, options)
            if problem is not None and problem.kind == "encoding":
                raise DataUnreadable(problem)

    def run(self, path: Path, fmt: DataFormat, csv_options: CsvOptions, suite: Suite,
            max_values: int) -> EngineRun:
        frame = self.read(path, fmt, csv_options)
        try:
            columns = tuple(frame.columns)
            rows = frame.count()
            context = ephemeral_context()
            definition = (context.data_sources.add_spark("kfp_gates", persist=False)
                          .add_dataframe_asset("dataset").add_batch_definition_whole_dataframe("whole"))
            batch = definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(gx_suite(suite), result_format=result_format(max_values))
        finally:
            frame.unpersist()
        return EngineRun(outcomes=outcomes_from_gx(suite, result, columns, max_values), row_count=rows,
                         columns=columns)
