"""An image without trivy (the default component image) fails closed and says what to pass instead."""

import pytest

from kfp_gates.components.common.errors import EXIT_CONFIG, ConfigError
from kfp_gates.components.dependency_scan.trivy import scan_image

pytestmark = pytest.mark.unit


def test_scan_image_by_reference_without_trivy_fails_closed_naming_the_report(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no trivy anywhere, as in the image built without TRIVY_TARBALL
    with pytest.raises(ConfigError) as err:
        scan_image(image="registry.example/app@sha256:" + "a" * 64)
    assert err.value.exit_code == EXIT_CONFIG == 2
    assert "trivy is not on PATH" in str(err.value)
    assert "--trivy-report" in (err.value.hint or "")
