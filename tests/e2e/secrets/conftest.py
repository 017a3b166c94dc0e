"""Reuse the prepared OpenBao fixture of the integration tier."""

from tests.integration.secrets.conftest import vault  # noqa: F401
