"""Text from the thing under test, made safe to show."""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with control characters replaced.

    Commit metadata and pipeline YAML are attacker-written and end up in
    terminals and reports: an escape sequence in an author name or an image
    reference must not repaint a CI log.
    """
    return "".join(c if c.isprintable() else "\N{REPLACEMENT CHARACTER}" for c in text)
