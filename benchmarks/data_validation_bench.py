"""Benchmark: the data-validation gate (pandas engine) next to the same checks done directly with pyarrow.

    .venv/bin/python benchmarks/data_validation_bench.py [--rows 1000000 5000000] [--plain-gx]

For each size a 10-column CSV (ints, floats, categories, a boolean, some nulls)
is generated once into /tmp/kfp-gates-bench-dv/. Each measurement runs in a
fresh Python process, so its peak memory is its own: ``peak`` is the
process's maximum RSS minus its RSS after the libraries were imported, i.e.
what the run itself needed. Modes:

* ``gate``      kfp-gates ``validate_data`` (sha256 of the file, pyarrow read, GX 1.24 pandas engine,
                without GX's whole-dataframe fingerprint) — what the CLI and the component run;
* ``pyarrow``   the same 10 checks computed directly with ``pyarrow.csv`` + ``pyarrow.compute``;
* ``plain-gx``  (with --plain-gx) ``pandas.read_csv`` + GX 1.24 as shipped (fingerprint included).

The table also says whether each mode reached the same verdict per
expectation with the same unexpected counts as the gate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATA_DIR = Path("/tmp/kfp-gates-bench-dv")
COLUMNS = ["id", "age", "income", "score", "category", "country", "qty", "label", "weight", "active"]
SUITE = {
    "name": "bench",
    "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1000, "max_value": 10_000_000}},
        {"type": "expect_table_columns_to_match_ordered_list", "kwargs": {"column_list": COLUMNS}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 18, "max_value": 89}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "income", "min_value": -50000, "max_value": 150000}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "income", "mostly": 0.95}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "category", "value_set": ["alpha", "beta", "gamma", "delta"]}},  # 'epsilon' fails
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "label", "value_set": [0, 1, 2]}},
        {"type": "expect_column_mean_to_be_between",
         "kwargs": {"column": "score", "min_value": 0.45, "max_value": 0.55}},
    ],
}


def generate(rows: int) -> Path:
    """A deterministic CSV of ``rows`` rows (cached in DATA_DIR)."""
    path = DATA_DIR / f"bench-{rows}.csv"
    if path.exists():
        return path
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)

    def nullable(values, share):
        return pa.array(values, mask=rng.random(rows) < share)

    cats = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    countries = np.array([f"C{i:02d}" for i in range(20)])
    table = pa.table({
        "id": pa.array(np.arange(1, rows + 1)),
        "age": pa.array(rng.integers(18, 90, rows)),
        "income": nullable(np.round(rng.normal(50000, 15000, rows), 2), 0.02),
        "score": pa.array(np.round(rng.random(rows), 4)),
        "category": pa.array(cats[rng.integers(0, 5, rows)]),
        "country": nullable(countries[rng.integers(0, 20, rows)], 0.01),
        "qty": nullable(rng.integers(0, 1000, rows), 0.05),
        "label": pa.array(rng.integers(0, 3, rows)),
        "weight": pa.array(np.round(rng.gamma(2.0, 2.0, rows), 3)),
        "active": pa.array(rng.random(rows) < 0.5),
    })
    tmp = path.with_suffix(".tmp")
    pcsv.write_csv(table, tmp)
    tmp.rename(path)
    return path


# ----- one measurement, in a child process ---------------------------------------


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _peak() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _verdicts_from_result(result) -> list[list]:
    rows = result.metadata["expectations"]
    return [[r["index"], r["status"] == "pass", r["unexpected_count"]] for r in rows]


def _pyarrow_checks(path: Path) -> list[list]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    t = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    n = t.num_rows
    out: list[list] = []

    def between(col, lo, hi):
        c = t[col]
        bad = pc.sum(pc.or_(pc.less(c, lo), pc.greater(c, hi))).as_py() or 0
        return [bad == 0, bad]

    def in_set(col, values):
        c = t[col]
        valid = n - c.null_count
        bad = valid - (pc.sum(pc.is_in(c, value_set=pa.array(values))).as_py() or 0)
        return [bad == 0, bad]

    out.append([0, 1000 <= n <= 10_000_000, None])
    out.append([1, t.column_names == COLUMNS, None])
    counts = pc.value_counts(t["id"]).flatten()[1]
    dup = pc.sum(pc.filter(counts, pc.greater(counts, 1))).as_py() or 0
    out.append([2, dup == 0, dup])
    out.append([3, t["id"].null_count == 0, t["id"].null_count])
    out.append([4, *between("age", 18, 89)])
    out.append([5, *between("income", -50000, 150000)])
    nulls = t["income"].null_count
    out.append([6, (n - nulls) / n >= 0.95, nulls])
    out.append([7, *in_set("category", ["alpha", "beta", "gamma", "delta"])])
    out.append([8, *in_set("label", [0, 1, 2])])
    mean = pc.mean(t["score"]).as_py()
    out.append([9, 0.45 <= mean <= 0.55, None])
    return out


def _plain_gx(path: Path) -> list[list]:
    import pandas as pd

    from kfp_gates.components.data_validation._gx import ephemeral_context
    from kfp_gates.components.data_validation.engines.interface import gx_suite, outcomes_from_gx, result_format
    from kfp_gates.components.data_validation.suite import parse_suite

    suite = parse_suite(json.dumps(SUITE))
    frame = pd.read_csv(path)
    definition = (ephemeral_context().data_sources.add_pandas("p").add_dataframe_asset("a")
                  .add_batch_definition_whole_dataframe("w"))
    batch = definition.get_batch(batch_parameters={"dataframe": frame})  # GX as shipped: fingerprints
    res = batch.validate(gx_suite(suite), result_format=result_format(5))
    outcomes = outcomes_from_gx(suite, res, list(frame.columns), 5)
    return [[o.spec.index, o.success, o.unexpected_count] for o in outcomes]


def child(mode: str, path: Path) -> dict:
    # Import everything first, so "peak" measures the run and not the libraries.
    import pandas  # noqa: F401
    import pyarrow.compute
    import pyarrow.csv  # noqa: F401

    from kfp_gates.components.data_validation import parse_suite, validate_data
    from kfp_gates.components.data_validation._gx import ephemeral_context

    ephemeral_context()
    suite = parse_suite(json.dumps(SUITE))
    base = _rss()
    t0 = time.perf_counter()
    if mode == "gate":
        verdicts = _verdicts_from_result(validate_data(path, suite))
    elif mode == "pyarrow":
        verdicts = _pyarrow_checks(path)
    else:
        verdicts = _plain_gx(path)
    wall = time.perf_counter() - t0
    return {"mode": mode, "wall": wall, "peak": _peak() - base, "base": base, "verdicts": verdicts}


def _run_child(mode: str, path: Path) -> dict:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _same(a: list[list], b: list[list]) -> bool:
    def norm(v):
        return [(i, ok, cnt) for i, ok, cnt in v]

    pa_ = {i: (ok, cnt) for i, ok, cnt in norm(a)}
    pb = {i: (ok, cnt) for i, ok, cnt in norm(b)}
    return all(pa_[i][0] == pb[i][0] and (pa_[i][1] is None or pb[i][1] is None or pa_[i][1] == pb[i][1])
               for i in pa_)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--plain-gx", action="store_true", help="also measure pandas.read_csv + GX as shipped")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode; the fastest is reported")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0
    modes = ["pyarrow", "gate"] + (["plain-gx"] if args.plain_gx else [])
    print(f"{'rows':>9} {'CSV MiB':>8} {'mode':>9} {'wall s':>7} {'x pyarrow':>9} {'peak MiB':>9} "
          f"{'peak/CSV':>8} {'same findings':>13}")
    for rows in args.rows:
        path = generate(rows)
        size = path.stat().st_size
        results = {}
        for mode in modes:
            runs = [_run_child(mode, path) for _ in range(args.repeat)]
            results[mode] = min(runs, key=lambda r: r["wall"])
        ref = results["pyarrow"]
        for mode in modes:
            r = results[mode]
            same = _same(r["verdicts"], results["gate"]["verdicts"])
            print(f"{rows:>9} {size / 2**20:>8.1f} {mode:>9} {r['wall']:>7.2f} {r['wall'] / ref['wall']:>9.2f} "
                  f"{r['peak'] / 2**20:>9.0f} {r['peak'] / size:>8.2f} {'yes' if same else 'NO':>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
