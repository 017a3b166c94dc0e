"""The data gate's task log holds the gate's summary, not ~200 lines of Great Expectations chatter."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def test_importing_gx_at_info_level_logs_no_registration_noise() -> None:
    code = (
        "import logging; logging.basicConfig(level=logging.INFO)\n"  # what the KFP executor does
        "from kfp_gates.components.data_validation._gx import import_gx, ephemeral_context\n"
        "import_gx(); ephemeral_context()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Skipping registering" not in proc.stderr
    assert proc.stderr.count("\n") < 5, proc.stderr[:2000]
