"""PEP 440 helpers shared by the advisory readers and the matcher."""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

_PLAIN = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")


def canonical(version: str) -> str:
    """The PEP 440 canonical form (``1.0.0`` -> ``1``, ``2.0.0rc1`` -> ``2rc1``); invalid text unchanged.

    Two versions are equal under PEP 440 exactly when their canonical forms
    are equal, so ``versions`` lists can be matched with a set lookup.
    """
    v = version.strip()
    if _PLAIN.match(v):  # fast path for the common all-numeric case
        parts = [str(int(p)) for p in v.split(".")]
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return ".".join(parts)
    return canonicalize_version(v)


@lru_cache(maxsize=65536)
def parse(version: str) -> Version | None:
    """A :class:`Version`, or None when the text is not PEP 440 (legacy versions such as ``0.7.10p1``)."""
    try:
        return Version(version)
    except InvalidVersion:
        return None
