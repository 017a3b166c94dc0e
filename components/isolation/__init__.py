"""The isolation launcher: run a step with no network egress, no credentials, limits and a deadline.

Public API (engines; the KFP component is :mod:`.component`)::

    from kfp_gates.components.isolation import StepSpec, Limits, launch, LocalNamespaceBackend

    result, outcome = launch(policy, StepSpec(argv=("python3", "train.py"), output=Path("out")))

* :mod:`.interface` - :class:`IsolationBackend` (the one extension point), :class:`StepSpec`,
  :class:`Limits`, :class:`StepOutcome`;
* :mod:`.local` - Linux namespaces on this machine (``kfp-gates sandbox``);
* :mod:`.kubernetes` - a locked-down Job with a deny-all NetworkPolicy (``kfp-gates launch``);
* :mod:`.gate` - backend choice from the policy, findings and the gate result.

Importing this package imports neither kfp nor the kubernetes client.
"""

from .gate import launch
from .interface import IsolationBackend, Limits, StepOutcome, StepSpec
from .local import IsolationUnavailable, LocalNamespaceBackend, UnisolatedBackend

__all__ = [
    "IsolationBackend",
    "IsolationUnavailable",
    "Limits",
    "LocalNamespaceBackend",
    "StepOutcome",
    "StepSpec",
    "UnisolatedBackend",
    "launch",
]
