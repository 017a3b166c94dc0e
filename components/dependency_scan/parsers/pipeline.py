"""A compiled KFP pipeline: packages each task pip-installs at start-up, the images, and the embedded code.

Read through :mod:`kfp_gates.components.common.kfp_ir` (the one IR reader); command lines are read by
:mod:`.shell`, the parser ``kfp-gates check`` uses too. A requirement only known at run time, or a place
in the command line where an install could hide, is an unverifiable dependency (fail closed).
"""

from __future__ import annotations

from pathlib import Path

from kfp_gates.components.common.kfp_ir import parse_pipeline
from kfp_gates.components.common.result import Location

from ..model import Dependency, ImageRef, IndexRef, InputFile, Inventory
from ._common import DEFAULT_INDEX, read_input, strip_credentials
from .python_source import scan_source
from .requirements import parse_requirement_strings
from .shell import analyze_executor

WHAT = "pipeline"
_INDEX_OPTIONS = {
    "-i": "index-url", "--index-url": "index-url", "--extra-index-url": "extra-index-url",
    "-f": "find-links", "--find-links": "find-links", "--trusted-host": "trusted-host",
}


def parse_pipeline_file(path: str | Path) -> Inventory:
    """Parse a compiled pipeline YAML. Raises InputNotFoundError / ConfigError (exit 2)."""
    p = Path(path)
    text, record = read_input(p, "pipeline file")
    return parse_pipeline_text(text, record, p)


def parse_pipeline_text(text: str, record: InputFile, p: Path) -> Inventory:
    """:func:`parse_pipeline_file` on text already read (and digested into ``record``): one open per input."""
    pipe = parse_pipeline(text, str(p))
    deps: list[Dependency] = []
    indexes: list[IndexRef] = []
    images: list[ImageRef] = []
    findings = []
    for label, ex in sorted(pipe.executors.items()):
        base = f"deploymentSpec.executors.{label}.container"
        if ex.image:
            images.append(ImageRef(ex.image, Location(path=str(p), field=f"{base}.image")))
        cmd_loc = Location(path=str(p), field=f"{base}.command")
        shell = analyze_executor(ex)
        for install in shell.installs:
            deps.extend(parse_requirement_strings(list(install.requirements), cmd_loc, WHAT))
            deps.extend(Dependency(name="", location=cmd_loc, origin=WHAT, kind="unknown",
                                   reason=f"`{install.command}`: {word} is only known at run time")
                        for word in install.unresolved)
            named_index = False
            for opt, value in install.options:
                kind = _INDEX_OPTIONS.get(opt)
                if kind:
                    named_index = named_index or kind == "index-url"
                    indexes.append(IndexRef(url=strip_credentials(value), kind=kind, location=cmd_loc))  # type: ignore[arg-type]
                elif opt == "--no-index":
                    named_index = True
                elif opt == "--editable" and value:
                    deps.extend(parse_requirement_strings([value], cmd_loc, WHAT))  # a VCS URL or a path
                elif opt in ("--requirement", "--constraint"):
                    deps.append(Dependency(name="", location=cmd_loc, origin=WHAT, kind="unknown",
                                           reason=f"pip install {opt} {value}: a file inside the image, not readable "
                                           "from the pipeline"))
            if not named_index:
                indexes.append(IndexRef(url=DEFAULT_INDEX, kind="index-url", location=cmd_loc, implicit=True))
        deps.extend(Dependency(name="", location=cmd_loc, origin=WHAT, kind="unknown",
                               reason=f"{u.reason} (`{u.text}`)") for u in shell.unverifiable)
        code = ex.embedded_code
        if code:
            findings.extend(scan_source(code, str(p), field=f"{base} (embedded code of {label})"))
    return Inventory(dependencies=tuple(deps), indexes=tuple(indexes), images=tuple(images),
                     source_findings=tuple(findings), inputs=(record,))



