"""Why a stream could not be analysed to the end.

These never escape the scanner: each one becomes a blocking finding ("cannot
prove safe"), because a loader may execute everything before the point
where the scanner stopped understanding the bytes.
"""

from __future__ import annotations


class StreamError(Exception):
    """The bytes stop making sense at ``offset`` (absolute, in the scanned stream)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class Truncated(StreamError):
    """The stream ends before the structure it started is complete."""

    def __init__(self, offset: int | None = None) -> None:
        super().__init__("stream is truncated (ends inside a structure)", offset)


class Corrupt(StreamError):
    """Bytes that no loader accepts: an unknown opcode, a stack underflow, a bad length."""


class LimitExceeded(StreamError):
    """A bound from the policy (decompressed size, members, nesting) was reached."""
