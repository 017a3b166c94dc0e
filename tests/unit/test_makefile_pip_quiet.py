"""`make install` drops pip's "Location ... is ignored" lines, keeps every other message and pip's status."""

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def test_the_install_filter_drops_only_location_warnings_and_keeps_the_exit_status() -> None:
    text = MAKEFILE.read_text()
    [filt] = re.findall(r"^QUIET_PIP := (.*)$", text, re.M)
    assert "$(QUIET_PIP)" in text.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]  # the install rule uses it
    script = (
        "set -o pipefail; { echo \"WARNING: Location 'file:///opt/x/simple/foo/' is ignored: it is neither a file "
        "nor a directory.\"; echo 'ERROR: No matching distribution found for foo'; exit 3; } "
        + filt.replace("$$", "$")
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 3
    assert "is ignored" not in proc.stdout and "No matching distribution found for foo" in proc.stdout
