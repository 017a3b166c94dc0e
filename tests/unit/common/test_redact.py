"""Secret-safe logging: registered values and credential shapes never reach a log or a message."""

from __future__ import annotations

import io
import logging

import pytest

from kfp_gates.components.common import redact


@pytest.fixture(autouse=True)
def _clean_registry():
    redact.clear_registered_secrets()
    yield
    redact.clear_registered_secrets()


def _logger_with_redaction() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(redact.RedactingFilter())
    logger = logging.getLogger(f"kfp_gates.test.redact.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_registered_secret_is_redacted_in_message_args_and_exceptions():
    logger, out = _logger_with_redaction()
    redact.register_secret("correct-horse-battery")
    logger.info("db password is %s", "correct-horse-battery")
    try:
        raise RuntimeError("login failed for correct-horse-battery")
    except RuntimeError:
        logger.exception("boom")
    text = out.getvalue()
    assert "correct-horse-battery" not in text
    assert text.count("[REDACTED]") >= 2
    assert "RuntimeError" in text  # the trace is kept, only the value is gone


def test_child_logger_records_are_redacted_by_the_handler_filter():
    logger, out = _logger_with_redaction()
    redact.register_secret(b"bytes-secret-value")
    logging.getLogger(logger.name + ".child").warning("value=bytes-secret-value")
    assert "bytes-secret-value" not in out.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "token hvs.CAESIJ3b2FkZXJzLWF1dGgtdG9rZW4tdGVzdGluZw",
        "legacy s.AbCdEfGhIjKlMnOpQrStUvWx",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2ln",
        "X-Vault-Token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "aws key AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx\n-----END EC PRIVATE KEY-----",
    ],
)
def test_common_token_shapes_are_redacted_without_registration(text):
    out = redact.redact(text)
    assert "[REDACTED]" in out
    for secret_part in (
        "CAESIJ3b2F",
        "AbCdEfGhIj",
        "c2lnbmF0dX",
        "9f8e7d6c5b",
        "AKIAIOSFOD",
        "wJalrXUtnF",
        "ghp_abcdef",
        "MHcCAQEEIBx",
    ):
        assert secret_part not in out


def test_ordinary_text_is_untouched_and_short_values_are_refused():
    redact.register_secret("ab")  # too short: would redact ordinary words
    text = "scanned 12 files; model.pkl sha256 0a1b; about 3 seconds"
    assert redact.redact(text) == text


def test_longer_secret_containing_a_shorter_one_is_removed_whole():
    redact.register_secret("abcd1234")
    redact.register_secret("abcd1234-extended")
    assert redact.redact("x abcd1234-extended y") == "x [REDACTED] y"


def test_install_attaches_filter_to_handlers():
    logger = logging.getLogger("kfp_gates.test.install")
    stream = io.StringIO()
    h = logging.StreamHandler(stream)
    logger.handlers[:] = [h]
    logger.propagate = False
    redact.install(logger)
    redact.install(logger)  # idempotent
    assert sum(isinstance(f, redact.RedactingFilter) for f in h.filters) == 1
    redact.register_secret("install-secret-1")
    logger.error("x install-secret-1")
    assert "install-secret-1" not in stream.getvalue()
