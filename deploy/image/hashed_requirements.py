"""Print ``name==version --hash=sha256:...`` for every wheel in a directory (a pip requirements file).

Used by deploy/image/wheelhouse.sh: the image installs exactly these files with
``pip install --no-index --require-hashes``, so a wheel swapped in the wheelhouse
after this ran fails the build.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path


def requirement_lines(wheel_dir: Path) -> list[str]:
    """One pinned, hashed requirement per wheel, sorted by name; raises ValueError on a non-wheel name."""
    lines = []
    for wheel in sorted(wheel_dir.glob("*.whl")):
        parts = wheel.name[: -len(".whl")].split("-")
        if len(parts) not in (5, 6):
            raise ValueError(f"not a wheel file name: {wheel.name}")
        name = re.sub(r"[-_.]+", "-", parts[0]).lower()
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name}=={parts[1]} --hash=sha256:{digest}")
    if not lines:
        raise ValueError(f"no wheels in {wheel_dir}")
    return lines


if __name__ == "__main__":
    print("\n".join(requirement_lines(Path(sys.argv[1]))))
