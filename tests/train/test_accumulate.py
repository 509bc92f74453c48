"""Gradient accumulation (``optim.accumulate_steps``): k micro-batches give the update of one
batch, batch norm updates its statistics per micro-batch, and steps per call still count
updates."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from freqssm import data as data_lib
from freqssm.errors import ConfigError
from freqssm.train.loop import make_train_step, train_and_evaluate
from freqssm.train.run import build_run, init_state


def _as64(tree):
    return jax.tree.map(
        lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree
    )


def _one_step(cfg, k, tx=None):
    """State after one update of ``k`` micro-batches on the first training batch (float64)."""
    ds = data_lib.build(cfg.data)
    run = build_run(cfg, ds.meta)
    if tx is not None:
        run = dataclasses.replace(run, tx=tx)
    state = init_state(cfg, run)
    state = _as64(state.replace(opt_state=run.tx.init(state.params)))
    batch = _as64(ds.train.get(np.arange(cfg.data.batch_size)))
    step = jax.jit(make_train_step(run, cfg.seed, accumulate_steps=k))
    return step(state, batch)


def test_k_micro_batches_give_the_update_of_one_batch(x64, smoke):
    """Plain SGD with lr 1: the update is minus the gradient, compared leaf by leaf; the loss
    and gradient norm are the whole batch's."""
    cfg = smoke(**{"model.dropout": 0.0, "model.norm": "layer", "data.batch_size": 16})
    sgd = optax.sgd(1.0)
    ref, m1 = _one_step(cfg, 1, sgd)
    for k in (2, 4):
        got, mk = _one_step(cfg, k, sgd)
        for a, b in zip(jax.tree.leaves(got.params), jax.tree.leaves(ref.params), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
        for key in ("loss", "grad_norm"):
            np.testing.assert_allclose(mk[key], m1[key], rtol=1e-6)
        assert int(got.step) == 1
    # summing instead of averaging would move the parameters k times as far: not equal
    p0 = _as64(init_state(cfg, build_run(cfg, data_lib.build(cfg.data).meta)).params)
    moved = jax.tree.leaves(jax.tree.map(lambda a, b: jnp.max(jnp.abs(a - b)), ref.params, p0))
    assert max(float(x) for x in moved) > 1e-6


def test_batch_norm_statistics_update_per_micro_batch(x64, smoke):
    cfg = smoke(**{"model.dropout": 0.0, "model.norm": "batch", "data.batch_size": 16})
    ds = data_lib.build(cfg.data)
    before = init_state(cfg, build_run(cfg, ds.meta)).batch_stats
    one, _ = _one_step(cfg, 1)
    two, _ = _one_step(cfg, 2)
    leaves = lambda s: [np.asarray(x) for x in jax.tree.leaves(s)]  # noqa: E731
    trees = (leaves(before), leaves(one.batch_stats), leaves(two.batch_stats))
    assert trees[0]
    moved, per_half = [], []
    for b, s1, s2 in zip(*trees, strict=True):
        moved.append(float(np.max(np.abs(s2 - b))))  # the running statistics moved
        per_half.append(float(np.max(np.abs(s2 - s1))))  # twice, with each half's statistics
    assert min(moved) > 0 and max(moved) > 1e-3
    assert min(per_half) > 0 and max(per_half) > 1e-4


def test_steps_per_call_counts_updates(tmp_path, smoke):
    """k = 2 with 2 updates per call gives the run of 1 update per call; ``train.steps``
    updates are made and logged."""
    over = {
        "optim.accumulate_steps": 2,
        "train.steps": 4,
        "train.eval_every": 4,
        "train.log_every": 2,
        "train.checkpoint_every": 4,
    }
    one = train_and_evaluate(smoke(**over), tmp_path / "one")
    two = train_and_evaluate(smoke(**over, **{"train.steps_per_call": 2}), tmp_path / "two")
    assert one["step"] == two["step"] == 4
    for split in ("val", "test"):
        for key, value in one[split].items():
            assert two[split][key] == pytest.approx(value, rel=1e-5), (split, key)
    logged = [json.loads(x)["step"] for x in (tmp_path / "two" / "metrics.jsonl").open()]
    assert {2, 4} <= set(logged)


def test_accumulate_steps_must_divide_the_batch(smoke):
    with pytest.raises(ConfigError, match=r"optim\.accumulate_steps=3: must divide data\."):
        smoke(**{"optim.accumulate_steps": 3, "data.batch_size": 16})
    with pytest.raises(ConfigError, match=r"optim\.accumulate_steps=0"):
        smoke(**{"optim.accumulate_steps": 0})
