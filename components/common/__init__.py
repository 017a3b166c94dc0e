"""Types and helpers shared by every gate: result, finding, severity, evidence, policy, errors.

This package imports no KFP and no heavy library, so the CLI stays fast and
engines stay testable on their own.
"""

from .errors import (
    ConfigError,
    GateBlocked,
    GateTimeoutError,
    InfrastructureError,
    InputNotFoundError,
    KfpGatesError,
    PolicyError,
    UnsafeInputError,
)
from .result import Finding, GateResult, Location, Subject, Tool
from .severity import Decision, Severity

__all__ = [
    "ConfigError",
    "Decision",
    "Finding",
    "GateBlocked",
    "GateResult",
    "GateTimeoutError",
    "InfrastructureError",
    "InputNotFoundError",
    "KfpGatesError",
    "Location",
    "PolicyError",
    "Severity",
    "Subject",
    "Tool",
    "UnsafeInputError",
]
