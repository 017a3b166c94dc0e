"""`make image-test`: run kfp-gates components inside the built image as a KFP pod runs them.

For each case the driver takes the executor's ``command`` and ``args`` from the compiled
component YAML (components/compiled/*.yaml), substitutes a realistic ``executor_input`` for
``{{$}}`` and runs that command in the image with podman:

- ``--network none``, ``--read-only`` root filesystem, a tmpfs at /tmp, the image's own user;
- input artifacts under ``/minio/mlpipeline/v2/inputs`` (URI ``minio://...``, the path the KFP
  launcher gives a component) on a read-only bind mount;
- output artifacts under ``/minio/mlpipeline/v2/artifacts`` and the executor output file under
  ``/tmp/kfp_outputs`` on writable bind mounts, read back here.

A case passes when the task exits as expected and the verdict the component returned (the
``Output`` parameter in the executor output file) is the expected one. Also checks the image
itself: non-root user, no pip, apt or compiler, OCI labels.

Not collected by ``pytest tests`` (it lives in deploy/ and needs podman):
    python deploy/image_test.py --image localhost/kfp-gates:dev
Exit status: 0 all cases passed, 1 a case failed, 2 usage error (no podman, no image).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPILED = REPO / "components" / "compiled"
IRIS = REPO / "pipelines" / "samples" / "data_validation"
IN_DIR = "/minio/mlpipeline/v2/inputs"
OUT_DIR = "/minio/mlpipeline/v2/artifacts"
KFP_OUTPUTS = "/tmp/kfp_outputs"  # noqa: S108 -- a path in the container, the one the KFP launcher uses
# Written by the malicious pickle's payload if anything unpickles it (the writable bind mount).
PAYLOAD_MARKER = "PAYLOAD_RAN"
IMAGE_UID = 10001


class _Payload:
    """Unpickling this runs a shell command: what a malicious model file does."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@dataclass(frozen=True)
class Case:
    name: str
    component: str  # components/compiled/<component>.yaml
    inputs: dict[str, str]  # input artifact name -> file name in the fixtures dir
    parameters: dict[str, object] = field(default_factory=dict)
    verdict: str | None = "pass"  # expected Output parameter; None: the task must fail
    stderr_has: tuple[str, ...] = ()


def _fixtures(root: Path) -> None:
    """Model files and the iris data set, written on the host, mounted read-only in the image."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=500).fit(x, y), root / "clean_model.joblib")
    (root / "clean_weights.pkl").write_bytes(pickle.dumps({"weights": [0.5, 1.5], "bias": 0.1}, protocol=4))
    (root / "malicious.pkl").write_bytes(pickle.dumps(_Payload(f"{OUT_DIR}/{PAYLOAD_MARKER}"), protocol=2))
    shutil.copy(IRIS / "iris.csv", root / "iris.csv")
    # Poisoned: a duplicated sample_id and a species the suite does not know.
    (root / "iris_poisoned.csv").write_text((IRIS / "iris.csv").read_text() + "1,5.1,3.5,1.4,0.2,unicorn\n")


def _cases() -> list[Case]:
    suite = (IRIS / "iris.suite.json").read_text()
    return [
        Case("scan_model: clean scikit-learn model passes", "scan_model", {"model": "clean_model.joblib"}),
        Case("scan_model: plain pickled weights pass", "scan_model", {"model": "clean_weights.pkl"}),
        Case("scan_model: pickle with an os.system payload fails", "scan_model", {"model": "malicious.pkl"},
             verdict="fail"),
        Case("validate_data: bundled iris CSV validates", "validate_data", {"dataset": "iris.csv"},
             {"suite": suite}),
        Case("validate_data: poisoned iris CSV fails", "validate_data", {"dataset": "iris_poisoned.csv"},
             {"suite": suite}, verdict="fail"),
        Case("scan_container_image(image=...) without trivy fails closed", "scan_container_image", {},
             {"image": "registry.example/app@sha256:" + "a" * 64}, verdict=None,
             stderr_has=("trivy is not on PATH", "trivy-report")),
    ]


def _component(name: str) -> tuple[dict, list[str], list[str], list[dict]]:
    """(componentSpec, command, args, env) of the single executor in a compiled component YAML."""
    doc = yaml.safe_load((COMPILED / f"{name}.yaml").read_text())
    (spec,) = doc["components"].values()
    container = doc["deploymentSpec"]["executors"][spec["executorLabel"]]["container"]
    return spec, container["command"], container["args"], container.get("env", [])


def _executor_input(spec: dict, case: Case) -> dict:
    """The JSON the KFP driver hands the executor: defaults, the case's values, artifact URIs."""
    inputs = spec.get("inputDefinitions", {})
    # The driver serialises parameters with protojson: an integer default compiled as 5.0 arrives as 5.
    params = {k: int(v["defaultValue"]) if v["parameterType"] == "NUMBER_INTEGER" else v["defaultValue"]
              for k, v in inputs.get("parameters", {}).items() if "defaultValue" in v}
    params.update(case.parameters)
    artifacts = {
        name: {"artifacts": [{
            "name": name, "uri": f"minio:/{IN_DIR.removeprefix('/minio')}/{case.inputs[name]}",
            "type": {"schemaTitle": d["artifactType"]["schemaTitle"]}, "metadata": {}}]}
        for name, d in inputs.get("artifacts", {}).items() if name in case.inputs
    }
    outputs = spec.get("outputDefinitions", {})
    out_artifacts = {
        name: {"artifacts": [{
            "name": name, "uri": f"minio:/{OUT_DIR.removeprefix('/minio')}/{name}",
            "type": {"schemaTitle": d["artifactType"]["schemaTitle"]}, "metadata": {}}]}
        for name, d in outputs.get("artifacts", {}).items()
    }
    out_params = {name: {"outputFile": f"{KFP_OUTPUTS}/parameters/{name}"} for name in outputs.get("parameters", {})}
    return {
        "inputs": {"parameterValues": params, "artifacts": artifacts},
        "outputs": {"parameters": out_params, "artifacts": out_artifacts,
                    "outputFile": f"{KFP_OUTPUTS}/output_metadata.json"},
    }


def _podman(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], text=True, capture_output=True, **kw)  # type: ignore[call-overload]


def run_case(image: str, case: Case, fixtures: Path, work: Path) -> list[str]:
    """Run one case in the image; the list of problems (empty: passed)."""
    spec, command, args, env = _component(case.component)
    payload = json.dumps(_executor_input(spec, case))
    argv = [payload if a == "{{$}}" else a for a in args]
    out, kfp_out = work / "artifacts", work / "kfp_outputs"
    for d in (out, kfp_out):
        d.mkdir(parents=True)
        os.chown(d, IMAGE_UID, IMAGE_UID)
    run = ["run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp:rw,mode=1777",  # noqa: S108
           "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
           "-v", f"{fixtures}:{IN_DIR}:ro", "-v", f"{out}:{OUT_DIR}:rw", "-v", f"{kfp_out}:{KFP_OUTPUTS}:rw"]
    for e in env:
        run += ["--env", f"{e['name']}={e.get('value', '')}"]
    proc = _podman(*run, "--entrypoint", command[0], image, *command[1:], *argv, timeout=600)
    problems = []
    if (out / PAYLOAD_MARKER).exists():
        problems.append("the malicious pickle's payload ran")
    if case.verdict is None:
        if proc.returncode == 0:
            problems.append("the task succeeded; expected it to fail")
        problems += [f"stderr lacks {s!r}" for s in case.stderr_has if s not in proc.stderr]
    elif proc.returncode != 0:
        problems.append(f"exit {proc.returncode}")
    else:
        meta = kfp_out / "output_metadata.json"
        verdict = json.loads(meta.read_text()).get("parameterValues", {}).get("Output") if meta.exists() else None
        if verdict != case.verdict:
            problems.append(f"verdict {verdict!r}, expected {case.verdict!r}")
        if not (out / "result").is_file():
            problems.append("no result artifact written")
    if problems:
        problems.append("stderr tail:\n      " + "\n      ".join(proc.stderr.strip().splitlines()[-15:]))
    return problems


def image_hygiene(image: str) -> list[str]:
    """Non-root user, no pip, apt or compiler on PATH or in the venv, labels set."""
    problems = []
    probe = ("id -u; for t in pip pip3 apt apt-get gcc cc c++ make; do command -v $t && echo HAS:$t; done; "
             "python3 -c 'import importlib.util as u; print(\"HAS:pip-module\" if u.find_spec(\"pip\") else \"\")'; "
             "touch /opt/x 2>/dev/null && echo HAS:writable-root; true")
    proc = _podman("run", "--rm", "--network", "none", "--read-only", "--entrypoint", "sh", image, "-c", probe)
    lines = proc.stdout.split()
    if not lines or lines[0] != str(IMAGE_UID):
        problems.append(f"runs as uid {lines[:1]}, expected {IMAGE_UID}")
    problems += [f"image has {x.removeprefix('HAS:')}" for x in lines if x.startswith("HAS:")]
    labels = json.loads(_podman("image", "inspect", "--format", "{{json .Labels}}", image).stdout or "{}")
    for key in ("org.opencontainers.image.revision", "org.opencontainers.image.version"):
        if labels.get(key) in (None, "", "unknown"):
            problems.append(f"label {key} not set")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", default="localhost/kfp-gates:dev")
    p.add_argument("-k", dest="only", default="", help="run only the cases whose name contains this")
    a = p.parse_args(argv)
    # As `make image-test` does: runc, no default ulimits (deploy/containers.conf), not the user's config.
    os.environ.setdefault("CONTAINERS_CONF", str(REPO / "deploy" / "containers.conf"))
    if shutil.which("podman") is None:
        print("podman not found: run `make image` first (it installs podman)", file=sys.stderr)
        return 2
    if _podman("image", "exists", a.image).returncode != 0:
        print(f"image {a.image} not found: run `make image`", file=sys.stderr)
        return 2
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kfpg-image-test-") as tmp:
        fixtures = Path(tmp) / "fixtures"
        fixtures.mkdir()
        _fixtures(fixtures)
        os.chmod(tmp, 0o755)  # noqa: S103 -- the image's user (uid 10001) reads the fixtures
        checks: list[tuple[str, object]] = [("image: non-root, no pip/apt/compiler, labelled", None)]
        checks += [(c.name, c) for c in _cases() if a.only in c.name]
        for i, (name, case) in enumerate(checks):
            start = time.monotonic()
            if isinstance(case, Case):
                problems = run_case(a.image, case, fixtures, Path(tmp) / f"case{i}")
            else:
                problems = image_hygiene(a.image)
            status = "ok  " if not problems else "FAIL"
            print(f"{status} {name} ({time.monotonic() - start:.1f}s)")
            for line in problems:
                print(f"     {line}")
            failed += bool(problems)
    print(f"{len(checks) - failed}/{len(checks)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
