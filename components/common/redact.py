"""Secret-safe text and logging.

Secret values registered with :func:`register_secret` (Vault tokens, unwrapped
secret fields, passphrases) and common credential shapes are replaced by
``[REDACTED]`` in every log record that passes a :class:`RedactingFilter`, and
in any text passed through :func:`redact` (the CLI does this for every error
message it shows).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words; they are refused

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_re: re.Pattern[str] | None = None
_dirty = False

# Credential shapes that are redacted even when nobody registered them.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Vault / OpenBao tokens: service, batch, recovery (hvs./hvb./hvr.), legacy s./b./r.
    (re.compile(r"\b(?:hv[sbr]|[sbr])\.[A-Za-z0-9_\-]{20,}"), REDACTED),
    # HTTP auth headers and their usual spellings in logs / dicts.
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*['\"]?(?:bearer|basic|token)\s+)[^\s'\",}]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(x-vault-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*"), "Bearer " + REDACTED),
    # AWS access key ids and secret keys.
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), REDACTED),
    (re.compile(r"(?i)(aws_secret_access_key['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9/+=]{40}"), r"\1" + REDACTED),
    # GitHub / GitLab / Slack tokens, JWTs, PEM private keys.
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"), REDACTED),
    (re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"), REDACTED),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"), REDACTED),
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "-----BEGIN PRIVATE KEY-----" + REDACTED + "-----END PRIVATE KEY-----",
    ),
)


def register_secret(value: str | bytes | None) -> None:
    """Redact ``value`` from every log record and user-facing message from now on.

    Values shorter than ``MIN_SECRET_LENGTH`` characters are ignored (they would
    redact ordinary text); callers holding such secrets should not log near them.
    """
    if value is None:
        return
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        return
    global _dirty
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Compiled lazily by the next redact(): registering many values (a long-running
        # process fetching many tokens) must not recompile the pattern each time.
        _dirty = True


def _pattern() -> re.Pattern[str] | None:
    global _secret_re, _dirty
    if not _dirty:
        return _secret_re
    with _lock:
        if _dirty:
            # Longest first so a secret that contains another is replaced whole.
            ordered = sorted(_secrets, key=len, reverse=True)
            _secret_re = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None
            _dirty = False
        return _secret_re


def register_secrets(values: Iterable[str | bytes | None]) -> None:
    for v in values:
        register_secret(v)


def clear_registered_secrets() -> None:
    """Forget registered values (tests only)."""
    global _secret_re, _dirty
    with _lock:
        _secrets.clear()
        _secret_re = None
        _dirty = False


def redact(text: str) -> str:
    """``text`` with registered secrets and known credential shapes replaced by ``[REDACTED]``."""
    if not text:
        return text
    pattern = _pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for rx, repl in _PATTERNS:
        text = rx.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record so its message and exception text are redacted.

    Attach it to *handlers* (a filter on a logger does not see records
    propagated from child loggers).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not drop the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # the formatter would re-render the raw exception otherwise
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Attach a :class:`RedactingFilter` to every handler of ``logger`` (default: root)."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
