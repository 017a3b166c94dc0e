"""git's error messages mapped to the error classes (and so to exit codes)."""

from __future__ import annotations

import pytest

from kfp_gates.components.common.errors import ConfigError, InfrastructureError, UnsafeInputError
from kfp_gates.components.source_integrity.git import _classify


@pytest.mark.parametrize(
    ("stderr", "kind", "exit_code"),
    [
        ("fatal: not a git repository (or any of the parent directories): .git", ConfigError, 2),
        ("fatal: detected dubious ownership in repository at '/r'", ConfigError, 2),
        ("fatal: ambiguous argument 'x': unknown revision or path not in the working tree.", ConfigError, 2),
        ("fatal: Needed a single revision", ConfigError, 2),
        ("fatal: this operation must be run in a work tree", ConfigError, 2),
        ("error: inflate: data stream error\nfatal: loose object abc (stored in x) is corrupt", UnsafeInputError, 1),
        ("fatal: transport 'file' not allowed", InfrastructureError, 3),
        ("fatal: something unexpected", InfrastructureError, 3),
        ("", InfrastructureError, 3),
    ],
)
def test_classify(stderr, kind, exit_code):
    err = _classify(("rev-parse", "HEAD"), stderr, "/r")
    assert type(err) is kind and err.exit_code == exit_code  # type: ignore[attr-defined]
    assert err.where == "/r"  # type: ignore[attr-defined]


def test_the_fatal_line_is_quoted():
    err = _classify(("status",), "warning: noise\nfatal: the reason\n", "/r")
    assert "fatal: the reason" in str(err)
