"""Packaging and layering: the three folders import as kfp_gates.*, in a wheel too; layers hold."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _link_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "linktree"
    (tree / "kfp_gates").mkdir(parents=True)
    for folder in ("components", "sdk", "pipelines"):
        os.symlink(ROOT / folder, tree / "kfp_gates" / folder)
    return tree


def test_import_linter_contracts_hold(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(_link_tree(tmp_path))}
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_wheel_contains_the_three_packages_and_their_data(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("kfp_gates-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "kfp_gates/components/common/result.py" in names
    assert "kfp_gates/sdk/cli/__init__.py" in names
    assert "kfp_gates/pipelines/samples/policy.yaml" in names
    assert not any(n.startswith(("tests/", "kfp_gates/tests", "benchmarks/")) for n in names)
    # Installed from the wheel alone (not the editable finder), the packages import.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True
    )
    code = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        f"sys.path.insert(0, {str(target)!r})\n"
        "import kfp_gates.components.common.result as r, kfp_gates.sdk.cli as c, kfp_gates.pipelines.demo as d\n"
        f"assert r.__file__.startswith({str(target)!r}), r.__file__\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
