"""The policy file: which gates a pipeline must pass and how strictly.

```yaml
apiVersion: kfp-gates/v1
kind: GatePolicy
tier: standard            # critical | standard | fast-track
gates:
  dependency_scan:
    fail_on: high
    waivers:
      - {id: PYSEC-2023-1, reason: "not reachable", owner: sec@example.com, expires: 2026-12-31}
```

Unknown keys are rejected with their path, line and the nearest valid name:
a typo in a security policy must be an error, never a silent default. The
``tier`` sets each gate's defaults (:data:`TIER_DEFAULTS`); a section may
tighten them, and may loosen them except in the ``critical`` tier, which is a
floor.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import PolicyError
from .severity import Severity
from .yamlio import LoadedDocument, load_document, parse_document

API_VERSION: Literal["kfp-gates/v1"] = "kfp-gates/v1"
TIERS = ("critical", "standard", "fast-track")
Tier = Literal["critical", "standard", "fast-track"]
OnFail = Literal["block", "warn"]

GATES = (
    "data_validation",
    "dependency_scan",
    "image_scan",
    "model_scan",
    "model_signing",
    "secrets",
    "isolation",
    "source_integrity",
    "policy_gate",
    "promotion",
)

# (required, on_fail) per tier and gate. critical: everything required and blocking.
TIER_DEFAULTS: dict[str, dict[str, tuple[bool, OnFail]]] = {
    "critical": {g: (True, "block") for g in GATES},
    "standard": {
        "data_validation": (True, "block"),
        "dependency_scan": (True, "block"),
        "image_scan": (True, "block"),
        "model_scan": (True, "block"),
        "model_signing": (True, "block"),
        "secrets": (True, "block"),
        "isolation": (True, "block"),
        # Optional in this tier, but when it runs it blocks: a check that only warns lets tampered code run.
        "source_integrity": (False, "block"),
        "policy_gate": (True, "block"),
        "promotion": (True, "block"),
    },
    "fast-track": {
        "data_validation": (True, "warn"),
        "dependency_scan": (True, "warn"),
        "image_scan": (False, "warn"),
        "model_scan": (True, "block"),  # a code-execution payload always blocks
        "model_signing": (False, "warn"),
        "secrets": (False, "warn"),
        "isolation": (False, "warn"),
        "source_integrity": (False, "warn"),
        "policy_gate": (True, "block"),  # a deny rule is written to block
        "promotion": (True, "block"),
    },
}
# Default severity at or above which a finding blocks.
TIER_FAIL_ON: dict[str, Severity] = {
    "critical": Severity.MEDIUM,
    "standard": Severity.HIGH,
    "fast-track": Severity.CRITICAL,
}


class _TierRuleError(ValueError):
    """The tier rules' one-line summary, raised when a policy is validated without its document."""


_LAX_BOOL: TypeAdapter[bool] = TypeAdapter(bool)


def _tier_problems(tier: Any, value: Callable[[str, str], Any]) -> list[tuple[tuple[str, ...], str]]:
    """(location, message) of every setting the tier does not allow: one per key, each at its own location.

    ``value(gate, key)`` is the key's value, or None when absent. It reads a validated policy or a raw
    document alike, so a document with other errors still has its tier problems reported with them.
    """
    if tier not in TIERS:
        return []  # the tier itself is the problem, reported by the field's validation
    problems: list[tuple[tuple[str, ...], str]] = []
    if tier == "critical":
        for name in GATES:
            try:  # coerced as the field is ('no', 0): a loosened floor must not hide behind a spelling
                required = _LAX_BOOL.validate_python(value(name, "required"))
            except ValidationError:
                required = None
            if required is False:
                problems.append((("gates", name, "required"), "the critical tier requires every gate"))
            if value(name, "on_fail") == "warn":
                problems.append((("gates", name, "on_fail"), "the critical tier does not allow 'warn'"))
    if tier != "fast-track":
        if value("isolation", "isolation") == "none":
            problems.append(
                (("gates", "isolation", "isolation"), "'none' is only allowed in the fast-track tier")
            )
        if value("model_scan", "unknown_globals") == "warn":
            problems.append(
                (("gates", "model_scan", "unknown_globals"), "'warn' is only allowed in the fast-track tier")
            )
    return problems


def _document_value(data: dict[str, Any]) -> Callable[[str, str], Any]:
    """``value(gate, key)`` over a raw policy document, whatever else is wrong in it."""
    gates = data.get("gates")

    def value(gate: str, key: str) -> Any:
        section = gates.get(gate) if isinstance(gates, dict) else None
        return section.get(key) if isinstance(section, dict) else None

    return value


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """``"90d"``, ``"12h"``, ``"30m"``, ``"45s"``, ``"2w"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '90d', '12h', '30m' or a number of seconds")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"invalid duration {value!r}; use a number with s, m, h, d or w, e.g. '90d'")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def format_duration(td: timedelta) -> str:
    secs = int(td.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if secs and secs % _UNITS[unit] == 0:
            return f"{secs // _UNITS[unit]}{unit}"
    return f"{secs}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
SeverityName = Annotated[Severity, BeforeValidator(Severity.parse), PlainSerializer(str, return_type=str)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Waiver(_Strict):
    """Accept one finding (by id or alias) for a time. All four fields are mandatory."""

    id: str = Field(min_length=1, description="Finding id or alias, e.g. PYSEC-2024-1, CVE-2024-1, GHSA-...")
    reason: str = Field(min_length=3, description="Why the finding is acceptable")
    owner: str = Field(min_length=1, description="Who answers for the waiver")
    expires: date = Field(description="Last day the waiver applies (YYYY-MM-DD)")

    def active(self, today: date) -> bool:
        return today <= self.expires


class GateSection(_Strict):
    """Settings every gate understands."""

    required: bool | None = Field(default=None, description="Must the pipeline run this gate (tier default)")
    on_fail: OnFail | None = Field(default=None, description="block: a failing gate stops the pipeline; warn: shown")
    fail_on: SeverityName | None = Field(default=None, description="Lowest severity that fails the gate")
    waivers: tuple[Waiver, ...] = ()

    @field_validator("waivers")
    @classmethod
    def _unique_waivers(cls, v: tuple[Waiver, ...]) -> tuple[Waiver, ...]:
        ids = [w.id for w in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"waiver id listed twice: {', '.join(dup)}")
        return v


class DataValidationSection(GateSection):
    suite: str | None = Field(default=None, description="Great Expectations suite (JSON/YAML)")
    engine: Literal["pandas", "spark"] = "pandas"
    max_unexpected_values: int = Field(
        default=5, ge=0, le=20, description="Unexpected values quoted per failed expectation (0: none, e.g. PII)"
    )


class DependencyScanSection(GateSection):
    advisories: str | None = Field(
        default=None, description="OSV advisories: directory, all.zip or compact .json.gz; default embedded PyPA"
    )
    max_advisory_age: Duration | None = Field(
        default=None, description="Advisory data older than this warns or blocks (critical tier default: 30d)"
    )
    stale_advisories: OnFail | None = Field(
        default=None, description="Stale advisory data: block or warn (default: block in critical, else warn)"
    )
    require_pins: bool = Field(default=True, description="Report requirements not pinned with ==")
    require_hashes: bool = Field(default=False, description="Report requirements without --hash")
    allowed_indexes: tuple[str, ...] = Field(
        default=(), description="Package index URLs allowed (private mirror); empty: any index"
    )
    allow_extra_index_url: bool = Field(default=False, description="Allow --extra-index-url (dependency confusion)")
    allow_trusted_host: bool = Field(default=False, description="Allow --trusted-host (no TLS verification)")
    require_image_digest: bool = Field(default=True, description="Report images referenced by tag, not digest")
    require_hf_revision: bool = Field(default=True, description="Report Hugging Face loads without a commit revision")
    forbid_trust_remote_code: bool = Field(default=True, description="Report trust_remote_code=True")


class ImageScanSection(GateSection):
    trivy_db: str | None = Field(default=None, description="Offline Trivy cache directory (holds db/trivy.db)")
    ignore_unfixed: bool = Field(default=False, description="Skip vulnerabilities that have no fixed version yet")
    max_advisory_age: Duration | None = Field(
        default=None, description="Trivy DB / report older than this warns or blocks (critical tier default: 30d)"
    )
    stale_advisories: OnFail | None = Field(
        default=None, description="Stale data: block or warn (default: block in critical, else warn)"
    )
    timeout: Duration = Field(default=timedelta(minutes=10), description="Limit for one trivy run")
    require_image_digest: bool = Field(default=True, description="Report an image referenced by tag, not digest")


UnanalysedFormat = Literal["unknown", "empty", "empty-directory", "gguf", "hdf5", "symlink", "special-file"]


class AcceptUnanalysed(_Strict):
    """One kind of input the model scan may pass without analysing it (recorded in the evidence)."""

    format: UnanalysedFormat | None = Field(default=None, description="What the scanner could not analyse")
    path: str | None = Field(
        default=None, min_length=1, description="Glob on the path relative to the scanned root ('a.zip!member')"
    )
    reason: str = Field(min_length=3, description="Why passing it unanalysed is acceptable")

    @model_validator(mode="after")
    def _names_something(self) -> AcceptUnanalysed:
        if self.format is None and self.path is None:
            raise ValueError("accept_unanalysed entry needs a format, a path, or both")
        return self


class ModelScanSection(GateSection):
    accept_unanalysed: tuple[AcceptUnanalysed, ...] = Field(
        default=(), description="Inputs the scan cannot analyse that may pass anyway: [{format, path, reason}]"
    )
    allow: tuple[str, ...] = Field(
        default=(), description="Extra allowed globals, 'module.name' or 'module.*' (denylisted ones are refused)"
    )
    unknown_globals: OnFail | None = Field(
        default=None, description="Globals neither allow- nor denylisted: block (default) or warn (fast-track only)"
    )
    max_decompressed_bytes: int = Field(
        default=64 << 30, gt=0, description="Bound on bytes decompressed from archives and compressed streams"
    )
    max_archive_members: int = Field(default=100_000, gt=0, description="Bound on members of one zip or tar")
    max_nesting_depth: int = Field(
        default=4, ge=0, description="Bound on archives/compression/nested pickles inside one another"
    )


class ModelSigningSection(GateSection):
    require_gates: tuple[str, ...] = Field(
        default=(), description="Gates whose passing results the signature must carry, e.g. [model_scan]"
    )
    ignore_paths: tuple[str, ...] = Field(
        default=(".git", ".gitattributes", ".github", ".gitignore"),
        description="Model-relative paths left out of the signature (recorded in what is signed)",
    )
    hashing: Literal["auto", "files", "shards"] = Field(
        default="auto",
        description="auto: shards when a file reaches 512 MiB (parallel), else files (upstream CLI compatible)",
    )
    shard_size: int = Field(default=256 << 20, ge=1 << 20, description="Shard size in bytes (shard hashing)")


class SecretsSection(GateSection):
    max_secret_age: Duration | None = Field(default=None, description="KV v2 secrets older than this are findings")
    stale_severity: SeverityName = Field(default=Severity.MEDIUM, description="Severity of a too-old secret")
    wrap_ttl: Duration = Field(default=timedelta(minutes=5), description="Default TTL of a wrapping token")
    max_wrap_ttl: Duration = Field(default=timedelta(hours=1), description="Longest wrapping-token TTL allowed")

    @model_validator(mode="after")
    def _wrap_ttl_bounded(self) -> SecretsSection:
        if self.wrap_ttl > self.max_wrap_ttl:
            raise ValueError("wrap_ttl is longer than max_wrap_ttl")
        return self


_ISO_SIZE = re.compile(r"^\d+(\.\d+)?([KMGTPE]i?|[kmgtpe])?$")
_ISO_EGRESS = re.compile(
    r"^(dns|cidr:[0-9a-fA-F.:]+/\d{1,3}:\d{1,5}(/(TCP|UDP))?|namespace:[a-z0-9]([-a-z0-9]*[a-z0-9])?:\d{1,5}(/(TCP|UDP))?)$"
)


class IsolationSection(GateSection):
    """Isolation launcher: where a step runs, what it may reach, its limits (gate ``isolation``)."""

    isolation: Literal["namespaces", "kubernetes", "none"] | None = Field(
        default=None,
        description="namespaces (local, default), kubernetes, or none (fast-track only; runs unisolated)",
    )
    allow_egress: tuple[str, ...] = Field(
        default=(),
        description="Egress exceptions (Kubernetes): 'dns', 'cidr:10.0.0.5/32:9000[/TCP]', 'namespace:minio:9000'",
    )
    timeout: Duration = timedelta(hours=6)
    memory: str | None = Field(default=None, description="Memory limit, e.g. 4Gi (rlimit AS / container limit)")
    cpu: str | None = Field(default=None, description="Kubernetes CPU request and limit, e.g. '2' or '500m'")
    cpu_time: Duration | None = Field(default=None, description="CPU-time limit (local rlimit)")
    max_file_size: str | None = Field(default=None, description="Largest file the step may write, e.g. 16Gi")
    max_processes: int | None = Field(default=None, gt=0, le=1 << 22, description="Process/thread limit")
    env: tuple[str, ...] = Field(default=(), description="Caller environment variables passed in by name")
    hide: tuple[str, ...] = Field(default=(), description="Extra host paths hidden from a local sandbox")
    namespace: str | None = Field(default=None, description="Kubernetes namespace for the step's Job")
    per_run_namespace: bool = Field(default=False, description="Create (and delete) a namespace per run")
    ttl_after_finished: Duration = Field(default=timedelta(minutes=10), description="Job GC after it finishes")

    @field_validator("memory", "max_file_size")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        if v is not None and not _ISO_SIZE.match(v):
            raise ValueError(f"invalid size {v!r}; use e.g. 512Mi, 4Gi or a number of bytes")
        return v

    @field_validator("allow_egress")
    @classmethod
    def _egress(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [e for e in v if not _ISO_EGRESS.match(e)]
        if bad:
            raise ValueError(
                f"unknown egress exception {bad[0]!r}; use 'dns', 'cidr:<ip>/<bits>:<port>[/TCP|UDP]' "
                "or 'namespace:<name>:<port>[/TCP|UDP]'"
            )
        return v

    @field_validator("hide")
    @classmethod
    def _absolute(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        rel = [p for p in v if not p.startswith("/")]
        if rel:
            raise ValueError(f"hide paths must be absolute: {rel[0]!r}")
        return v


class SourceIntegritySection(GateSection):
    allowed_signers: str | None = Field(default=None, description="SSH allowed-signers file (ssh-keygen format)")
    gpg_keys: str | None = Field(default=None, description="ASCII-armored OpenPGP public keys of allowed signers")
    require_clean_tree: bool = Field(default=True, description="The work tree must be exactly the verified commit")
    lock_file: str | None = Field(default=None, description="Component lock the compiled pipeline must match")
    timeout: Duration = Field(default=timedelta(minutes=5), description="Time limit for each git command")


_REGO_PACKAGE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class PolicyGateSection(GateSection):
    """Rego policy gate: ``deny``/``warn`` rules over the run's metrics and every gate result."""

    rego: str | None = Field(
        default=None, description="Rego file or directory (default: the shipped promotion rule, promotion.rego)"
    )
    package: str = Field(
        default="main", pattern=_REGO_PACKAGE, description="Package whose deny/warn rules decide (Conftest: main)"
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Thresholds the rules read as data.<key>, e.g. {min_accuracy: 0.9}"
    )

    @field_validator("data")
    @classmethod
    def _json_data(cls, v: dict[str, Any]) -> dict[str, Any]:
        import json

        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"data must be plain JSON values (numbers, strings, lists, maps): {exc}") from None
        return v


class PromotionSection(GateSection):
    min_metrics: dict[str, float] = Field(default_factory=dict, description="e.g. {accuracy: 0.9}")
    rego: str | None = Field(default=None, description="Extra Rego policy file")


class Gates(_Strict):
    data_validation: DataValidationSection = DataValidationSection()
    dependency_scan: DependencyScanSection = DependencyScanSection()
    image_scan: ImageScanSection = ImageScanSection()
    model_scan: ModelScanSection = ModelScanSection()
    model_signing: ModelSigningSection = ModelSigningSection()
    secrets: SecretsSection = SecretsSection()
    isolation: IsolationSection = IsolationSection()
    source_integrity: SourceIntegritySection = SourceIntegritySection()
    policy_gate: PolicyGateSection = PolicyGateSection()
    promotion: PromotionSection = PromotionSection()


class Metadata(_Strict):
    name: str | None = None
    owner: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class EffectiveGate:
    """A gate's settings after the tier defaults are applied."""

    name: str
    required: bool
    on_fail: OnFail
    fail_on: Severity
    waivers: tuple[Waiver, ...]
    section: GateSection


class GatePolicy(_Strict):
    """A parsed, validated policy file. Build with :meth:`load`, :meth:`parse` or :meth:`default`."""

    api_version: Literal["kfp-gates/v1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["GatePolicy"] = "GatePolicy"
    metadata: Metadata = Metadata()
    tier: Tier = "standard"
    gates: Gates = Gates()

    @model_validator(mode="after")
    def _tier_rules(self) -> GatePolicy:
        # From a document, _from_document reports these per key with their lines instead of this summary.
        problems = _tier_problems(self.tier, lambda gate, key: getattr(getattr(self.gates, gate), key))
        if problems:
            raise _TierRuleError("; ".join(f"{'.'.join(loc)}: {msg}" for loc, msg in problems))
        return self

    # ----- construction ------------------------------------------------
    @classmethod
    def default(cls, tier: str = "standard") -> GatePolicy:
        if tier not in TIERS:
            raise PolicyError(f"unknown tier {tier!r}", hint=f"choose one of: {', '.join(TIERS)}")
        return cls.model_validate({"tier": tier})

    @classmethod
    def load(cls, path: str | Path) -> GatePolicy:
        """Read and validate a policy file. Raises :class:`PolicyError` (exit 2) naming every problem."""
        return cls._from_document(load_document(path, what="policy file"))

    @classmethod
    def parse(cls, text: str, name: str = "<policy>") -> GatePolicy:
        return cls._from_document(parse_document(text, name, what="policy"))

    @classmethod
    def _from_document(cls, doc: LoadedDocument) -> GatePolicy:
        if not isinstance(doc.data, dict):
            raise PolicyError(
                "policy must be a mapping with apiVersion, kind, tier and gates",
                where=doc.path,
                hint="start from `kfp-gates policy show --tier standard --format yaml`",
            )
        try:
            return cls.model_validate(doc.data)
        except ValidationError as exc:
            # The tier rules run only on a policy whose fields all validate, and then as one summary at the
            # top level: read them from the document instead, one problem per key at its line, with the rest.
            tier = _tier_problems(doc.data.get("tier", "standard"), _document_value(doc.data))
            errors: list[Any] = [err for err in exc.errors() if not (tier and _is_tier_summary(err))]
            errors += [{"loc": loc, "msg": msg, "type": "tier_floor"} for loc, msg in tier]
            raise PolicyError(
                f"invalid policy ({len(errors)} problem{'s' if len(errors) != 1 else ''})",
                problems=[d for _, d in sorted((_describe(err, doc) for err in errors), key=lambda x: x[0])],
                where=doc.path,
                hint="`kfp-gates policy schema` prints every valid key",
            ) from None

    # ----- queries -----------------------------------------------------
    def gate(self, name: str) -> EffectiveGate:
        if name not in GATES:
            raise KeyError(name)
        sec: GateSection = getattr(self.gates, name)
        required, on_fail = TIER_DEFAULTS[self.tier][name]
        return EffectiveGate(
            name=name,
            required=required if sec.required is None else sec.required,
            on_fail=on_fail if sec.on_fail is None else sec.on_fail,
            fail_on=sec.fail_on or TIER_FAIL_ON[self.tier],
            waivers=sec.waivers,
            section=sec,
        )

    def effective(self) -> list[EffectiveGate]:
        return [self.gate(g) for g in GATES]

    def to_yaml_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def policy_json_schema() -> dict[str, Any]:
    schema = GatePolicy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kfp-gates.dev/schemas/policy/v1.json"
    return schema


# ----- error descriptions ----------------------------------------------------


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _valid_keys(loc: tuple[str | int, ...]) -> list[str]:
    """Valid key names of the mapping at ``loc`` (empty when it is not a model)."""
    model: type[BaseModel] | None = GatePolicy
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return []
        model = _model_of(field.annotation)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _is_tier_summary(err: Any) -> bool:
    return isinstance((err.get("ctx") or {}).get("error"), _TierRuleError)


def _describe(err: Any, doc: LoadedDocument) -> tuple[int, str]:
    """(line, text) of one validation error."""
    loc: tuple[str | int, ...] = tuple(err.get("loc", ()))
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[") or "(top level)"
    line = doc.line_of(loc)
    where = f"{doc.path}:{line}" if line else doc.path
    if err.get("type") == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        valid = _valid_keys(loc[:-1])
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        if close:
            suggestion = f"; did you mean '{close[0]}'?"
        else:
            suggestion = f"; valid keys: {', '.join(valid)}" if valid else ""
        return line or 0, f"{where}: {path}: unknown key{suggestion}"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    return line or 0, f"{where}: {path}: {msg}"
