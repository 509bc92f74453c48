"""The package's layering rule (``[tool.importlinter]`` in pyproject.toml, run by ``.ci/run``)
holds, and it can fail: a copy of the package with one upward import breaks it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with the repository's contracts on ``package_parent/freqssm``."""
    env = dict(os.environ, PYTHONPATH=str(package_parent))
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_package_keeps_its_layers():
    r = lint_imports(REPO)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "5 kept, 0 broken" in r.stdout


def test_an_upward_import_breaks_the_rule(tmp_path):
    shutil.copytree(
        REPO / "freqssm", tmp_path / "freqssm", ignore=shutil.ignore_patterns("__pycache__")
    )
    blocks = tmp_path / "freqssm" / "model" / "blocks.py"
    blocks.write_text(
        blocks.read_text() + "\nfrom freqssm.train import optim  # noqa: E402, F401\n"
    )
    r = lint_imports(tmp_path)
    assert r.returncode != 0
    assert "freqssm.model is not allowed to import freqssm.train" in r.stdout
    assert "freqssm.model.blocks -> freqssm.train.optim" in r.stdout
