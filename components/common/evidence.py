"""Evidence: a gate result as an in-toto Statement v1.

The statement's subject is the checked artifact (name + sha256), its predicate
is the full :class:`GateResult`. Signing statements (DSSE) is the signing gate's
business; this module only builds and reads them.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import UnsafeInputError
from .result import GateResult

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://kfp-gates.dev/attestation/gate-result/v1"


def to_statement(result: GateResult) -> dict[str, Any]:
    """The in-toto Statement v1 for ``result``.

    The subject is the checked artifact's content digest. A result whose subject
    could not be read (a ``fail`` by construction) has an empty digest set:
    the statement records the refusal but attests nothing about any bytes.
    """
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": result.subject.name, "digest": dict(result.subject.digest)}],
        "predicateType": PREDICATE_TYPE,
        "predicate": result.to_dict(),
    }


def statement_json(result: GateResult) -> str:
    return json.dumps(to_statement(result), indent=2, sort_keys=True)


def from_statement(statement: dict[str, Any]) -> GateResult:
    """Read a gate result back from a statement, checking that subject and predicate agree.

    Raises :class:`UnsafeInputError` when the statement is not ours or its
    subject digest differs from the predicate's (a statement edited by hand).
    """
    if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
        raise UnsafeInputError("not a kfp-gates gate-result statement (wrong _type or predicateType)")
    result = GateResult.from_dict(statement.get("predicate") or {})
    subjects = statement.get("subject") or []
    if not isinstance(subjects, list) or not any(
        isinstance(s, dict) and s.get("digest") == dict(result.subject.digest) for s in subjects
    ):
        raise UnsafeInputError("statement subject digest does not match the result it carries")
    return result
