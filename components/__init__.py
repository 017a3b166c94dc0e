"""KFP components of kfp-gates, and the engines behind them.

``from kfp_gates.components import scan_model, enforce_verdict, ...`` imports
the KFP component on first use. The names are resolved lazily, from the table
below, so that importing an engine (``kfp_gates.components.common`` and the
gate subpackages) or running the CLI does not import kfp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it (each gate adds its components here)
_COMPONENTS: dict[str, str] = {
    "enforce_verdict": "kfp_gates.components.enforce",
    "validate_data": "kfp_gates.components.data_validation.component",
    "check_secret_age": "kfp_gates.components.secrets.component",
    "fetch_secret": "kfp_gates.components.secrets.component",
    "revoke_leases": "kfp_gates.components.secrets.component",
    "sign_model": "kfp_gates.components.model_signing.component",
    "verify_model": "kfp_gates.components.model_signing.component",
    "verify_source": "kfp_gates.components.source_integrity.component",
    "scan_dependencies": "kfp_gates.components.dependency_scan.component",
    "scan_container_image": "kfp_gates.components.dependency_scan.component",
    "launch_isolated": "kfp_gates.components.isolation.component",
    "scan_model": "kfp_gates.components.model_scan.component",
    "policy_gate": "kfp_gates.components.rego_policy.component",
}

__all__ = sorted(_COMPONENTS)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .data_validation.component import validate_data  # noqa: F401
    from .dependency_scan.component import scan_container_image, scan_dependencies  # noqa: F401
    from .enforce import enforce_verdict  # noqa: F401
    from .isolation.component import launch_isolated  # noqa: F401
    from .model_scan.component import scan_model  # noqa: F401
    from .model_signing.component import sign_model, verify_model  # noqa: F401
    from .rego_policy.component import policy_gate  # noqa: F401
    from .secrets.component import check_secret_age, fetch_secret, revoke_leases  # noqa: F401
    from .source_integrity.component import verify_source  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _COMPONENTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kfp_gates.components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_COMPONENTS))
