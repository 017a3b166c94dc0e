"""The verify_source component in a real kfp.local run: report, then enforce."""

# No `from __future__ import annotations`: this module defines KFP components and pipelines.
import json
import shutil
from pathlib import Path

import pytest
from kfp import dsl

from kfp_gates.components import enforce_verdict, verify_source
from kfp_gates.components._image import IMAGE
from kfp_gates.pipelines.demo_steps.source_integrity import SignedRepo, allowed_signers, ssh_key


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def checkout(src: str, repo: dsl.Output[dsl.Artifact]) -> None:
    """Stands in for a git clone step: copies a local repository into an artifact."""
    import shutil

    shutil.copytree(src, repo.path, symlinks=True)


@dsl.pipeline(name="verify-source-report")
def report_only(src: str, signers: str) -> str:
    co = checkout(src=src)
    gate = verify_source(repo=co.outputs["repo"], allowed_signers=signers, since="HEAD~1")
    return gate.outputs["Output"]


@dsl.pipeline(name="verify-source-enforced")
def enforced(src: str, signers: str) -> None:
    co = checkout(src=src)
    gate = verify_source(repo=co.outputs["repo"], allowed_signers=signers)
    enforce_verdict(gate="source_integrity", verdict=gate.outputs["Output"])


@pytest.fixture
def repo_and_signers(tmp_path: Path):
    alice = ssh_key(tmp_path / "keys", "alice")
    signers = allowed_signers(tmp_path / "allowed_signers", {"alice@example.com": alice})
    repo = SignedRepo(tmp_path / "repo")
    repo.commit("one", {"train.py": "1\n"}, key=alice)
    repo.commit("two", {"train.py": "2\n"}, key=alice)
    return repo, signers.read_text()


def _result_json(root: Path) -> dict:
    [path] = [p for p in root.rglob("result") if p.is_file()]
    return json.loads(path.read_text())


def test_signed_repository_passes_and_reports(kfp_local, repo_and_signers):
    repo, signers = repo_and_signers
    run = report_only(src=str(repo.path), signers=signers)
    assert run.output == "pass"
    result = _result_json(kfp_local)
    assert result["decision"] == "pass"
    assert result["subject"]["digest"]["gitCommit"] == repo.git("rev-parse", "HEAD")
    assert [p for p in kfp_local.rglob("html_report") if "source integrity" in p.read_text()]


def test_unsigned_commit_reports_fail_then_enforce_stops_the_pipeline(kfp_local, repo_and_signers):
    repo, signers = repo_and_signers
    bad = repo.commit("unsigned", {"train.py": "3\n"}, key=None)
    run = report_only(src=str(repo.path), signers=signers)
    assert run.output == "fail"  # the gate task itself succeeded and published its report
    result = _result_json(kfp_local)
    assert [f["data"]["commit"] for f in result["findings"]] == [bad]
    shutil.rmtree(kfp_local)
    kfp_local.mkdir()
    with pytest.raises(RuntimeError) as exc:
        enforced(src=str(repo.path), signers=signers)
    assert "enforce-verdict" in str(exc.value)  # the gate task succeeded; the enforcing step stopped it
