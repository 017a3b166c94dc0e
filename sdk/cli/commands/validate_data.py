"""``kfp-gates validate-data DATA --suite SUITE``: the data-validation gate from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._common import add_output_options, add_policy_options, emit, load_policy, write_text

ENGINES = ("pandas", "spark")
DATA_FORMATS = ("csv", "parquet", "jsonl")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Options saying how to read the dataset (shared with ``suggest-suite``)."""
    group = parser.add_argument_group("data")
    group.add_argument("--data-format", choices=DATA_FORMATS, default=None,
                       help="csv, parquet or jsonl (default: from the file name)")
    group.add_argument("--delimiter", default=None, help="CSV field delimiter (default ',', tab for .tsv; '\\t' ok)")
    group.add_argument("--no-header", action="store_true", help="the CSV has no header row (columns _c0, _c1, ...)")
    group.add_argument("--column-names", default=None, metavar="A,B,...", help="column names for --no-header")
    group.add_argument("--encoding", default="utf-8", help="CSV text encoding (default utf-8)")
    group.add_argument("--quotechar", default='"', help="CSV quote character (default \")")


def csv_options_from(args: argparse.Namespace, data: str) -> object:
    from kfp_gates.components.data_validation.readers import CsvOptions, default_csv_options

    delimiter = args.delimiter
    if delimiter is None:
        delimiter = default_csv_options(data).delimiter
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    names = tuple(n.strip() for n in args.column_names.split(",")) if args.column_names else None
    return CsvOptions(delimiter=delimiter, header=not args.no_header, encoding=args.encoding,
                      quotechar=args.quotechar, column_names=names)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate-data",
        help="validate a dataset against a Great Expectations suite (exit 1 if any expectation fails)",
        description="Validate a CSV, Parquet or JSON Lines file against a Great Expectations suite "
        "(GX JSON or YAML). Exit 0: every expectation holds; 1: an expectation failed or the data cannot "
        "be read; 2: missing file or invalid suite.",
    )
    p.add_argument("data", metavar="DATA", help="dataset file (CSV, Parquet, JSON Lines)")
    p.add_argument("--suite", metavar="SUITE", default=None,
                   help="expectation suite, JSON or YAML (default: the policy's data_validation.suite)")
    p.add_argument("--report-dir", metavar="DIR", default=None,
                   help="write report.html, report.md, result.json, evidence.json (in-toto) and metrics.json here"
                   " (--format html/markdown print the same report.html/report.md)")
    p.add_argument("--engine", choices=ENGINES, default=None,
                   help="pandas (default) or spark (PySpark local mode, or $KFP_GATES_SPARK_MASTER)")
    p.add_argument("--max-values", type=int, default=None, metavar="N",
                   help="unexpected values quoted per failed expectation, 0-20 (default: policy, 5)")
    add_data_options(p)
    add_output_options(p)
    add_policy_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import json

    from kfp_gates.components.common.errors import ConfigError
    from kfp_gates.components.common.evidence import statement_json
    from kfp_gates.components.common.formats import render_table
    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import DataValidationSection
    from kfp_gates.components.data_validation import ValidationOptions, validate_data
    from kfp_gates.components.data_validation.report import metrics, render_html, render_markdown

    from .._common import use_color

    policy = load_policy(args)
    gate = policy.gate("data_validation")
    section = gate.section
    assert isinstance(section, DataValidationSection)
    suite = args.suite or section.suite
    if not suite:
        raise ConfigError("no suite given", hint="pass --suite SUITE or set gates.data_validation.suite in the policy")
    options = ValidationOptions(
        engine=args.engine or section.engine,
        data_format=args.data_format,
        csv=csv_options_from(args, args.data),  # type: ignore[arg-type]
        max_unexpected_values=section.max_unexpected_values if args.max_values is None else args.max_values,
    )
    result = validate_data(args.data, suite, settings=GateSettings.from_effective(gate), options=options)
    fmt = getattr(args, "format", "table")
    output = getattr(args, "output", None)
    # The page people read is the gate's own (one row per expectation, failing columns), for --format and
    # --report-dir alike; the generic findings page knows nothing of expectations.
    renderer = {"html": render_html, "markdown": render_markdown}.get(fmt)
    if renderer is None:
        code = emit([result], args)
    elif output:
        write_text(output, renderer(result))
        sys.stdout.write(render_table([result], color=use_color()))
        sys.stdout.write(f"report ({fmt}) written to {output}\n")
        code = result.exit_code
    else:
        sys.stdout.write(renderer(result))
        code = result.exit_code
    if args.report_dir:
        out = Path(args.report_dir)
        write_text(out / "report.html", render_html(result))
        write_text(out / "report.md", render_markdown(result))
        write_text(out / "result.json", result.to_json() + "\n")
        write_text(out / "evidence.json", statement_json(result))
        write_text(out / "metrics.json", json.dumps(metrics(result), indent=2) + "\n")
        # stdout may be a JSON/SARIF/HTML document: the note goes where it cannot corrupt it
        note = sys.stdout if fmt == "table" or output else sys.stderr
        note.write(f"reports written to {out}/: report.html, report.md, result.json, evidence.json, metrics.json\n")
    return code
