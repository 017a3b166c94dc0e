"""The OpenBao fixture starts a real server; tokens it issues never reach our logs."""

from __future__ import annotations

import logging

from kfp_gates.components.common import redact


def test_openbao_dev_server_answers_and_issues_tokens(openbao):
    client = openbao.client()
    assert client.is_authenticated()
    assert client.sys.read_health_status(method="GET")["sealed"] is False
    client.secrets.kv.v2.create_or_update_secret(path="demo/db", secret={"password": "pw-from-vault-123"})
    read = client.secrets.kv.v2.read_secret_version(path="demo/db", raise_on_deleted_version=True)
    assert read["data"]["data"]["password"] == "pw-from-vault-123"


def test_real_vault_token_is_redacted_from_logs_even_unregistered(openbao, caplog):
    token = openbao.client().auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
    handler_filter = redact.RedactingFilter()
    logger = logging.getLogger("kfp_gates.test")
    with caplog.at_level(logging.INFO, logger="kfp_gates.test"):
        caplog.handler.addFilter(handler_filter)
        try:
            logger.info("logged in with token %s", token)
            logger.info("header X-Vault-Token: %s", token)
        finally:
            caplog.handler.removeFilter(handler_filter)
    assert token not in caplog.text
    assert "[REDACTED]" in caplog.text
