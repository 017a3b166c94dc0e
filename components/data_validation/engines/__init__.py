"""Validation engines: one small interface, one module per engine (pandas, Spark)."""

from __future__ import annotations

from .interface import EngineRun, ExpectationOutcome, ValidationEngine

ENGINES = ("pandas", "spark")


def make_engine(name: str) -> ValidationEngine:
    """The engine called ``name``. Raises ConfigError for an unknown name."""
    from kfp_gates.components.common.errors import ConfigError

    if name == "pandas":
        from .pandas import PandasEngine

        return PandasEngine()
    if name == "spark":
        from .spark import SparkEngine

        return SparkEngine()
    raise ConfigError(f"unknown engine {name!r}", hint=f"choose one of: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "EngineRun", "ExpectationOutcome", "ValidationEngine", "make_engine"]
