"""Is the work tree exactly the verified commit?

A signed commit proves nothing about the files next to it: the code that runs is
the work tree. It is clean when ``git status`` shows nothing, and when nothing
in the checkout hides a change from ``git status``:

* index bits ``assume-unchanged`` / ``skip-worktree`` make git skip a file's
  content, so such a file present on disk is reported;
* files ignored only by ``.git/info/exclude`` (or by an ignore file that is not
  part of the commit) are untracked code nobody reviewed, so they are reported;
  files ignored by the commit's own ``.gitignore`` are reviewed rules and pass;
* repository config that makes ``git status`` run programs (clean filters,
  includes) or look at another directory (``core.worktree``) is refused before
  ``git status`` runs: the check never executes code from the checkout.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kfp_gates.components.common.result import Finding, Location
from kfp_gates.components.common.severity import Severity

from .git import Git

DIRTY = "KFPG-SRC-DIRTY-TREE"
HIDDEN = "KFPG-SRC-HIDDEN-CHANGES"
UNREVIEWED_IGNORE = "KFPG-SRC-UNREVIEWED-IGNORE"
UNSAFE_CONFIG = "KFPG-SRC-UNSAFE-REPO-CONFIG"
HEAD_MISMATCH = "KFPG-SRC-HEAD-MISMATCH"

_UNSAFE_KEYS = re.compile(
    r"^(filter\..+\.(clean|process)|include\.path|includeif\..+\.path|core\.worktree)$", re.IGNORECASE
)
_SHOWN = 10  # paths named in a message; the full list is in the finding's data


@dataclass(frozen=True)
class TreeState:
    """What ``git status`` and the index say about the work tree."""

    modified: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    unreviewed_ignored: tuple[tuple[str, str], ...] = ()  # (path, ignore rule source)
    extra: dict[str, object] = field(default_factory=dict)


def _names(paths: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def unsafe_config_keys(git: Git) -> list[str]:
    """Config keys of the repository (and its submodules) that would make ``git status`` run code.

    The config files are read as plain files (``git config --file``, no includes),
    so reading them runs nothing.
    """
    common = Path(git.text("rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    files = [common / "config", common / "config.worktree"]
    modules = common / "modules"
    if modules.is_dir():
        files += sorted(p for p in modules.rglob("config") if p.is_file())
    found: list[str] = []
    for f in files:
        if not f.is_file():
            continue
        listing = git.run("config", "--file", str(f), "--null", "--list", "--no-includes")
        for entry in listing.split(b"\x00"):
            key = entry.split(b"\n", 1)[0].decode("utf-8", "replace")
            if key and _UNSAFE_KEYS.match(key):
                rel = f.relative_to(common.parent) if common.parent in f.parents else f
                found.append(f"{key} ({rel})")
    return found


def _status(git: Git) -> tuple[list[str], list[str], list[str]]:
    out = git.run(
        "status", "--porcelain=v1", "-z", "--untracked-files=normal", "--ignored=matching",
        "--ignore-submodules=none", "--no-renames",
    )
    modified: list[str] = []
    untracked: list[str] = []
    ignored: list[str] = []
    for entry in out.split(b"\x00"):
        if len(entry) < 4:
            continue
        xy, path = entry[:2].decode(), entry[3:].decode("utf-8", "replace")
        if xy == "??":
            untracked.append(path)
        elif xy == "!!":
            ignored.append(path)
        else:
            modified.append(path)
    return modified, untracked, ignored


def _hidden(git: Git, top: Path) -> list[str]:
    out = git.run("ls-files", "-v", "-z")
    hidden: list[str] = []
    for entry in out.split(b"\x00"):
        if len(entry) < 3:
            continue
        tag, path = entry[:1].decode(), entry[2:].decode("utf-8", "replace")
        # lower case: assume-unchanged; S: skip-worktree (sparse checkouts leave such files off disk).
        if tag.islower() or (tag == "S" and os.path.lexists(top / path)):
            hidden.append(path)
    return hidden


def _unreviewed_ignores(git: Git, ignored: list[str], head: str) -> list[tuple[str, str]]:
    if not ignored:
        return []
    # exit 1 means "nothing ignored": possible when only a now-neutralised excludes file matched.
    out = git.run(
        "check-ignore", "-v", "-z", "--stdin", stdin=b"\x00".join(p.encode() for p in ignored) + b"\x00",
        ok_codes=(0, 1),
    )
    parts = out.split(b"\x00")
    tracked: dict[str, bool] = {}
    bad: list[tuple[str, str]] = []
    for i in range(0, len(parts) - 3, 4):
        source, path = parts[i].decode("utf-8", "replace"), parts[i + 3].decode("utf-8", "replace")
        if source not in tracked:
            inside_git = source.startswith(".git/") or os.path.isabs(source)
            tracked[source] = not inside_git and git.succeeds("rev-parse", "--verify", "--quiet", f"{head}:{source}")
        if not tracked[source]:
            bad.append((path, source))
    return bad


def inspect(git: Git, top: Path, head: str) -> TreeState | Finding:
    """The work tree's state, or the finding that says why it cannot be inspected safely."""
    unsafe = unsafe_config_keys(git)
    if unsafe:
        return Finding(
            id=UNSAFE_CONFIG,
            severity=Severity.HIGH,
            message="the repository's config would make `git status` run programs or read another directory "
            f"({_names(unsafe)}); the work tree was not checked. Check out without these settings "
            "(e.g. install git-lfs filters globally, not in the repository)",
            location=Location(path=str(top), field="config"),
            data={"keys": unsafe},
        )
    modified, untracked, ignored = _status(git)
    return TreeState(
        modified=tuple(modified),
        untracked=tuple(untracked),
        ignored=tuple(ignored),
        hidden=tuple(_hidden(git, top)),
        unreviewed_ignored=tuple(_unreviewed_ignores(git, ignored, head)),
    )


def tree_findings(git: Git, top: Path, *, head: str, verified: str) -> list[Finding]:
    """Findings that say the work tree at ``top`` is not exactly the verified commit."""
    findings: list[Finding] = []
    loc = Location(path=str(top))
    if head != verified:
        findings.append(
            Finding(
                id=HEAD_MISMATCH,
                severity=Severity.HIGH,
                message=f"the work tree is at commit {head[:12]}, not at the verified commit {verified[:12]}: "
                "the code on disk is not the code that was verified",
                location=loc,
                data={"head": head, "verified": verified},
            )
        )
    state = inspect(git, top, head)
    if isinstance(state, Finding):
        return [*findings, state]
    if state.modified or state.untracked:
        parts = []
        if state.modified:
            parts.append(f"{len(state.modified)} changed ({_names(state.modified)})")
        if state.untracked:
            parts.append(f"{len(state.untracked)} untracked ({_names(state.untracked)})")
        findings.append(
            Finding(
                id=DIRTY,
                severity=Severity.HIGH,
                message=f"work tree of commit {head[:12]} is not clean: {'; '.join(parts)}",
                location=loc,
                data={"commit": head, "modified": list(state.modified), "untracked": list(state.untracked)},
            )
        )
    if state.hidden:
        findings.append(
            Finding(
                id=HIDDEN,
                severity=Severity.HIGH,
                message=f"the index tells git to skip these files' content (assume-unchanged / skip-worktree), "
                f"so changes to them would not show: {_names(state.hidden)}",
                location=loc,
                data={"commit": head, "paths": list(state.hidden)},
            )
        )
    if state.unreviewed_ignored:
        paths = [p for p, _ in state.unreviewed_ignored]
        sources = sorted({s for _, s in state.unreviewed_ignored})
        code = [p for p in paths if _holds_code(top / p)]
        rule = f"ignored by a rule that is not part of commit {head[:12]} ({', '.join(sources)})"
        findings.append(
            Finding(
                id=UNREVIEWED_IGNORE,
                # Tool caches (.pytest_cache, .ruff_cache ...) ignore themselves the same way; only code
                # hidden like that blocks, the rest is shown.
                severity=Severity.HIGH if code else Severity.LOW,
                message=f"unreviewed code {rule}: {_names(code)}" if code
                else f"files {rule} (no code among them): {_names(paths)}",
                location=loc,
                data={"commit": head, "paths": paths, "code": code, "sources": sources},
            )
        )
    return findings


# What Python (or a shell) may load or run: an ignored file like this is unreviewed code.
_CODE_SUFFIXES = {
    ".py", ".pyc", ".pyo", ".pyd", ".pyi", ".pyx", ".pxd", ".pth", ".so", ".dylib", ".dll", ".ipynb",
    ".sh", ".bash", ".zsh", ".js", ".mjs", ".ts", ".rb", ".pl", ".r", ".jar", ".whl", ".egg", ".zip", ".tar",
    ".gz", ".tgz", ".bz2", ".xz", ".pkl", ".pickle", ".joblib", ".pt", ".pth.tar", ".cfg", ".toml", ".ini",
}
_WALK_LIMIT = 20_000


def _holds_code(path: Path) -> bool:
    """True when ``path`` (a file, or any file under a directory) could be loaded or run as code."""
    if path.is_symlink() or not path.is_dir():
        return _is_code(path)
    for n, child in enumerate(path.rglob("*")):
        if n >= _WALK_LIMIT or _is_code(child):
            return True  # too many files to tell: fail closed
    return False


def _is_code(path: Path) -> bool:
    if path.is_symlink():
        return True  # may point at anything
    if not path.is_file():
        return False
    if path.suffix.lower() in _CODE_SUFFIXES or path.name.lower().endswith(".pth.tar"):
        return True
    return bool(path.stat().st_mode & 0o111)
