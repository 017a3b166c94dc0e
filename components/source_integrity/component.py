"""KFP component ``verify_source``: the signed-commit gate inside a pipeline.

An earlier step checks the repository out into an artifact (the gate itself
makes no network call); this step verifies the commit signatures and the work
tree, writes its result, HTML and Markdown reports and metrics, and returns the
verdict. It always succeeds when it could decide ("report, then enforce"):
``enforce_verdict`` or a ``dsl.If`` on the verdict stops the pipeline. When it
cannot decide (no signers given, not a repository, git missing) it raises, so
the task fails and the pipeline stops: it never passes what it could not check.
"""

# No `from __future__ import annotations`: KFP reads the real annotations.
from kfp import dsl

from kfp_gates.components._component import gate_component


@gate_component
def verify_source(
    repo: dsl.Input[dsl.Artifact],
    allowed_signers: str,
    result: dsl.Output[dsl.Artifact],
    html_report: dsl.Output[dsl.HTML],
    markdown_report: dsl.Output[dsl.Markdown],
    metrics: dsl.Output[dsl.Metrics],
    rev: str = "HEAD",
    since: str = "",
    gpg_keys: str = "",
    require_clean_tree: bool = True,
    policy: str = "",
    tier: str = "standard",
) -> str:
    """Verify that ``rev`` (or every commit since ``since``) of ``repo`` is signed by an allowed signer.

    ``allowed_signers`` is the text of an SSH allowed-signers file and
    ``gpg_keys`` of ASCII-armored OpenPGP public keys (public keys only: they are
    pipeline parameters). Returns ``pass``, ``warn`` or ``fail``.
    """
    import tempfile
    from pathlib import Path

    from kfp_gates.components.common.gate import GateSettings
    from kfp_gates.components.common.policy import GatePolicy
    from kfp_gates.components.common.publish import publish
    from kfp_gates.components.source_integrity.source import SourceOptions
    from kfp_gates.components.source_integrity.source import verify_source as run_gate

    gate_policy = GatePolicy.parse(policy, name="policy") if policy.strip() else GatePolicy.default(tier)
    gate = gate_policy.gate("source_integrity")
    section = gate.section
    with tempfile.TemporaryDirectory(prefix="kfp-gates-verify-source-") as tmp:
        signers_file = gpg_file = None
        if allowed_signers.strip():
            signers_file = Path(tmp) / "allowed_signers"
            signers_file.write_text(allowed_signers, encoding="utf-8")
        if gpg_keys.strip():
            gpg_file = Path(tmp) / "keys.asc"
            gpg_file.write_text(gpg_keys, encoding="utf-8")
        options = SourceOptions(
            rev=rev or "HEAD",
            since=since or None,
            allowed_signers=signers_file,
            gpg_keys=gpg_file,
            require_clean_tree=require_clean_tree and section.require_clean_tree,  # type: ignore[attr-defined]
            # An artifact store does not keep the executable bit; file contents are still compared.
            ignore_file_mode=True,
            timeout=section.timeout.total_seconds(),  # type: ignore[attr-defined]
        )
        settings = GateSettings.from_effective(
            gate, rev=options.rev, since=options.since, require_clean_tree=options.require_clean_tree
        )
        outcome = run_gate(repo.path, options, settings)

    verdict = publish(
        outcome,
        result_path=result.path,
        html_path=html_report.path,
        markdown_path=markdown_report.path,
        metrics=metrics,
        extra_metrics={
            "commits_checked": float(outcome.metadata.get("commits_checked", 0)),
            "findings": float(len(outcome.active_findings())),
            "passed": 1.0 if outcome.passed else 0.0,
        },
        result_metadata=result.metadata,
        title="kfp-gates: source integrity",
    )
    result.metadata["commit"] = outcome.metadata.get("commit", "")
    result.metadata["tree"] = outcome.metadata.get("tree", "")
    print(f"kfp-gates: source_integrity checked commit {outcome.metadata.get('commit')}")
    for f in outcome.active_findings():
        print(f"  {f.severity.value:<8} {f.id}: {f.message}")
    return verdict
