"""``kfp-gates scan-deps`` and ``scan-image`` through the real console script: exit codes and outputs."""

from __future__ import annotations

import json
from pathlib import Path


def test_scan_deps_blocks_on_a_vulnerable_pin_and_passes_a_clean_one(cli, write) -> None:
    bad = write("bad/requirements.txt", "requests==2.19.0\n")
    r = cli("scan-deps", str(bad))
    assert r.code == 1, r
    assert "PYSEC-2018-28" in r.out and "FAIL" in r.out
    good = write("good/requirements.txt", "requests==2.32.3\n")
    r = cli("scan-deps", str(good), "--format", "json")
    assert r.code == 0, r
    # The embedded snapshot is hundreds of days old: that is in the result, so the clean scan only warns.
    out = json.loads(r.out)
    assert out["decision"] == "warn" and [f["id"] for f in out["findings"]] == ["KFPG-ADV-OLD"]


def test_scan_deps_outputs_and_sbom(cli, write, tmp_path: Path) -> None:
    req = write("requirements.txt", "requests==2.19.0\n")
    r = cli("scan-deps", str(req), "--format", "sarif", "-o", str(tmp_path / "out.sarif"),
            "--sbom", str(tmp_path / "bom.json"), "--fail-on", "critical")
    assert r.code == 0, r  # --fail-on critical: the high findings do not block
    assert json.loads((tmp_path / "out.sarif").read_text())["version"] == "2.1.0"
    assert json.loads((tmp_path / "bom.json").read_text())["specVersion"] == "1.6"
    r = cli("scan-deps", str(req), "--format", "cyclonedx")
    assert r.code == 1 and json.loads(r.out)["bomFormat"] == "CycloneDX"


def test_scan_deps_bad_input_is_exit_2(cli, write, tmp_path: Path) -> None:
    r = cli("scan-deps", str(tmp_path / "missing.txt"))
    assert r.code == 2 and "not found" in r.err
    bad = write("requirements.txt", "requests==2.31.0\nnot a requirement!!\n")
    r = cli("scan-deps", str(bad))
    assert r.code == 2 and f"{bad}:2" in r.err and "Traceback" not in r.err
    empty = tmp_path / "empty-advisories"
    empty.mkdir()
    r = cli("scan-deps", str(write("ok.txt", "requests==2.32.3\n")), "--advisories", str(empty))
    assert r.code == 2 and "advisor" in r.err
    r = cli("scan-deps")
    assert r.code == 2 and "nothing to scan" in r.err
    lock = write("poetry.lock", "[[package]\n")
    assert cli("scan-deps", str(lock)).code == 2


def test_scan_deps_env_and_pipeline_flags(cli, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "Jinja2-2.10.dist-info").mkdir(parents=True)
    (site / "Jinja2-2.10.dist-info" / "METADATA").write_text("Name: Jinja2\nVersion: 2.10\n")
    r = cli("scan-deps", "--env", str(site), "--format", "json", "--no-cache")
    assert r.code == 1 and "PYSEC-2019-217" in r.out
    r = cli("scan-deps", "--pipeline", str(tmp_path / "nope.yaml"))
    assert r.code == 2


def test_scan_image_report_and_errors(cli, data_dir: Path, tmp_path: Path) -> None:
    r = cli("scan-image", "--trivy-report", str(data_dir / "trivy" / "pip.json"))
    assert r.code == 1 and "CVE-2019-14806" in r.out
    r = cli("scan-image", "--trivy-report", str(data_dir / "trivy" / "alpine-310.json"))
    assert r.code == 0 and "WARN" in r.out
    assert cli("scan-image").code == 2
    assert cli("scan-image", "--trivy-report", str(tmp_path / "missing.json")).code == 2
    r = cli("scan-image", "ghcr.io/org/img:1", env={"PATH": str(tmp_path)})
    assert r.code == 2 and "trivy is not on PATH" in r.err


def test_scan_image_trivy_failure_is_exit_3(cli, tmp_path: Path) -> None:
    exe = tmp_path / "bin" / "trivy"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\necho 'FATAL: no DB' >&2\nexit 1\n")
    exe.chmod(0o755)
    import os

    r = cli("scan-image", "ghcr.io/org/img@sha256:" + "a" * 64, env={"PATH": f"{exe.parent}:{os.environ['PATH']}"})
    assert r.code == 3 and "trivy exited with 1" in r.err
