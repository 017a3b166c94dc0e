"""The image gate on real Trivy reports, and running a trivy binary (a stand-in script on PATH)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kfp_gates.components.common.errors import ConfigError, GateTimeoutError, InfrastructureError
from kfp_gates.components.common.policy import GatePolicy
from kfp_gates.components.common.severity import Decision, Severity
from kfp_gates.components.dependency_scan import rules
from kfp_gates.components.dependency_scan.trivy import (
    ImageOptions,
    load_report,
    run_trivy,
    scan_image,
    trivy_command,
)

NOW = datetime(2021, 9, 1, tzinfo=UTC)


def report(data_dir: Path, name: str) -> Path:
    return data_dir / "trivy" / f"{name}.json"


def test_pip_report(data_dir: Path) -> None:
    r = scan_image(report=report(data_dir, "pip"), now=NOW)
    got = {(f.id, f.severity, f.data["package"], f.data["installed_version"]) for f in r.findings}
    assert got == {("CVE-2019-14806", Severity.HIGH, "Werkzeug", "0.11"),
                   ("CVE-2020-28724", Severity.MEDIUM, "Werkzeug", "0.11")}
    f = next(f for f in r.findings if f.id == "CVE-2019-14806")
    assert f.data["fixed_versions"] == ["0.15.3"] and f.location.member == "requirements.txt"
    assert r.decision is Decision.FAIL and r.gate == "image_scan"
    assert {c["name"] for c in r.metadata["components"]} >= {"Flask", "Jinja2", "Werkzeug"}


def test_debian_report_and_unfixed(data_dir: Path) -> None:
    r = scan_image(report=report(data_dir, "debian-buster"), now=NOW)
    assert {f.id: f.severity for f in r.findings} == {"CVE-2019-18224": Severity.CRITICAL,
                                                      "CVE-2019-18276": Severity.LOW}
    assert r.subject.sha256 == "c2c03a296d2329a4f3ab72a7bf38b78a8a80108204d326b0139d6af700e152d1"  # ImageID
    skipped = scan_image(report=report(data_dir, "debian-buster"), ignore_unfixed=True, now=NOW)
    assert [f.id for f in skipped.findings] == ["CVE-2019-18224"] and skipped.metadata["skipped_unfixed"] == 1


def test_alpine_eosl_and_threshold(data_dir: Path) -> None:
    r = scan_image(report=report(data_dir, "alpine-310"), now=NOW)
    assert rules.IMG_EOSL.id in {f.id for f in r.findings}
    assert r.decision is Decision.WARN  # only medium findings at the standard threshold (high)
    strict = scan_image(report=report(data_dir, "alpine-310"), fail_on="medium", now=NOW)
    assert strict.decision is Decision.FAIL


def test_secrets_are_reported_without_their_values(data_dir: Path) -> None:
    r = scan_image(report=report(data_dir, "secrets"), now=NOW)
    assert {f.id for f in r.findings} == {"TRIVY-SECRET-aws-access-key-id", "TRIVY-SECRET-mysecret"}
    text = r.to_json()
    raw = report(data_dir, "secrets").read_text()
    assert "ghp_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" in raw and "ghp_0123456789" not in text
    assert "export AWS_ACCESS_KEY_ID" not in text


def test_waiver_and_staleness_apply_to_images(data_dir: Path) -> None:
    pol = GatePolicy.parse("""apiVersion: kfp-gates/v1
kind: GatePolicy
gates:
  image_scan:
    max_advisory_age: 30d
    waivers:
      - {id: CVE-2019-14806, reason: debugger disabled, owner: sec@example.com, expires: 2099-01-01}
""")
    r = scan_image(report=report(data_dir, "pip"), policy=pol, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert next(f for f in r.findings if f.id == "CVE-2019-14806").waived
    stale = next(f for f in r.findings if f.id == rules.ADV_STALE.id)
    assert stale.severity is Severity.LOW and r.decision is Decision.WARN


def test_empty_and_malformed_reports(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"SchemaVersion": 2, "ArtifactName": "x@sha256:" + "a" * 64,
                                 "ArtifactType": "container_image"}))
    r = scan_image(report=empty, now=NOW)
    assert [f.id for f in r.findings] == [rules.IMG_NOTHING_SCANNED.id] and r.decision is Decision.FAIL
    for bad in ["{", json.dumps({"no": "schema"}), json.dumps({"SchemaVersion": 1}),
                json.dumps({"SchemaVersion": 2, "Results": {"a": 1}}),
                json.dumps({"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"PkgName": "x"}]}]})]:
        p = tmp_path / "bad.json"
        p.write_text(bad)
        with pytest.raises(ConfigError):
            load_report(p)
    with pytest.raises(ConfigError):
        load_report(tmp_path / "missing.json")


def test_tag_reference_is_reported(tmp_path: Path, data_dir: Path) -> None:
    data = json.loads(report(data_dir, "debian-buster").read_text())
    data["ArtifactName"] = "ghcr.io/org/trainer:latest"
    p = tmp_path / "r.json"
    p.write_text(json.dumps(data))
    assert rules.IMAGE_TAG.id in {f.id for f in scan_image(report=p, now=NOW).findings}


def _fake_trivy(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "bin" / "trivy"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_running_trivy_offline(tmp_path: Path, data_dir: Path) -> None:
    golden = report(data_dir, "debian-buster")
    exe = _fake_trivy(tmp_path, f"""
if [ "$1" = version ]; then
  echo '{{"Version":"0.74.0","VulnerabilityDB":{{"UpdatedAt":"2021-08-30T00:00:00Z"}}}}'; exit 0
fi
echo "$@" > {tmp_path}/args
cat {golden}
""")
    opts = ImageOptions(trivy_db="/var/lib/trivy")
    rep = run_trivy("ghcr.io/org/img@sha256:" + "b" * 64, opts, binary=str(exe))
    args = (tmp_path / "args").read_text()
    assert "--skip-db-update" in args and "--offline-scan" in args and "--cache-dir /var/lib/trivy" in args
    assert rep.db_updated_at == datetime(2021, 8, 30, tzinfo=UTC)
    assert trivy_command("img", ImageOptions(ignore_unfixed=True), "trivy")[-2:] == ["--ignore-unfixed", "img"]


def test_trivy_failures_map_to_exit_codes(tmp_path: Path, monkeypatch) -> None:
    failing = _fake_trivy(tmp_path, "echo 'FATAL db missing token=hvs.AAAAAAAAAAAAAAAAAAAAAAAA' >&2; exit 1\n")
    with pytest.raises(InfrastructureError) as exc:
        run_trivy("img", ImageOptions(), binary=str(failing))
    assert exc.value.exit_code == 3 and "hvs.AAAA" not in str(exc.value)
    slow = tmp_path / "slow"
    slow.mkdir()
    exe = slow / "trivy"
    exe.write_text("#!/bin/sh\nsleep 5\n")
    exe.chmod(0o755)
    from datetime import timedelta

    with pytest.raises(GateTimeoutError):
        run_trivy("img", ImageOptions(timeout=timedelta(seconds=0.5)), binary=str(exe))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError):
        run_trivy("img", ImageOptions())
    assert os.environ["PATH"].endswith("nowhere")
