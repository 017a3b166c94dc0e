"""``kfp-gates scan-model PATH``: block code-execution payloads in model files, without loading them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .._common import add_output_options, add_policy_options

if TYPE_CHECKING:
    from kfp_gates.components.common.result import GateResult

EPILOG = """exit codes:
  0  no finding at or above the threshold (pass or warn)
  1  blocked: a dangerous or unknown global, or a file that cannot be proven safe
     (truncated, corrupt, encrypted, over a size/member/nesting bound)
     (also anything not analysed: unknown format, empty input, symlink out of the
     directory, unless the policy's accept_unanalysed names it)
  2  usage error: missing path, not a regular file or directory (FIFO, device),
     invalid policy, invalid or dangerous --allow entry

examples:
  kfp-gates scan-model model.joblib
  kfp-gates scan-model ./model-dir --format sarif -o model-scan.sarif
  kfp-gates scan-model model.pkl --allow mypkg.features.Tokenizer --tier critical"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan-model",
        help="scan model files (pickle, joblib, PyTorch, numpy, zip, safetensors) for code-execution payloads",
        description=(
            "Scan a model file, or every file under a directory, for globals a loader would import or call. "
            "Formats are detected by content; nothing is ever unpickled or imported."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", metavar="PATH", help="model file or directory (symlinks out of it are not followed)")
    p.add_argument(
        "--allow",
        metavar="MODULE.NAME",
        action="append",
        default=[],
        help="also trust this global (repeatable; 'module.*' trusts a module); dangerous globals cannot be allowed",
    )
    add_policy_options(p)
    add_output_options(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from kfp_gates.components.model_scan import run_gate

    from .._common import emit, load_policy

    policy = load_policy(args)
    result = run_gate(args.path, policy, allow=tuple(args.allow))
    if getattr(args, "format", "table") in ("markdown", "html"):
        return _emit_report(result, args)
    return emit([result], args)


def _emit_report(result: GateResult, args: argparse.Namespace) -> int:
    """The model scan's own Markdown or HTML report, as the component publishes it: every value from the model
    escaped (file names, members, globals), and the files scanned listed. See model_scan.report."""
    import sys

    from kfp_gates.components.common.formats import render_table
    from kfp_gates.components.model_scan.report import render_html, render_markdown

    from .._common import use_color, write_text

    text = (render_html if args.format == "html" else render_markdown)(result)
    if getattr(args, "output", None):
        write_text(args.output, text)
        sys.stdout.write(render_table([result], color=use_color()))
        sys.stdout.write(f"report ({args.format}) written to {args.output}\n")
    else:
        sys.stdout.write(text)
    return result.exit_code
