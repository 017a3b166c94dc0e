"""Typed errors of the model-signing gate.

Verification raises, it never returns ``False``. Every refusal is a
:class:`~kfp_gates.components.common.errors.GateBlocked` (exit 1) that names
what differs; a missing model, signature or key is an
:class:`~kfp_gates.components.common.errors.InputNotFoundError` (exit 2); an
unreachable Vault or an offline Sigstore is an
:class:`~kfp_gates.components.common.errors.InfrastructureError` (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass

from kfp_gates.components.common.errors import GateBlocked, InfrastructureError

# Finding ids, stable so that reports and waivers can name them.
MODIFIED = "KFPG-SIGN-MODIFIED"
ADDED = "KFPG-SIGN-ADDED"
REMOVED = "KFPG-SIGN-REMOVED"
RENAMED = "KFPG-SIGN-RENAMED"
SYMLINK = "KFPG-SIGN-SYMLINK"
SPECIAL = "KFPG-SIGN-SPECIAL-FILE"
NOT_A_BUNDLE = "KFPG-SIGN-NOT-A-BUNDLE"
WRONG_KEY = "KFPG-SIGN-WRONG-KEY"
BAD_SIGNATURE = "KFPG-SIGN-BAD-SIGNATURE"
UNTRUSTED = "KFPG-SIGN-UNTRUSTED-CERTIFICATE"
BAD_STATEMENT = "KFPG-SIGN-BAD-STATEMENT"
GATE_MISSING = "KFPG-SIGN-GATE-MISSING"
GATE_FAILED = "KFPG-SIGN-GATE-FAILED"
GATE_RESULT_UNSIGNED = "KFPG-SIGN-GATE-RESULT-UNSIGNED"
GATE_OTHER_SUBJECT = "KFPG-SIGN-GATE-OTHER-SUBJECT"  # a gate result about other bytes than this model
GATE_SUBJECT_UNREAD = "KFPG-SIGN-GATE-SUBJECT-UNREAD"  # a gate result that names no subject digest


@dataclass(frozen=True, order=True)
class Difference:
    """One way the model on disk differs from what was signed.

    ``kind`` is one of ``modified``, ``added``, ``removed``, ``renamed``,
    ``symlink``, ``special``; ``path`` is model-relative (POSIX); ``detail``
    says more (the new name of a renamed file, the byte ranges that changed).
    """

    kind: str
    path: str
    detail: str = ""

    @property
    def finding_id(self) -> str:
        return {
            "modified": MODIFIED,
            "added": ADDED,
            "removed": REMOVED,
            "renamed": RENAMED,
            "symlink": SYMLINK,
            "special": SPECIAL,
        }[self.kind]

    def __str__(self) -> str:
        text = {
            "modified": "modified file",
            "added": "added file (not in the signature)",
            "removed": "removed file (signed, now missing)",
            "renamed": "renamed file",
            "symlink": "symlink swapped in",
            "special": "special file (fifo, socket or device)",
        }[self.kind]
        return f"{text}: {self.path}" + (f" ({self.detail})" if self.detail else "")


class SignatureError(GateBlocked):
    """The signature cannot be trusted: not a bundle, another key, a broken signature, an untrusted chain.

    ``finding_id`` is one of the ``KFPG-SIGN-*`` ids above.
    """

    def __init__(self, message: str, *, finding_id: str, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, where=where, hint=hint)
        self.finding_id = finding_id


class ModelIntegrityError(GateBlocked):
    """The signature is valid but the model on disk is not what was signed. ``differences`` names each file."""

    def __init__(
        self, differences: tuple[Difference, ...], *, where: str | None = None, model_digest: str | None = None
    ) -> None:
        shown = "; ".join(str(d) for d in differences[:20])
        more = f"; and {len(differences) - 20} more" if len(differences) > 20 else ""
        super().__init__(
            f"model does not match its signature: {shown}{more}",
            where=where,
            hint="the model was changed after signing; re-run the gates and sign again, or deploy the signed bytes",
        )
        self.differences = differences
        self.model_digest = model_digest  # of the bytes on disk (not the signed ones)


class GateBindingError(GateBlocked):
    """A gate result is absent, did not pass, or is about other bytes than the model (``model_digest``)."""

    def __init__(
        self, message: str, *, finding_id: str, gate: str, hint: str | None = None, model_digest: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.finding_id = finding_id
        self.gate = gate
        self.model_digest = model_digest  # of the model that was hashed, when it was


class SignerUnavailableError(InfrastructureError):
    """A signing or verification backend cannot be reached (Vault down, Sigstore offline)."""
