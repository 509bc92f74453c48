"""What a run is made of: the model, its parameter shapes, the optimizer and the training state.

:func:`build_run` is the one place that turns a config (and the task's :class:`Meta`) into these;
training, loading a finished run, the size tables and the tests all use it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from freqssm import data as data_lib
from freqssm.data.base import Meta
from freqssm.model import models
from freqssm.train import optim
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.config import RunConfig, from_config_dict


@struct.dataclass
class TrainState:
    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    nonfinite: jax.Array  # number of skipped non-finite updates (train.skip_nonfinite)


@dataclasses.dataclass(frozen=True)
class Run:
    """A model built for a task: ``model.apply(variables, inputs, lengths, train=...)``.

    ``shapes`` is the parameter tree as ``jax.ShapeDtypeStruct`` leaves (no arrays allocated);
    ``has_batch_stats`` tells whether the model carries batch-norm statistics (any batch norm,
    in a block or as the final norm).
    """

    meta: Meta
    model: Any
    shapes: Any
    has_batch_stats: bool
    tx: optax.GradientTransformation


def build_run(cfg: RunConfig, meta: Meta) -> Run:
    """The model for ``meta``'s task from ``cfg.model``, its shapes and the grouped optimizer."""
    model = models.build(cfg.model, meta)
    variables = jax.eval_shape(
        lambda k: model.init({"params": k}, *models.example_inputs(meta, 2), train=False),
        jax.random.key(0),
    )
    shapes = variables["params"]
    # The optimizer's structure depends only on parameter names, so it is built from shapes.
    tx = optim.build(cfg.optim, shapes, int(cfg.train.steps))
    has_bn = bool(jax.tree.leaves(variables.get("batch_stats", {})))
    return Run(meta, model, shapes, has_bn, tx)


def init_state(cfg: RunConfig, run: Run) -> TrainState:
    """The training state at step 0: parameters from ``cfg.seed``, fresh optimizer state."""
    inputs, lengths = models.example_inputs(run.meta, batch_size=2)

    @jax.jit
    def init(key):
        variables = run.model.init({"params": key}, inputs, lengths, train=False)
        params = variables["params"]
        return TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            batch_stats=variables.get("batch_stats", {}),
            opt_state=run.tx.init(params),
            nonfinite=jnp.zeros((), jnp.int32),
        )

    return init(jax.random.key(cfg.seed))


def variables_of(state: TrainState, run: Run) -> dict:
    """The ``model.apply`` variables of a state (with batch statistics when the model has them)."""
    variables = {"params": state.params}
    if run.has_batch_stats:
        variables["batch_stats"] = state.batch_stats
    return variables


def load_run(
    workdir: str | Path, best: bool = False
) -> tuple[RunConfig, Meta, models.SequenceModel, dict]:
    """A finished or interrupted run from its workdir: (config, meta, model, variables).

    The saved ``config.json`` is read back through :func:`~freqssm.train.config.from_config_dict`
    (keys added since the run was written take their defaults).

    ``best=True`` loads the checkpoint with the best validation metric instead of the newest.
    Building the task's data set gives its Meta, so the data must be where the run found it.
    """
    workdir = Path(workdir)
    saved = json.loads((workdir / "config.json").read_text())
    cfg = from_config_dict(saved)
    run = build_run(cfg, data_lib.build(cfg.data).meta)
    state = init_state(cfg, run)
    ckpt = Checkpointer(workdir / "checkpoints", keep=cfg.train.keep)
    try:
        if best:
            restored = ckpt.restore_best(state)
        else:
            got = ckpt.restore_latest(state)
            if got is None:
                raise FileNotFoundError(f"no checkpoint in {workdir / 'checkpoints'}")
            restored = got[0]
    finally:
        ckpt.close()
    return cfg, run.meta, run.model, variables_of(restored, run)
