"""``kfp-gates suggest-suite DATA -o SUITE``: draft an expectation suite from a trusted baseline."""

from __future__ import annotations

import argparse
import sys

from .._common import write_text
from .validate_data import add_data_options, csv_options_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "suggest-suite",
        help="profile a trusted baseline dataset into a draft Great Expectations suite",
        description="Profile a trusted baseline (CSV, Parquet, JSON Lines) and write a draft suite: columns and "
        "types, null proportions, numeric ranges with a margin, value sets of low-cardinality columns, "
        "uniqueness of id-like columns, row-count bounds. Review the draft before it guards a pipeline.",
    )
    p.add_argument("data", metavar="DATA", help="baseline dataset file")
    p.add_argument("-o", "--output", metavar="SUITE", required=True,
                   help="where to write the suite (.json: GX JSON, .yaml/.yml: YAML); '-' for stdout")
    p.add_argument("--name", default=None, help="suite name (default: <file stem>-suggested)")
    p.add_argument("--margin", type=float, default=0.1, help="numeric ranges widened by this share of the "
                   "observed span, null limits by this share of the null rate (default 0.1)")
    p.add_argument("--max-categories", type=int, default=20,
                   help="columns with at most this many distinct values get a value set (default 20)")
    p.add_argument("--row-count-margin", type=float, default=0.5,
                   help="row count may vary by this share of the baseline's (default 0.5)")
    add_data_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from kfp_gates.components.data_validation.suggest import SuggestOptions, dump, suggest_suite

    options = SuggestOptions(margin=args.margin, max_categories=args.max_categories,
                             row_count_margin=args.row_count_margin, name=args.name)
    suite = suggest_suite(args.data, options=options, data_format=args.data_format,
                          csv_options=csv_options_from(args, args.data))  # type: ignore[arg-type]
    text = dump(suite, args.output)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        write_text(args.output, text)
        print(f"draft suite '{suite.name}' with {len(suite.expectations)} expectations written to {args.output}; "
              "review it before use")
    return 0
