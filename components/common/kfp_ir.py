"""Read a compiled KFP pipeline (IR YAML) without importing kfp.

A compiled pipeline is one or two YAML documents: the PipelineSpec, and
optionally a PlatformSpec (``platforms.kubernetes.deploymentSpec.executors``).
Gates that inspect pipelines (dependency scan, component lock, checks) read
executors from here, so the IR layout is understood in one place.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .files import parser_limits, read_regular_file

# libyaml's safe loader when PyYAML was built with it: ~10x faster on large pipelines, same results.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Lightweight components write their embedded source to this file before running it.
_EMBEDDED_MARKER = "ephemeral_component.py"
_SHELL_STOP = {"&&", "||", ";", "|", "fi", "then", "do", "done", "else"}
# pip install options whose value is the next word (so it is not mistaken for a requirement).
_PIP_VALUE_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "-r", "--requirement",
    "-c", "--constraint", "-e", "--editable", "-t", "--target", "--prefix", "--root", "--platform",
    "--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy", "--progress-bar",
    "--cache-dir", "--log", "--proxy", "--retries", "--timeout", "--exists-action", "--cert", "--client-cert",
    "--global-option", "--config-settings", "-C", "--no-binary", "--only-binary", "--report", "--python",
}


@dataclass(frozen=True)
class Executor:
    """One executor of ``deploymentSpec.executors``: a container (image, command, args) or an importer."""

    label: str
    image: str | None
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    kind: str = "container"  # "container" | "importer" | "resolver" | other keys KFP may add
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    platform: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def embedded_code(self) -> str | None:
        """The Python source a lightweight component embeds, or None for container components."""
        parts = list(self.command)
        for i, part in enumerate(parts):
            if _EMBEDDED_MARKER in part and i + 1 < len(parts):
                return parts[i + 1]
        return None

    def _pip_install_words(self) -> list[tuple[str, str]]:
        """(option, value) pairs of every ``pip install`` in the command; requirements have option ""."""
        out: list[tuple[str, str]] = []
        for part in self.command + self.args:
            if "pip" not in part or "install" not in part:
                continue
            try:
                words = shlex.split(part, posix=True)
            except ValueError:
                continue
            collecting = False
            prev = ""
            pending: str | None = None
            for w in words:
                if w in _SHELL_STOP or w.endswith(";"):
                    collecting, pending = False, None
                elif w == "install" and (prev in {"pip", "pip3"} or prev.endswith("/pip")):
                    collecting = True
                elif collecting and pending is not None:
                    out.append((pending, w))
                    pending = None
                elif collecting and w.startswith("-"):
                    name, eq, value = w.partition("=")
                    if eq:
                        out.append((name, value))
                    elif name in _PIP_VALUE_OPTIONS:
                        pending = name  # the next word is this option's value, not a requirement
                    else:
                        out.append((name, ""))
                elif collecting and not w.startswith("$"):
                    out.append(("", w))
                prev = w
        return out

    def runtime_pip_installs(self) -> list[str]:
        """Requirement strings installed with ``pip install`` when the container starts."""
        return [w for opt, w in self._pip_install_words() if opt == ""]

    def runtime_pip_options(self) -> list[tuple[str, str]]:
        """Options of those ``pip install`` commands, e.g. ``("--index-url", URL)``; flags have value ""."""
        return [(opt, w) for opt, w in self._pip_install_words() if opt]


@dataclass(frozen=True)
class CompiledPipeline:
    path: str
    name: str
    spec: dict[str, Any]
    platform: dict[str, Any]
    executors: dict[str, Executor]

    def images(self) -> dict[str, str]:
        return {label: e.image for label, e in self.executors.items() if e.image}


def _fail(path: str, msg: str, hint: str | None = None) -> ConfigError:
    return ConfigError(msg, where=path, hint=hint or "pass the YAML written by `kfp.compiler.Compiler().compile`")


def executor_from_ir(label: str, body: dict[str, Any], platform: dict[str, Any] | None = None) -> Executor:
    """One ``deploymentSpec.executors.<label>`` body (and its PlatformSpec config) as an :class:`Executor`."""
    kind = next(iter(body), "unknown")
    container = body.get("container") or {}
    return Executor(
        label=label,
        image=container.get("image") if kind == "container" else None,
        command=tuple(str(c) for c in container.get("command") or ()),
        args=tuple(str(a) for a in container.get("args") or ()),
        kind=kind,
        raw=body,
        platform=platform or {},
    )


def parse_pipeline(text: str, path: str = "<pipeline>") -> CompiledPipeline:
    """Parse compiled pipeline YAML text. Raises :class:`ConfigError` when it is not KFP IR."""
    try:
        with parser_limits("pipeline file", path):
            docs = [d for d in yaml.load_all(text, Loader=_LOADER) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else path
        raise _fail(where, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from None
    spec = next((d for d in docs if isinstance(d, dict) and "deploymentSpec" in d), None)
    if spec is None:
        if any(isinstance(d, dict) and "pipelineSpec" in d for d in docs):
            spec = next(d["pipelineSpec"] for d in docs if isinstance(d, dict) and "pipelineSpec" in d)
        else:
            raise _fail(path, "not a compiled KFP pipeline (no deploymentSpec)")
    platform_doc = next((d for d in docs if isinstance(d, dict) and "platforms" in d), {})
    k8s_execs = (
        ((platform_doc.get("platforms") or {}).get("kubernetes") or {}).get("deploymentSpec") or {}
    ).get("executors") or {}
    executors_raw = (spec.get("deploymentSpec") or {}).get("executors") or {}
    if not isinstance(executors_raw, dict):
        raise _fail(path, "deploymentSpec.executors is not a mapping")
    executors: dict[str, Executor] = {}
    for label, body in executors_raw.items():
        if not isinstance(body, dict):
            raise _fail(path, f"deploymentSpec.executors.{label} is not a mapping")
        executors[label] = executor_from_ir(label, body, k8s_execs.get(label) or {})
    name = str(((spec.get("pipelineInfo") or {}).get("name")) or Path(path).stem)
    return CompiledPipeline(path=path, name=name, spec=spec, platform=platform_doc, executors=executors)


def read_pipeline_text(path: str | Path) -> str:
    """The text of a compiled pipeline file, read from one open of a regular file.

    Raises :class:`InputNotFoundError` (missing, a directory) or
    :class:`ConfigError` (a FIFO or device, unreadable, not UTF-8): exit 2.
    """
    p = Path(path)
    data = read_regular_file(p, "pipeline file", directory_hint="name one compiled pipeline YAML file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(str(p), "pipeline file is not UTF-8 text") from None


def load_pipeline(path: str | Path) -> CompiledPipeline:
    """Read a compiled pipeline file. Raises InputNotFoundError / ConfigError."""
    return parse_pipeline(read_pipeline_text(path), str(path))


_DIGEST_REF = re.compile(r"@sha256:[0-9a-f]{64}$")


_ZERO_SHA256 = "0" * 64
# sha256 of zero bytes: no image manifest has it.
_EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def is_placeholder_digest(image: str) -> bool:
    """True when the reference's sha256 is reserved — all zeros (the usual placeholder) or the digest of
    empty content: it pins nothing a registry can serve."""
    match = _DIGEST_REF.search(image)
    if not match:
        return False
    hexdigest = match.group(0)[len("@sha256:") :]
    return hexdigest in (_ZERO_SHA256, _EMPTY_SHA256)


def is_digest_pinned(image: str) -> bool:
    """True when an image reference names a real sha256 digest (a tag can be moved; a placeholder pins nothing)."""
    return bool(_DIGEST_REF.search(image)) and not is_placeholder_digest(image)
