"""LRA configs: every full config builds its model with the size stated in results/lra.md, and
every :smoke variant trains end to end on data written in the official format."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import pytest
from test_data_lra import _write_aan, _write_cifar, _write_imdb, _write_pathfinder

from freqssm import models
from freqssm.config import validate
from freqssm.data.lra import lra_meta
from freqssm.train import train_and_evaluate

REPO = Path(__file__).resolve().parents[1]
TASKS = ["listops", "text", "retrieval", "image", "pathfinder", "pathx"]


def get_config(task, variant=None):
    spec = importlib.util.spec_from_file_location(task, REPO / "configs" / f"lra_{task}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.get_config(variant)


def documented_sizes():
    """{config name: parameter count} from the "Model sizes" table of results/lra.md."""
    text = (REPO / "results" / "lra.md").read_text()
    rows = re.findall(r"^\| `(configs/lra_\w+\.py(?::\w+)?)` \| ([\d,]+) \|", text, re.M)
    return {name: int(n.replace(",", "")) for name, n in rows}


@pytest.mark.parametrize("task", TASKS)
def test_full_config_builds_with_documented_size(task):
    cfg = get_config(task)
    validate(cfg)
    meta = lra_meta(task)
    model = models.build(cfg.model, meta)
    shapes = jax.eval_shape(
        lambda k: model.init(k, *models.example_inputs(meta, 1)), jax.random.key(0)
    )
    n = models.count_params(shapes["params"])
    assert documented_sizes()[f"configs/lra_{task}.py"] == n
    s = cfg.model.ssm
    assert s.kind == "s4d" and s.bidirectional and s.sobolev.learnable and s.init == "s4d_lin"
    assert cfg.model.n_layers == 6 and s.state_size == 128


def test_listops_smoke_from_the_documented_commands(tmp_path):
    env = dict(os.environ, WANDB_MODE="disabled")
    gen = [
        sys.executable,
        "-m",
        "freqssm.data.listops",
        "--out",
        str(tmp_path / "data"),
        "--n_train",
        "240",
        "--n_val",
        "40",
        "--n_test",
        "40",
    ]
    assert subprocess.run(gen, cwd=REPO, env=env, capture_output=True).returncode == 0
    train = [
        sys.executable,
        "-m",
        "freqssm.train",
        "--config",
        str(REPO / "configs" / "lra_listops.py") + ":smoke",
        "--workdir",
        str(tmp_path / "run"),
        f"--config.data.root={tmp_path / 'data'}",
        "--config.train.progress=False",
    ]
    r = subprocess.run(train, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "results.json").exists()


@pytest.mark.parametrize("task", ["text", "retrieval", "image", "pathfinder", "pathx"])
def test_smoke_variants_train_on_fixture_data(tmp_path, task):
    root = tmp_path / "data"
    root.mkdir()
    if task == "text":
        _write_imdb(root, n=12)
    elif task == "retrieval":
        _write_aan(root, n=24)
    elif task == "image":
        _write_cifar(root, n=8)
    else:
        _write_pathfinder(root, res=32 if task == "pathfinder" else 128, n_files=2, per_file=12)
    cfg = get_config(task, "smoke")
    cfg.data.root = str(root)
    cfg.train.progress = False
    cfg.train.steps = 3
    cfg.train.eval_every = 3
    res = train_and_evaluate(cfg, tmp_path / "run")
    assert res["step"] == 3 and 0.0 <= res["test"]["accuracy"] <= 1.0
