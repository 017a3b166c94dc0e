"""One exception root for kfp-gates, split by cause.

Every error carries a human diagnostic (what went wrong, where, what to do
next) and maps to a CLI exit code:

* :class:`GateBlocked`          -> 1  the gate decided "no" (tampering, unsafe input)
* :class:`ConfigError`          -> 2  usage or configuration error (bad flag, missing file, invalid policy)
* :class:`InfrastructureError`  -> 3  a service is unreachable, sealed, or timed out

A gate's *decision* is data (:class:`~kfp_gates.components.common.result.GateResult`);
these exceptions are for the cases where a gate cannot produce a result, or
where a verifier refuses (verification raises, it never returns ``False``).
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_BLOCKED = 1
EXIT_CONFIG = 2
EXIT_INFRA = 3


class KfpGatesError(Exception):
    """Root of every error kfp-gates raises on purpose.

    ``message`` says what happened; ``where`` names the file, line or field;
    ``hint`` says what to do about it.
    """

    exit_code: int = EXIT_BLOCKED

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def diagnostics(self) -> str:
        """The text shown to a person: location, message and next step."""
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def __str__(self) -> str:
        return self.diagnostics()


class GateBlocked(KfpGatesError):
    """The gate refused: what was checked cannot be proven safe or is not what was signed."""

    exit_code = EXIT_BLOCKED


class UnsafeInputError(GateBlocked):
    """Input could not be parsed, so it cannot be proven safe (fail closed)."""


class ConfigError(KfpGatesError):
    """Usage or configuration is wrong: a bad flag, a missing file, an invalid policy or suite."""

    exit_code = EXIT_CONFIG


class InputNotFoundError(ConfigError):
    """A file or directory named by the user does not exist or cannot be read."""


class PolicyError(ConfigError):
    """A policy file is invalid. ``problems`` lists each problem with its location."""

    def __init__(self, message: str, problems: list[str] | None = None, **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.problems = list(problems or [])

    def diagnostics(self) -> str:
        head = f"{self.where}: {self.message}" if self.where else self.message
        body = "".join(f"\n  - {p}" for p in self.problems)
        return head + body + (f"\n  hint: {self.hint}" if self.hint else "")


class InfrastructureError(KfpGatesError):
    """A service the gate needs is unreachable, sealed, standby, or timed out."""

    exit_code = EXIT_INFRA


class GateTimeoutError(InfrastructureError):
    """The gate ran out of time before it could decide."""
