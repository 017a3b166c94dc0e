"""Build the compact advisory snapshot kfp-gates embeds (or one for an air-gapped mirror).

    python -m kfp_gates.sdk.tools.build_advisory_snapshot /path/to/advisory-database \\
        --label "pypa/advisory-database@<commit>" --snapshot-date 2024-10-10T17:35:05Z

reads an OSV directory (the PyPA ``vulns/`` tree, YAML or JSON) or an OSV
``all.zip``, keeps only what matching needs, and writes gzip-compressed JSON
(default: the embedded ``components/dependency_scan/data/pypa-advisory-db.json.gz``).
With ``--license FILE`` the data's license is copied next to the output, as
CC-BY-4.0 requires for redistribution. The output is reproducible: the same
input gives the same bytes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from kfp_gates.components.common.errors import KfpGatesError
from kfp_gates.components.dependency_scan.advisories import ZipSource
from kfp_gates.components.dependency_scan.advisories.compact import (
    ATTRIBUTION,
    EMBEDDED_FILE,
    EMBEDDED_LICENSE,
    dump,
)
from kfp_gates.components.dependency_scan.advisories.directory import DirectorySource
from kfp_gates.components.dependency_scan.advisories.osv import parse_time

DATA_DIR = Path(__file__).resolve().parents[2] / "components" / "dependency_scan" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="build_advisory_snapshot", description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="OSV directory (e.g. a clone of pypa/advisory-database) or all.zip")
    ap.add_argument("--output", "-o", default=str(DATA_DIR / EMBEDDED_FILE), help="compact snapshot to write")
    ap.add_argument("--label", help="what the data is, e.g. 'pypa/advisory-database@<commit>'")
    ap.add_argument("--snapshot-date", help="the data's date (RFC 3339); default: the newest 'modified'")
    ap.add_argument("--attribution", default=ATTRIBUTION)
    ap.add_argument("--license", help="license file of the data, copied next to the output")
    args = ap.parse_args(argv)

    src_path = Path(args.source)
    vulns = src_path / "vulns"
    root = vulns if vulns.is_dir() else src_path
    source = DirectorySource(root) if root.is_dir() else ZipSource(root)
    try:
        loaded = source.load()
    except KfpGatesError as exc:
        sys.stderr.write(f"build_advisory_snapshot: {exc.diagnostics()}\n")
        return exc.exit_code
    snapshot = parse_time(args.snapshot_date) if args.snapshot_date else None
    if args.snapshot_date and snapshot is None:
        sys.stderr.write(f"build_advisory_snapshot: --snapshot-date {args.snapshot_date!r} is not RFC 3339\n")
        return 2
    info = replace(
        loaded.info,
        location=args.label or loaded.info.location,
        snapshot=snapshot or loaded.newest_modified(),
        attribution=args.attribution,
    )
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = dump(loaded, info=info)
    out.write_bytes(data)
    if args.license:
        shutil.copyfile(args.license, out.parent / EMBEDDED_LICENSE)
    print(
        f"{out}: {len(loaded.advisories)} records ({loaded.withdrawn} withdrawn), "
        f"{loaded.malformed} malformed skipped, {len(loaded.notes)} unparseable versions, {len(data):,} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
