"""Fuzz the parsers that read untrusted input: the bundle and the signed statement fail closed, typed."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kfp_gates.components.model_signing.bundle import BUNDLE_MEDIA_TYPE, parse_bundle
from kfp_gates.components.model_signing.errors import SignatureError
from kfp_gates.components.model_signing.statement import PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE, parse_payload

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_bundle_parser_raises_only_signature_error_on_bytes(data: bytes) -> None:
    try:
        parse_bundle(data)
    except SignatureError:
        pass


@settings(max_examples=300, deadline=None)
@given(json_values, json_values, st.binary(max_size=50))
def test_bundle_parser_on_bundle_shaped_json(vm, sigs, payload) -> None:
    doc = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": vm,
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": sigs,
        },
    }
    try:
        b = parse_bundle(json.dumps(doc).encode())
    except SignatureError:
        return
    assert b.payload == payload


@settings(max_examples=300, deadline=None)
@given(json_values, json_values, json_values)
def test_statement_parser_raises_only_signature_error(subject, serialization, resources) -> None:
    doc = {
        "_type": STATEMENT_TYPE,
        "predicateType": PREDICATE_TYPE,
        "subject": subject,
        "predicate": {"serialization": serialization, "resources": resources},
    }
    try:
        parse_payload(PAYLOAD_TYPE, json.dumps(doc).encode())
    except SignatureError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_statement_parser_on_bytes(data: bytes) -> None:
    try:
        parse_payload(PAYLOAD_TYPE, data)
    except SignatureError:
        pass
