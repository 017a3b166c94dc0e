"""The ``source_integrity`` policy section."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kfp_gates.components.common.errors import PolicyError
from kfp_gates.components.common.policy import GatePolicy

HEAD = "apiVersion: kfp-gates/v1\nkind: GatePolicy\n"


@pytest.mark.parametrize(("tier", "on_fail"), [("critical", "block"), ("standard", "block"), ("fast-track", "warn")])
def test_blocks_by_default_except_in_fast_track(tier, on_fail):
    # Optional in the standard tier, but blocking when it runs: a warning would let tampered code run.
    assert GatePolicy.default(tier).gate("source_integrity").on_fail == on_fail


def test_keys_parse():
    p = GatePolicy.parse(HEAD + "tier: fast-track\ngates:\n  source_integrity:\n    on_fail: warn\n"
                         "    allowed_signers: .github/allowed_signers\n    gpg_keys: keys.asc\n"
                         "    require_clean_tree: false\n    lock_file: components.lock\n    timeout: 2m\n")
    s = p.gates.source_integrity
    assert (s.allowed_signers, s.gpg_keys, s.require_clean_tree, s.lock_file, s.timeout) == (
        ".github/allowed_signers", "keys.asc", False, "components.lock", timedelta(minutes=2))
    assert p.gate("source_integrity").on_fail == "warn"


def test_critical_tier_refuses_warn():
    with pytest.raises(PolicyError):
        GatePolicy.parse(HEAD + "tier: critical\ngates:\n  source_integrity:\n    on_fail: warn\n")


def test_misspelt_key_is_named():
    with pytest.raises(PolicyError) as exc:
        GatePolicy.parse(HEAD + "gates:\n  source_integrity:\n    allowed_signer: x\n", "p.yaml")
    assert "did you mean 'allowed_signers'" in exc.value.diagnostics()
