"""The default engine: pyarrow reads the file, GX validates a pandas DataFrame in this process."""

from __future__ import annotations

from pathlib import Path

from .._gx import ephemeral_context, fast_paths
from ..readers import CsvOptions, DataFormat, read_table
from ..suite import Suite
from .interface import EngineRun, ValidationEngine, gx_suite, outcomes_from_gx, result_format


class PandasEngine(ValidationEngine):
    name = "pandas"

    def run(self, path: Path, fmt: DataFormat, csv_options: CsvOptions, suite: Suite,
            max_values: int) -> EngineRun:
        table = read_table(path, fmt, csv_options)
        columns = tuple(table.column_names)
        rows = table.num_rows
        # self_destruct frees each Arrow column as soon as it is converted, so the
        # Arrow table and the DataFrame are never both fully in memory.
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
        del table
        # Hand the freed Arrow buffers back before GX allocates its own working memory.
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
        context = ephemeral_context()
        definition = (context.data_sources.add_pandas("kfp_gates").add_dataframe_asset("dataset")
                      .add_batch_definition_whole_dataframe("whole"))
        # Batch.validate builds the batch a second time, so both calls need the fast paths.
        with fast_paths():
            batch = definition.get_batch(batch_parameters={"dataframe": frame})
            result = batch.validate(gx_suite(suite), result_format=result_format(max_values))
        return EngineRun(outcomes=outcomes_from_gx(suite, result, columns, max_values), row_count=rows,
                         columns=columns)
