"""LRA configs: every full config builds its model with the size stated in results/lra.md, and
every :smoke variant trains end to end on data written in the official format."""

import os
import re
import subprocess
import sys
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.config import base_config, from_config_dict, load_config
from freqssm.data.lra import lra_meta
from freqssm.model import models
from freqssm.presets.lra import FIDELITY_KEYS
from freqssm.train.loop import train_and_evaluate
from freqssm.train.run import build_run

REPO = Path(__file__).resolve().parents[2]
TASKS = ["listops", "text", "retrieval", "image", "pathfinder", "pathx"]


def get_config(task, variant=None):
    """``configs/lra_<task>.py[:variant]`` as the command line loads it (before conversion)."""
    spec = REPO / "configs" / f"lra_{task}.py"
    return load_config(f"{spec}:{variant}" if variant else spec)


def documented_sizes():
    """{config name: (per block, total)} from the "Model sizes" table of results/lra.md."""
    text = (REPO / "results" / "lra.md").read_text()
    rows = re.findall(r"^\| `(configs/lra_\w+\.py(?::\w+)?)` \| ([\d,]+) \| ([^|]+) \|", text, re.M)
    return {name: (int(n.replace(",", "")), total.strip()) for name, n, total in rows}


@pytest.mark.parametrize("task", TASKS)
def test_full_config_builds_with_documented_size(task):
    cfg = get_config(task)
    from_config_dict(cfg)
    shapes = build_run(from_config_dict(cfg), lra_meta(task)).shapes
    per_block, total = documented_sizes()[f"configs/lra_{task}.py"]
    assert per_block == models.count_params(shapes["backbone"]["block0"])
    n = models.count_params(shapes)
    if task == "text":  # the character vocabulary V depends on the data: "N + d_model·V"
        n -= shapes["backbone"]["embed"]["embedding"].size
        assert total == f"{n:,} + {cfg.model.d_model}·V"
    else:
        assert total == f"{n:,}"
    s = cfg.model.ssm
    assert s.kind == "s4d" and s.bidirectional and s.sobolev.learnable and s.init == "s4d_lin"
    assert cfg.model.n_layers == 6 and s.state_size == 128
    # the authors' padding mask, in the tasks whose batches carry lengths
    assert cfg.model.mask_padding == (task in ("listops", "text", "retrieval"))


@pytest.mark.slow
def test_listops_smoke_from_the_documented_commands(tmp_path):
    env = dict(os.environ, WANDB_MODE="disabled")
    gen = [
        sys.executable,
        "-m",
        "freqssm.datagen.listops",
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
@pytest.mark.slow
def test_smoke_variants_train_on_fixture_data(tmp_path, task, lra_files):
    root = tmp_path / "data"
    root.mkdir()
    if task == "text":
        lra_files.imdb(root, n=12)
    elif task == "retrieval":
        lra_files.aan(root, n=24)
    elif task == "image":
        lra_files.cifar(root, n=8)
    else:
        lra_files.pathfinder(root, res=32 if task == "pathfinder" else 128, n_files=2, per_file=12)
    cfg = get_config(task, "smoke")
    cfg.data.root = str(root)
    cfg.train.progress = False
    cfg.train.steps = 3
    cfg.train.eval_every = 3
    res = train_and_evaluate(from_config_dict(cfg), tmp_path / "run")
    assert res["step"] == 3 and 0.0 <= res["test"]["accuracy"] <= 1.0
    # LRA Text has no validation split: its test split is reported as val, and results say so
    assert res["val_is_test"] == (task == "text")
    if task == "text":
        assert res["val"] == res["test"] and "test" in res["val_split"]


# The authors' per-block parameter counts (norm, SSM with C, D, Δ, Λ, Sobolev exponent, and the
# width-doubling GLU map with bias), from their public model code.
AUTHORS_PER_BLOCK = {
    "listops": 66_560,
    "text": 198_528,
    "retrieval": 66_560,
    "image": 724_480,
    "pathfinder": 198_528,
    "pathx": 82_816,
}


@pytest.mark.parametrize("task", TASKS)
def test_per_block_parameter_count_equals_the_authors(task):
    cfg = get_config(task)
    shapes = build_run(from_config_dict(cfg), lra_meta(task)).shapes
    blocks = [shapes["backbone"][f"block{i}"] for i in range(cfg.model.n_layers)]
    assert [models.count_params(b) for b in blocks] == [AUTHORS_PER_BLOCK[task]] * 6
    assert "B" not in blocks[0]["ssm"]


# (lr, ssm lr, Δ lr, weight decay) of the authors' configs, per task (the Sobolev exponent: 0.01,
# no decay, everywhere). Λ and B: the SSM lr without decay; Δ: its lr without decay; every other
# parameter (C, D, norms, biases, embeddings, dense maps): the global lr with weight decay.
AUTHORS_OPTIM = {
    "listops": (0.008, 0.004, 0.008, 0.03),
    "text": (0.01, 0.001, 0.01, 0.05),
    "retrieval": (0.004, 0.001, 0.004, 0.03),
    "image": (0.01, 0.001, 0.001, 0.01),
    "pathfinder": (0.004, 0.001, 0.001, 0.03),
    "pathx": (0.001, 0.001, 0.001, 0.03),
}


@pytest.mark.parametrize("task", TASKS)
def test_optimizer_gives_each_parameter_the_authors_lr_and_decay(task):
    from flax import traverse_util

    from freqssm.train import optim

    cfg = get_config(task)
    cfg.model.n_layers, cfg.model.d_model, cfg.model.ssm.state_size = 1, 8, 4  # names only
    cfg.optim.warmup_steps = 0  # read the peak rates at step 0
    meta = lra_meta(task)
    model = models.build(from_config_dict(cfg).model, meta)
    shapes = jax.eval_shape(model.init, jax.random.key(0), *models.example_inputs(meta, 2))
    params = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes["params"])  # names only
    tx = optim.build(from_config_dict(cfg).optim, params, total_steps=int(cfg.train.steps))
    lr, ssm_lr, dt_lr, wd = AUTHORS_OPTIM[task]
    # Adam's first step with gradient 1 moves a zero parameter by exactly -lr; with gradient 0,
    # AdamW moves a parameter of 1 by -lr·wd (and Adam not at all).
    zeros = jax.tree.map(jnp.zeros_like, params)
    ones = jax.tree.map(jnp.ones_like, params)
    update = jax.jit(tx.update)
    step_lr, _ = update(ones, tx.init(zeros), zeros)
    step_wd, _ = update(zeros, tx.init(ones), ones)
    flat_lr, flat_wd = traverse_util.flatten_dict(step_lr), traverse_util.flatten_dict(step_wd)
    names = set()
    for path in flat_lr:
        name = path[-1]
        names.add(name)
        if name in ("Lambda_re_log", "Lambda_im"):
            want = (ssm_lr, 0.0)
        elif name == "dt_raw":
            want = (dt_lr, 0.0)
        elif name == "sobolev_beta":
            want = (0.01, 0.0)
        else:
            assert name in ("C", "D", "kernel", "bias", "scale", "embedding"), path
            want = (lr, wd)
        # rtol 1e-4: float32 rounding in Adam's bias correction; distinct rates differ by >= 2x
        np.testing.assert_allclose(-flat_lr[path], want[0], rtol=1e-4, err_msg=str(path))
        np.testing.assert_allclose(-flat_wd[path], want[0] * want[1], rtol=1e-4, err_msg=str(path))
    assert {"Lambda_re_log", "Lambda_im", "dt_raw", "sobolev_beta", "C", "D", "scale"} <= names
    assert not {"B", "Lambda_re", "log_dt"} & names


def test_last_pooling_reads_the_eos_of_each_padded_sequence():
    cfg = get_config("listops", "smoke")
    assert cfg.model.pooling == "last"
    meta = lra_meta("listops")
    model = models.build(from_config_dict(cfg).model, meta)
    rng = np.random.default_rng(0)
    L, lengths = 64, np.array([5, 64, 17, 1])
    tokens = np.zeros((4, L), np.int32)
    for b, n in enumerate(lengths):
        tokens[b, : n - 1] = rng.integers(3, meta.in_features, n - 1)
        tokens[b, n - 1] = 2  # <eos>
    v = jax.jit(model.init)(jax.random.key(0), jnp.asarray(tokens), jnp.asarray(lengths))
    feats = {}

    def record(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if context.module.name in ("backbone", "head") and context.method_name == "__call__":
            feats[context.module.name] = np.asarray(
                args[0] if context.module.name == "head" else out
            )
        return out

    with nn.intercept_methods(record):
        model.apply(v, jnp.asarray(tokens), jnp.asarray(lengths))
    x = feats["backbone"]  # (B, L, H)
    np.testing.assert_array_equal(feats["head"], x[np.arange(4), lengths - 1])
    assert not np.allclose(feats["head"], x[:, -1])  # not simply the last position


def test_variants_combine_and_the_alias_equals_its_expansion():
    a = get_config("listops", "reduced_untuned").to_dict()
    b = get_config("listops", "reduced,untuned").to_dict()
    assert a == b
    c = get_config("pathfinder", "untuned,reduced,smoke")
    assert c.model.ssm.alpha == 1.0 and not c.model.ssm.sobolev.learnable
    assert c.train.steps == 10 and c.model.d_model == 16  # smoke applied last wins
    with pytest.raises(
        ValueError,
        match=r"unknown variant 'bogus'.*known: .*ours, reduced, reduced_untuned, smoke, untuned\)",
    ):
        get_config("listops", "reduced,bogus")


def test_configs_start_from_the_loaders_defaults():
    """Each loader key is declared once (its module's DEFAULTS) and reachable from every config
    of its task: unset keys take the loader's default, set ones override it."""
    from freqssm import data
    from freqssm.data.base import options
    from freqssm.data.config import DataConfig

    for task in TASKS:
        cfg = get_config(task)
        d = data.defaults(task)
        assert set(d) <= set(cfg.data.keys()), task
        assert d["split_seed"] == 42
    assert data.defaults("pathx")["resolution"] == 128 == lra_meta("pathx").seq_len ** 0.5
    assert get_config("text").data.min_freq == data.defaults("text")["min_freq"] == 15
    assert get_config("text").data.tokenizer == "chars" != data.defaults("text")["tokenizer"]
    assert options(None, {"a": 1}) == {"a": 1}
    # a loader's typed options hold every key: the config's values, the loader's defaults
    given = DataConfig(name="synthetic", options={"pool": None, "seed": 2})
    assert given.options.n_val == 1024
    assert options(given, {"pool": 1, "n_val": 3}) == {"pool": None, "n_val": 1024}
    # a plain mapping of keys (a task of one's own): the defaults given fill in
    assert options({"pool": None}, {"pool": 1, "n_val": 3}) == {"pool": None, "n_val": 3}


def test_quoted_paper_rows_average_to_their_stated_means():
    """The paper's rows in results/lra.md: each avg is the mean of its six tasks (2 decimals)."""
    text = (REPO / "results" / "lra.md").read_text()
    rows = re.findall(r"^\| ([^|]*\(.*paper\)) \|((?: [\d.]+ \|){7})", text, re.M)
    assert len(rows) == 4
    for name, cells in rows:
        *tasks, avg = [float(x) for x in cells.strip(" |").split(" | ")]
        assert abs(sum(tasks) / 6 - avg) < 0.005 + 1e-9, name


def _flat(cfg) -> dict:
    out = {}

    def walk(node, prefix):
        for k, v in node.items():
            if hasattr(v, "items"):
                walk(v, f"{prefix}{k}.")
            else:
                out[f"{prefix}{k}"] = v

    walk(cfg, "")
    return out


def test_listops_cpu_variants_differ_from_the_full_config_only_where_allowed():
    """The CPU learning study may change size, budget and sequence length, nothing else."""
    allowed = {
        "model.n_layers",
        "model.d_model",
        "train.steps",
        "optim.warmup_steps",
        "data.max_examples",
        "data.batch_size",
        "data.seq_len",
        # when and on how much it evaluates and logs: not what is trained
        "train.eval_every",
        "train.checkpoint_every",
        "train.log_every",
        "train.eval_limit",
    }
    full = _flat(get_config("listops"))
    for variant, base in [("cpu", None), ("cpu_untuned", "untuned")]:
        ref = _flat(get_config("listops", base))
        got = _flat(get_config("listops", variant))
        diff = {k for k in full if got[k] != ref[k]}
        assert diff <= allowed, diff - allowed
        assert got["data.seq_len"] == 600 and got["model.mask_padding"]
    assert _flat(get_config("listops", "untuned"))["model.ssm.alpha"] == 1.0


def test_ours_variant_restores_freqssm_defaults():
    """``ours``: every fidelity key back at base_config()'s value, Δ at the SSM lr; the reduced
    ListOps model then has the 167,562 parameters of the 2026-12-01 runs (results/lra.md)."""
    default = _flat(base_config())
    cfg = get_config("listops", "reduced,ours")
    got = _flat(cfg)
    for key in FIDELITY_KEYS:
        assert got[key] == default[key], key
    assert cfg.optim.dt_lr == cfg.optim.ssm_lr == 0.004
    shapes = build_run(from_config_dict(cfg), lra_meta("listops")).shapes
    assert models.count_params(shapes) == 167_562
    assert "| 167,562 |" in (REPO / "results" / "lra.md").read_text()
