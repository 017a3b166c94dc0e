"""The container image every kfp-gates component runs in.

Components are lightweight Python components whose ``base_image`` is the
kfp-gates image (deploy/Dockerfile) pinned by digest, never by tag. Release
builds write the digest of the pushed image into ``IMAGE_DIGEST``; operators
who mirror the image set ``KFP_GATES_IMAGE`` (``repo@sha256:...``) at compile
time. A tag-only reference is refused.
"""

from __future__ import annotations

import os
import re

IMAGE_REPOSITORY = "ghcr.io/kfp-gates/kfp-gates"
# Placeholder until the first release build pushes the image and records its digest.
IMAGE_DIGEST = "sha256:" + "0" * 64
_PINNED = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")


def component_image() -> str:
    """The image reference for components: ``$KFP_GATES_IMAGE`` or the release default, digest-pinned."""
    image = os.environ.get("KFP_GATES_IMAGE") or f"{IMAGE_REPOSITORY}@{IMAGE_DIGEST}"
    if not _PINNED.match(image):
        raise ValueError(f"KFP_GATES_IMAGE must be pinned by digest (repo@sha256:<64 hex>), got {image!r}")
    return image


def is_placeholder_image(image: str) -> bool:
    """True when ``image`` is pinned to a reserved digest (see ``kfp_ir.is_placeholder_digest``)."""
    from kfp_gates.components.common.kfp_ir import is_placeholder_digest

    return is_placeholder_digest(image)


IMAGE = component_image()
