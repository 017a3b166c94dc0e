"""A real OpenBao dev server (Vault API) for tests.

The server class lives in :mod:`kfp_gates.components.secrets.devserver`
because the demo and the benchmarks start one too; this module keeps the
import path the fixtures use.
"""

from __future__ import annotations

from kfp_gates.components.secrets.devserver import OpenBaoServer, bao_binary, free_port

__all__ = ["OpenBaoServer", "bao_binary", "free_port"]
