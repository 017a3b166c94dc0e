"""The one result shape every gate returns.

Values are frozen pydantic models, so a result validates when it is built and
when it is read back from JSON, and its JSON Schema is generated from the same
definition (``kfp-gates schema result``).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .severity import Decision, Severity

RESULT_SCHEMA_VERSION: Literal["kfp-gates.dev/result/v1"] = "kfp-gates.dev/result/v1"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Location(_Frozen):
    """Where a finding is: a file, and inside it a line, an archive member, a byte offset or a field."""

    path: str | None = None
    line: int | None = Field(default=None, ge=1)
    column: int | None = Field(default=None, ge=1)
    member: str | None = None
    offset: int | None = Field(default=None, ge=0)
    field: str | None = None

    def __str__(self) -> str:
        out = self.path or ""
        if self.member:
            out += f"!{self.member}"
        if self.line is not None:
            out += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        if self.offset is not None:
            out += f"@{self.offset}"
        if self.field:
            out += f" [{self.field}]" if out else self.field
        return out


class AppliedWaiver(_Frozen):
    """The waiver that suppressed a finding, copied into the result for the audit trail."""

    id: str
    reason: str
    owner: str
    expires: str


class Finding(_Frozen):
    """One thing a gate found. ``id`` is stable (an advisory id, a rule id) so it can be waived."""

    id: str = Field(min_length=1)
    severity: Severity
    message: str
    location: Location | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    waiver: AppliedWaiver | None = None

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    def ids(self) -> set[str]:
        """The finding id and any aliases (``data["aliases"]``), for waiver matching."""
        aliases = self.data.get("aliases") or []
        return {self.id, *[str(a) for a in aliases]}


# A result whose subject could not be read carries no digest and this blocking finding (see Subject.unread).
SUBJECT_UNREAD = "KFPG-SUBJECT-UNREAD"


class Subject(_Frozen):
    """What was checked: a name and its content digests.

    ``digest`` holds ``sha256`` (64 lowercase hex characters) — the sha256 of the
    checked bytes, never of a path. It is empty only when the gate could not
    read its subject (:meth:`unread`); a result with such a subject must be a
    ``fail`` carrying a :data:`SUBJECT_UNREAD` finding, so nothing can bind it as a pass.
    """

    name: str
    digest: dict[str, str]

    @field_validator("digest")
    @classmethod
    def _has_sha256(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            return v
        sha = v.get("sha256")
        if sha is None or not _SHA256.match(sha):
            raise ValueError("digest must contain 'sha256' as 64 lowercase hex characters")
        if sha == "0" * 64:
            raise ValueError("the all-zero sha256 is a placeholder, not the digest of anything checked")
        return v

    @classmethod
    def unread(cls, name: str) -> Subject:
        """A subject the gate could not read: no digest (never a made-up one)."""
        return cls(name=name, digest={})

    @property
    def known(self) -> bool:
        return bool(self.digest)

    @property
    def sha256(self) -> str | None:
        """The content digest, or None when the subject could not be read."""
        return self.digest.get("sha256")

    def describe(self) -> str:
        """``name (sha256:<digest>)`` or ``name (not read)``, for messages."""
        return f"{self.name} (sha256:{self.sha256})" if self.sha256 else f"{self.name} (not read: no digest)"


class Tool(_Frozen):
    name: str
    version: str


def utcnow() -> datetime:
    return datetime.now(UTC)


class GateResult(_Frozen):
    """A gate's verdict on one subject, with everything needed to audit it.

    ``decision`` is ``fail`` when a non-waived finding reached the policy's
    threshold (and the policy says to block), ``warn`` when findings remain
    that do not block, ``pass`` otherwise.
    """

    schema_version: Literal["kfp-gates.dev/result/v1"] = RESULT_SCHEMA_VERSION
    gate: str = Field(min_length=1)
    decision: Decision
    subject: Subject
    tool: Tool
    findings: tuple[Finding, ...] = ()
    policy: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("started_at", "finished_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("timestamps must carry a time zone (UTC)")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> GateResult:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        if not self.subject.known:
            blocking = any(f.id == SUBJECT_UNREAD and not f.waived for f in self.findings)
            if self.decision is not Decision.FAIL or not blocking:
                raise ValueError(
                    f"a result whose subject has no digest must be 'fail' with a {SUBJECT_UNREAD} finding"
                )
        return self

    # ----- convenience -------------------------------------------------
    @property
    def passed(self) -> bool:
        return self.decision is not Decision.FAIL

    @property
    def exit_code(self) -> int:
        return 1 if self.decision is Decision.FAIL else 0

    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.waived]

    def counts(self) -> dict[str, int]:
        """Non-waived findings per severity, every severity present (zero when none)."""
        c = Counter(f.severity.value for f in self.active_findings())
        return {s.value: c.get(s.value, 0) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> GateResult:
        return cls.model_validate_json(text)


def result_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :class:`GateResult`, as published by ``kfp-gates schema result``."""
    schema = GateResult.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kfp-gates.dev/schemas/result/v1.json"
    return schema
