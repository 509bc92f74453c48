"""scripts/gpu_check.py --quick: the whole accelerator check at tiny sizes, no wandb or tfds."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")


@pytest.mark.slow
def test_gpu_check_quick_runs_without_wandb_and_tfds(tmp_path):
    # the GPU machine has neither: importing either one here fails the run
    blocked = tmp_path / "blocked"
    for name in ("wandb", "tensorflow_datasets", "tensorflow"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocked), str(ROOT)]))
    out = tmp_path / "gpu.md"
    cmd = [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    text = out.read_text()
    assert "QUICK SMOKE RUN" in text and "`python scripts/gpu_check.py --quick`" in text
    assert "| jax |" in text and "| backend | cpu |" in text
    number = r"(\d+\.\d+)"
    for layer in ("S4D conv", "S5 parallel", "S5 sequential", "S5 chunked"):
        m = re.search(rf"\| {layer} \| 64 \| {number} \| {number} \|", text)
        assert m and all(float(x) > 0 for x in m.groups()), layer
    for task in TASKS:
        for k in (1, 8):
            m = re.search(rf"\| {task} \| 8 \| {k} \| (-?\d+\.\d) \| {number} \| {number} \|", text)
            assert m and float(m[2]) > 0 and float(m[3]) > 0, (task, k)
    losses = re.findall(r"^\| (\d+) \| (\d+\.\d+) \|$", text, re.M)
    assert [int(s) for s, _ in losses] == [8, 16]
    assert re.search(r"Validation accuracy \d\.\d{3}, test \d\.\d{3}", text)
