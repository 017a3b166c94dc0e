"""The signed-commit gate: every commit from BASE to REV is signed by an allowed signer.

:func:`verify_source` resolves the revisions, asks git to verify each commit's
signature (see :mod:`.signatures`), checks the work tree (see :mod:`.worktree`)
and returns a :class:`GateResult` whose findings name each offending commit
with its author and the reason. The result's subject is the verified commit:
its digest set carries ``gitCommit`` and ``gitTree`` (in-toto digest names) and,
as ``sha256``, the digest of the raw commit object.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kfp_gates.components.common.errors import ConfigError, InputNotFoundError
from kfp_gates.components.common.gate import Clock, GateSettings, finalize
from kfp_gates.components.common.result import Finding, GateResult, Location, Subject, Tool
from kfp_gates.components.common.severity import Severity

from . import signatures, worktree
from .git import Git, GitTools

GATE = "source_integrity"
BASE_NOT_ANCESTOR = "KFPG-SRC-BASE-NOT-ANCESTOR"
SHALLOW = "KFPG-SRC-SHALLOW-HISTORY"
SUBMODULES = "KFPG-SRC-SUBMODULES-NOT-VERIFIED"

# Key types ssh-keygen accepts in an allowed-signers file.
_KEY_TYPE = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$"
)


@dataclass(frozen=True)
class SourceOptions:
    """What to verify. ``since`` None means only ``rev`` itself."""

    rev: str = "HEAD"
    since: str | None = None
    allowed_signers: Path | None = None
    gpg_keys: Path | None = None
    require_clean_tree: bool = True
    ignore_file_mode: bool = False  # for checkouts that went through an artifact store (modes lost)
    timeout: float = 300.0


def check_allowed_signers(path: Path) -> int:
    """Validate an SSH allowed-signers file; return its number of entries.

    Raises :class:`InputNotFoundError` when it is missing and :class:`ConfigError`
    naming the line when an entry has no recognisable public key, or when the file
    lists nobody (every signature would then fail, which is never what was meant).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputNotFoundError(
            "allowed-signers file not found", where=str(path),
            hint="one line per signer: `<email> namespaces=\"git\" ssh-ed25519 AAAA...` (see ssh-keygen(1))",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputNotFoundError(f"cannot read allowed-signers file: {exc}", where=str(path)) from None
    entries = 0
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if not any(_KEY_TYPE.match(tok) for tok in s.split()):
            raise ConfigError(
                "allowed-signers entry has no SSH public key",
                where=f"{path}:{n}",
                hint="expected `<principals> [options] <key-type> <base64-key>`, e.g. "
                "`alice@example.com namespaces=\"git\" ssh-ed25519 AAAA...`",
            )
        entries += 1
    if entries == 0:
        raise ConfigError("allowed-signers file lists no signer", where=str(path),
                          hint="add one line per person allowed to sign commits")
    return entries


def import_gpg_keys(gpg: str | None, keys: Path, home: Path, timeout: float) -> int:
    """Import armored OpenPGP public keys into the private keyring ``home``; return how many.

    Raises :class:`InputNotFoundError` / :class:`ConfigError` when the file is
    missing, gpg is not installed, or the file holds no public key.
    """
    if not keys.is_file():
        raise InputNotFoundError("OpenPGP key file not found", where=str(keys),
                                 hint="export the allowed keys with `gpg --armor --export KEYID... > keys.asc`")
    if gpg is None:
        raise ConfigError("gpg is not installed, so OpenPGP signatures cannot be verified",
                          hint="install gnupg (Debian: apt-get install gnupg) or use SSH signatures only")
    proc = subprocess.run(
        [gpg, "--homedir", str(home), "--batch", "--no-autostart", "--no-tty", "--status-fd", "1",
         "--import-options", "import-minimal", "--import", str(keys)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    imported = sum(1 for ln in proc.stdout.splitlines() if ln.startswith("[GNUPG:] IMPORT_OK"))
    if imported == 0:
        raise ConfigError("the OpenPGP key file holds no public key gpg could import", where=str(keys),
                          hint="pass ASCII-armored public keys (`gpg --armor --export`)")
    return imported


def _resolve(git: Git, rev: str, what: str) -> str:
    try:
        return git.text("rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").strip()
    except ConfigError as exc:
        raise ConfigError(f"{what} {rev!r} is not a commit in this repository", where=str(git.repo),
                          hint=exc.hint) from None


def _commit_finding(sig: signatures.CommitSignature, verdict: signatures.Verdict, repo: Path) -> Finding:
    assert verdict.finding_id is not None
    return Finding(
        id=verdict.finding_id,
        severity=verdict.severity,
        message=f"commit {sig.commit[:12]} by {sig.author} ({sig.subject[:60]!r}): {verdict.reason}",
        location=Location(path=str(repo), field=f"commit {sig.commit}"),
        data={
            "commit": sig.commit,
            "author": sig.author,
            "committer": sig.committer,
            "reason": verdict.reason,
            "signature_format": sig.signature_format,
            "git_status": sig.status,
            "key": sig.key or sig.fingerprint,
            # waive one commit (e.g. a historic unsigned merge) without waiving the rule
            "aliases": [f"{verdict.finding_id}:{sig.commit}"],
        },
    )


def _range(git: Git, head: str, base: str | None) -> tuple[list[str], list[Finding]]:
    if base is None:
        return [head], []
    findings: list[Finding] = []
    if not git.succeeds("merge-base", "--is-ancestor", base, head):
        findings.append(
            Finding(
                id=BASE_NOT_ANCESTOR,
                severity=Severity.CRITICAL,
                message=f"base {base[:12]} is not an ancestor of {head[:12]}: the history was rewritten "
                "(rebased, amended or force-pushed) since the base was reviewed, or the clone is too shallow",
                location=Location(path=str(git.repo), field=f"commit {base}"),
                data={"base": base, "rev": head},
            )
        )
    commits = git.text("rev-list", "--topo-order", "--end-of-options", head, f"^{base}").split()
    if head not in commits:
        commits.insert(0, head)
    return commits, findings


def _shallow(git: Git, commits: list[str], base: str | None) -> list[Finding]:
    path = Path(git.text("rev-parse", "--path-format=absolute", "--git-path", "shallow").strip())
    if base is None or not path.is_file():
        return []
    boundary = set(path.read_text().split())
    cut = [c for c in commits if c in boundary]
    if not cut:
        return []
    return [
        Finding(
            id=SHALLOW,
            severity=Severity.HIGH,
            message=f"shallow clone: history stops at {', '.join(c[:12] for c in cut)}, so commits between it "
            f"and base {base[:12]} cannot be verified; fetch with full depth (or --shallow-exclude=<base>)",
            location=Location(path=str(git.repo)),
            data={"boundary": cut},
        )
    ]


def verify_source(repo: str | Path, options: SourceOptions, settings: GateSettings | None = None) -> GateResult:
    """Verify the signatures of ``options.rev`` (or BASE..REV) and the work tree of ``repo``.

    Returns the gate result (decision from the policy's ``settings``). Raises
    :class:`ConfigError` (exit 2) when the repository, a revision or a signer
    file is missing or unusable, :class:`UnsafeInputError` (exit 1) when the
    repository is damaged, and :class:`InfrastructureError` (exit 3) when git
    fails, times out or would need objects the clone lacks; it never returns a
    passing result it could not prove.
    """
    clock = Clock()
    settings = settings or GateSettings()
    root = Path(repo)
    if not root.is_dir():
        raise InputNotFoundError("repository directory not found", where=str(root))
    if options.allowed_signers is None and options.gpg_keys is None:
        raise ConfigError(
            "no allowed signers given", hint="pass --allowed-signers FILE (SSH) and/or --gpg-keys FILE (OpenPGP)"
        )
    if options.allowed_signers is not None:
        check_allowed_signers(options.allowed_signers)
    tools = GitTools.find()
    if options.allowed_signers is not None and tools.ssh_keygen is None:
        raise ConfigError("ssh-keygen is not installed, so SSH signatures cannot be verified",
                          hint="install OpenSSH (Debian: apt-get install openssh-client)")
    with tempfile.TemporaryDirectory(prefix="kfp-gates-src-") as tmp:
        home = Path(tmp) / "gnupg"
        home.mkdir(mode=0o700)
        signers = options.allowed_signers
        if signers is None:
            signers = Path(tmp) / "no-ssh-signers"
            signers.write_text("")
        if options.gpg_keys is not None:
            import_gpg_keys(tools.gpg, options.gpg_keys, home, options.timeout)
        git = Git(root.resolve(), allowed_signers=signers.resolve(), gnupg_home=home, tools=tools,
                  timeout=options.timeout, ignore_file_mode=options.ignore_file_mode)
        try:
            return _verify(git, root, options, settings, clock, tools)
        finally:
            if tools.gpg is not None and options.gpg_keys is not None:
                _stop_gpg_agent(home)


def _stop_gpg_agent(home: Path) -> None:
    # --no-autostart keeps gpg from starting an agent; this is the belt to those braces.
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, timeout=30,
                   check=False)


def _verify(
    git: Git, root: Path, options: SourceOptions, settings: GateSettings, clock: Clock, tools: GitTools
) -> GateResult:
    bare = git.text("rev-parse", "--is-bare-repository").strip() == "true"
    head = _resolve(git, options.rev, "revision")
    base = _resolve(git, options.since, "base") if options.since else None
    commits, findings = _range(git, head, base)
    findings += _shallow(git, commits, base)
    sigs = signatures.read_signatures(git, commits)
    signers: Counter[str] = Counter()
    for sig in sigs:
        verdict = signatures.judge(sig)
        if verdict.ok:
            signers[sig.signer or sig.fingerprint] += 1
        else:
            findings.append(_commit_finding(sig, verdict, root))
    top: Path | None = None
    if options.require_clean_tree and not bare:
        top = Path(git.text("rev-parse", "--path-format=absolute", "--show-toplevel").strip())
        work_head = _resolve(git, "HEAD", "HEAD")
        findings += worktree.tree_findings(git, top, head=work_head, verified=head)
    tip = next(s for s in sigs if s.commit == head)
    if git.succeeds("rev-parse", "--verify", "--quiet", f"{head}:.gitmodules"):
        findings.append(
            Finding(
                id=SUBMODULES,
                severity=Severity.LOW,
                message="the commit has submodules; their commits are pinned by id but their signatures "
                "are not verified by this run (verify each submodule repository too)",
                location=Location(path=str(root), member=".gitmodules"),
            )
        )
    name = (top or root.resolve()).name
    subject = Subject(
        name=f"{name}@{head}",
        digest={"sha256": tip.raw_sha256, "gitCommit": head, "gitTree": tip.tree},
    )
    return finalize(
        gate=GATE,
        subject=subject,
        tool=Tool(name="git", version=tools.git_version or "unknown"),
        findings=findings,
        settings=settings,
        started_at=clock.started_at,
        metadata={
            "repository": str(root),
            "rev": options.rev,
            "since": options.since,
            "commit": head,
            "tree": tip.tree,
            "base": base,
            "commits_checked": len(sigs),
            "signers": dict(signers),
            "signature_formats": dict(Counter(s.signature_format for s in sigs)),
            "work_tree_checked": bool(options.require_clean_tree and not bare),
            "ssh_keygen": tools.ssh_keygen,
            "gpg": tools.gpg,
        },
    )
