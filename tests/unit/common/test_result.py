"""The shared result model: ordering, JSON round trip, schema, evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from pydantic import ValidationError

from kfp_gates.components.common.digest import sha256_bytes
from kfp_gates.components.common.errors import UnsafeInputError
from kfp_gates.components.common.evidence import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    from_statement,
    to_statement,
)
from kfp_gates.components.common.result import (
    Finding,
    GateResult,
    Location,
    Subject,
    Tool,
    result_json_schema,
)
from kfp_gates.components.common.severity import Decision, Severity

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SHA = sha256_bytes(b"model bytes")


def make_result(**overrides) -> GateResult:
    fields = dict(
        gate="model_scan",
        decision=Decision.FAIL,
        subject=Subject(name="model.pkl", digest={"sha256": SHA}),
        tool=Tool(name="kfp-gates", version="0.1.0"),
        findings=(
            Finding(
                id="KFPG-PICKLE-DANGEROUS",
                severity=Severity.CRITICAL,
                message="os.system reachable",
                location=Location(path="model.pkl", member="data.pkl", offset=42),
                data={"global": "os.system"},
            ),
            Finding(id="PYSEC-2024-1", severity=Severity.LOW, message="low", data={"aliases": ["CVE-2024-1"]}),
        ),
        policy={"fail_on": "high"},
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2),
        metadata={"files": 1},
    )
    fields.update(overrides)
    return GateResult(**fields)


def test_severity_order_is_by_risk_not_alphabet():
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert sorted([Severity.HIGH, Severity.CRITICAL, Severity.INFO, Severity.LOW]) == [
        Severity.INFO,
        Severity.LOW,
        Severity.HIGH,
        Severity.CRITICAL,
    ]
    assert max(Severity) is Severity.CRITICAL
    assert Severity.parse("HIGH") is Severity.HIGH
    with pytest.raises(ValueError, match="choose one of"):
        Severity.parse("severe")


@pytest.mark.parametrize(
    ("score", "expected"),
    [(9.8, Severity.CRITICAL), (7.0, Severity.HIGH), (6.9, Severity.MEDIUM), (0.1, Severity.LOW), (0.0, Severity.INFO)],
)
def test_cvss_score_rating(score, expected):
    assert Severity.from_cvss_score(score) is expected


def test_json_round_trip_is_lossless():
    r = make_result()
    again = GateResult.from_json(r.to_json())
    assert again == r
    assert again.findings[0].location.offset == 42
    assert again.findings[1].ids() == {"PYSEC-2024-1", "CVE-2024-1"}


def test_result_json_validates_against_published_schema():
    schema = result_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(make_result().to_json()), schema)


def test_schema_rejects_what_the_model_rejects():
    schema = result_json_schema()
    doc = json.loads(make_result().to_json())
    doc["decision"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
    with pytest.raises(ValidationError):
        GateResult.from_dict(doc)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["subject"]["digest"].pop("sha256"),
        lambda d: d["subject"]["digest"].update(sha256="abc"),
        lambda d: d.update(extra_field=1),
        lambda d: d.update(started_at="2026-11-26T12:00:00"),  # naive timestamp
        lambda d: d.update(finished_at="2026-11-26T11:00:00Z"),  # before start
        lambda d: d["findings"][0].update(severity="severe"),
    ],
)
def test_invalid_results_are_rejected(mutate):
    doc = json.loads(make_result().to_json())
    mutate(doc)
    with pytest.raises(ValidationError):
        GateResult.from_dict(doc)


def test_results_are_frozen():
    r = make_result()
    with pytest.raises(ValidationError):
        r.decision = Decision.PASS  # type: ignore[misc]


def test_counts_and_exit_code():
    r = make_result()
    assert r.counts() == {"info": 0, "low": 1, "medium": 0, "high": 0, "critical": 1}
    assert r.exit_code == 1 and not r.passed
    assert make_result(decision=Decision.WARN).exit_code == 0


def test_evidence_statement_carries_the_subject_digest():
    r = make_result()
    st = to_statement(r)
    assert st["_type"] == STATEMENT_TYPE
    assert st["predicateType"] == PREDICATE_TYPE
    assert st["subject"] == [{"name": "model.pkl", "digest": {"sha256": SHA}}]
    assert st["predicate"]["decision"] == "fail"
    assert from_statement(json.loads(json.dumps(st))) == r


def test_edited_statement_is_refused():
    st = to_statement(make_result())
    st["subject"][0]["digest"]["sha256"] = sha256_bytes(b"other")
    with pytest.raises(UnsafeInputError, match="does not match"):
        from_statement(st)
    with pytest.raises(UnsafeInputError, match="not a kfp-gates"):
        from_statement({**st, "predicateType": "https://example.invalid/x"})


def test_location_renders_file_member_line_offset():
    assert str(Location(path="m.zip", member="a/data.pkl", offset=7)) == "m.zip!a/data.pkl@7"
    assert str(Location(path="requirements.txt", line=3, column=1)) == "requirements.txt:3:1"
    assert str(Location(field="gates.x")) == "gates.x"
