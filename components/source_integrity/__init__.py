"""Source integrity: only reviewed, signed code runs.

Two checks, one gate (``source_integrity``):

* **signed commits** — :func:`verify_source` checks that a commit, or every
  commit from a base to it, carries a valid signature by an allowed signer
  (SSH allowed-signers file, or OpenPGP public keys), using git's own
  verification, and that the work tree is exactly that commit;
* **component lock** — :func:`create_lock` records a digest of every executor
  of a compiled pipeline (image, command, args, embedded code), and
  :func:`verify_lock` names each executor changed, added or removed since.

Nothing here imports kfp; the KFP component is in :mod:`.component`.
"""

from __future__ import annotations

from .gate import lock_gate
from .lock import ComponentLock, create_lock, load_lock, parse_lock, verify_lock
from .source import SourceOptions, verify_source

__all__ = [
    "ComponentLock",
    "SourceOptions",
    "create_lock",
    "load_lock",
    "lock_gate",
    "parse_lock",
    "verify_lock",
    "verify_source",
]
