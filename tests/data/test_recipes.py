"""The README's recipes, run as written: the layers in a Flax model of one's own, and a task of
one's own reached by ``data.name = "module:function"``."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (REPO / "README.md").read_text()
    start = text.index(f"### {title}\n")
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + 1)
    return text[start : end.start() if end else len(text)]


def _blocks(section: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


def test_layers_in_your_own_flax_model():
    import jax

    from freqssm.train import optim

    (code,) = _blocks(_section("Use the layers in your own Flax model"), "python")
    assert len(code.strip().splitlines()) <= 25  # a short recipe
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # the README's own code
    y = scope["y"]
    assert y.shape == (4, 1) and np.all(np.isfinite(np.asarray(y)))
    params = scope["variables"]["params"]
    groups = set(jax.tree.leaves(optim.labels(params)))
    assert {"ssm", "dt", "decay", "no_decay"} <= groups  # fixed beta: no "sobolev" parameter
    # the two knobs reached the layers: S4D's eigenvalues are 8 times S5's apart (alpha 4 vs 0.5)
    s4d = next(v for k, v in params.items() if k.startswith("S4D"))
    s5 = next(v for k, v in params.items() if k.startswith("S5"))
    step = lambda im: float(np.median(np.diff(np.unique(np.abs(np.asarray(im))))))  # noqa: E731
    assert abs(step(s4d["Lambda_im"]) / step(s5["Lambda_im"]) - 8.0) < 0.5


def test_add_your_own_task_as_written(tmp_path):
    section = _section("Add your own task")
    task, config = _blocks(section, "python")
    (command,) = _blocks(section, "bash")
    for code in (task, config):  # each block names its file on its first line
        name = re.match(r"# (\w+\.py)", code).group(1)
        (tmp_path / name).write_text(code)
    env_part, *args = command.split()
    assert env_part == "PYTHONPATH=." and args[:3] == ["python", "-m", "freqssm.train"]
    small = [  # the recipe's run, shortened
        "--config.data.n=256",
        "--config.train.steps=4",
        "--config.train.eval_every=4",
        "--config.train.checkpoint_every=4",
        "--config.train.progress=False",
    ]
    env = dict(os.environ, PYTHONPATH=str(tmp_path), WANDB_MODE="disabled")
    proc = subprocess.run(
        [sys.executable, *args[1:], *small],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a timing
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    wd = tmp_path / "runs" / "mytask"
    results = json.loads((wd / "results.json").read_text())
    assert results["step"] == 4 and 0.0 <= results["test"]["accuracy"] <= 1.0
    saved = json.loads((wd / "config.json").read_text())
    assert saved["data"]["name"] == "mytask:build" and saved["data"]["n"] == 256
