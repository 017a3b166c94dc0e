"""The decorator every kfp-gates KFP component is made with: :func:`gate_component`.

A gate's verdict is only worth something about the bytes it just read. The KFP
backend's cache key is the input artifact names, the parameters and the
image/command, not the artifact contents, so a cached gate task returns last
week's pass for changed bytes, and time-dependent gates (advisory age, waiver
expiry, secret age, single-use token delivery) go stale. So every task made from
a kfp-gates component has caching off, whatever the pipeline's default; the
hardener of ``secure()`` and ``kfp-gates check`` hold compiled pipelines to the same.

This module imports kfp: only component modules import it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from kfp import dsl
from kfp.dsl import pipeline_task, python_component

from ._image import IMAGE, is_placeholder_image


class PlaceholderImageWarning(UserWarning):
    """The component image is pinned to a placeholder digest that no registry holds."""


class GateComponent(python_component.PythonComponent):
    """A lightweight Python component whose every task runs with caching off."""

    def __call__(self, *args: Any, **kwargs: Any) -> pipeline_task.PipelineTask:
        task = super().__call__(*args, **kwargs)
        task.set_caching_options(False)
        gate = kwargs.get("gate")
        if self.name == "enforce-verdict" and isinstance(gate, str) and gate:
            # The UI lists tasks by display name: "enforce model_scan", not "enforce-verdict-3".
            task.set_display_name(f"enforce {gate}")
        return task


_warned = False


def gate_component(func: Callable[..., Any]) -> GateComponent:
    """``@dsl.component`` in the kfp-gates image (pinned by digest), no kfp install at start, caching off."""
    global _warned
    if is_placeholder_image(IMAGE) and not _warned:
        _warned = True  # once per process: loud, not a wall of the same text
        warnings.warn(
            f"kfp-gates components use the placeholder image {IMAGE}: no registry holds it, so pods cannot "
            "start and `kfp-gates check` blocks it. Build the image (`make image`), push it to your registry "
            "and set KFP_GATES_IMAGE=<repo>@sha256:<digest> before compiling.",
            PlaceholderImageWarning,
            stacklevel=2,
        )
    comp = dsl.component(base_image=IMAGE, install_kfp_package=False)(func)
    return GateComponent(component_spec=comp.component_spec, python_func=comp.python_func)
