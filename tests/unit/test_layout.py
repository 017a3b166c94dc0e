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


def _overlay_tree(tmp_path: Path, extra: dict[str, str]) -> Path:
    """Like :func:`_link_tree`, plus new modules ``extra`` (repo-relative path -> source), originals untouched.

    Directories on the way to an added module are real directories whose other
    entries are symlinks to the repository's own.
    """
    tree = tmp_path / "overlay"
    on_path = {Path(rel).parents[i].as_posix() for rel in extra for i in range(len(Path(rel).parents) - 1)}

    def mirror(src: Path, dst: Path, rel: str) -> None:
        dst.mkdir(parents=True)
        for entry in src.iterdir():
            sub = f"{rel}/{entry.name}"
            if sub in on_path:
                mirror(entry, dst / entry.name, sub)
            else:
                os.symlink(entry, dst / entry.name)

    (tree / "kfp_gates").mkdir(parents=True)
    for folder in ("components", "sdk", "pipelines"):
        if folder in on_path:
            mirror(ROOT / folder, tree / "kfp_gates" / folder, folder)
        else:
            os.symlink(ROOT / folder, tree / "kfp_gates" / folder)
    for rel, source in extra.items():
        (tree / "kfp_gates" / rel).write_text(source)
    return tree


def test_import_linter_contracts_catch_gate_to_gate_kfp_in_engines_and_sdk_core_to_cli(tmp_path):
    """Each layering rule the architecture follows is a contract that breaks when the rule is broken."""
    probes = {
        "components/model_scan/_lint_probe.py": "import kfp_gates.components.secrets\n",
        "components/dependency_scan/_lint_probe.py": "import kfp_gates.components.isolation\n",
        "components/isolation/_lint_probe.py": "import kfp\n",
        "sdk/tools/_lint_probe.py": "import kfp_gates.sdk.cli\n",
    }
    env = {**os.environ, "PYTHONPATH": str(_overlay_tree(tmp_path, probes)), "COLUMNS": "400"}
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=ROOT, env=env, capture_output=True, text=True)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    broken = {line.rsplit(" ", 1)[0] for line in out.splitlines() if line.endswith(" BROKEN") or " BROKEN (" in line}
    broken = {b.split(" BROKEN")[0] for b in broken}
    assert broken == {
        "Gates are independent of each other (they share only components.common, components.enforce and "
        "components._image)",
        "Engines import no KFP: only each gate's component.py (and components._component) may",
        "sdk.cli sits above the SDK core: nothing else in the SDK imports the CLI",
    }, out
    for probe in (
        "model_scan._lint_probe",
        "dependency_scan._lint_probe",
        "isolation._lint_probe",
        "tools._lint_probe",
    ):
        assert probe in out, probe


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
    # Every gate subpackage, dependency_scan included (a folder without __init__.py is left out by find_packages).
    for gate in ("data_validation", "dependency_scan", "isolation", "model_scan", "model_signing", "secrets"):
        assert f"kfp_gates/components/{gate}/component.py" in names, gate
    assert "kfp_gates/components/dependency_scan/parsers/requirements.py" in names
    assert "kfp_gates/sdk/cli/__init__.py" in names
    assert "kfp_gates/pipelines/samples/policy.yaml" in names
    assert "kfp_gates/components/rego_policy/policies/promotion.rego" in names  # the default promotion rule
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
