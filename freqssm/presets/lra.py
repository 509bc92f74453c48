"""What the six LRA configs share: the authors' model, and the variants every task has.

A task file (``configs/lra_<task>.py``) holds only what differs from :func:`base` (the paper's
per-task table) as a nested dict, plus variants of its own, and calls :func:`get_config`.
Variants combine with commas, applied left to right (:func:`freqssm.config.apply_variants`):
``configs/lra_listops.py:reduced,untuned``.

Training length: every config stops at its schedule's horizon (``train.steps``, where the cosine
reaches zero). The authors' trainer counts epochs instead, which implies other step counts
(ListOps 480k, Text 156k, Retrieval 92k, Image 1.08M, Pathfinder 960k, Path-X 1.2M); past the
horizon their cosine rises again, so training exactly to the horizon is our reading.

Shared variants:

* ``smoke``: a tiny model on a few hundred examples (seconds on a CPU); the task's ``smoke_len``
  sets the sequence length of the token tasks;
* ``untuned``: alpha = 1 and a fixed beta = 0, nothing else changed;
* ``ours``: freqssm's own defaults in place of the authors' settings (:func:`ours`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ml_collections

from freqssm import data
from freqssm.train.config import Variant, apply_variants, base_config, update


def base() -> ml_collections.ConfigDict:
    """The authors' LRA model (results/fidelity.md).

    S4D layers with S4D-Lin eigenvalues scaled by alpha, 6 bidirectional layers with a strictly
    anticausal backward half, GELU (exact) then a GLU output map (H -> 2H -> H, PyTorch's init),
    three tied dropouts per block, 64 complex modes (state size 128) with Re Λ = -exp(a), Δ =
    softplus(p) in [1e-3, 1e-1] and B = 1 fixed, one eigenvalue set per layer (``n_ssm = 1``), a
    learnable per-feature Sobolev exponent initialized at 0 with learning rate 0.01 and c = the
    FFT length, a final norm of the blocks' type, embeddings N(0, 1), weight decay on everything
    without a setting of its own, Δ at the global learning rate; cosine schedule with warmup.
    """
    c = base_config()
    m = c.model
    m.n_layers = 6
    m.norm = "batch"
    m.prenorm = True
    m.activation = "full_glu"  # GELU, then a GLU output projection (H -> 2H -> H)
    m.dropout = 0.0
    m.pooling = "mean"
    m.final_norm = "block"
    m.dropout_sites = ("pre_act", "post_act", "post_glu")
    m.gelu = "erf"
    m.embed_init = "normal"
    m.glu_init = "torch"
    s = m.ssm
    s.kind = "s4d"
    s.state_size = 128
    s.init = "s4d_lin"
    s.dt_min = 1e-3
    s.dt_max = 1e-1
    s.bidirectional = True
    s.backward_strict = True
    s.real_transform = "exp"
    s.dt_transform = "softplus"
    s.train_b = False
    s.n_ssm = 1
    s.sobolev.beta = 0.0
    s.sobolev.learnable = True
    s.sobolev.c = None
    c.optim.sobolev_lr = 0.01
    c.optim.dt_lr = None
    c.optim.decay_scope = "all"
    c.optim.end_lr_factor = 0.0
    c.train.keep = 2
    c.train.log_every = 100
    c.log.wandb.project = "freqssm-lra"
    return c


def smoke(c: ml_collections.ConfigDict, seq_len: int) -> None:
    """A tiny model on a few hundred examples (CPU, seconds)."""
    c.data.max_examples = 200
    c.data.seq_len = seq_len
    c.data.batch_size = 8
    c.model.n_layers = 1
    c.model.d_model = 16
    c.model.ssm.state_size = 8
    c.optim.warmup_steps = 2
    c.train.steps = 10
    c.train.eval_every = 10
    c.train.eval_limit = 32
    c.train.log_every = 5
    c.train.checkpoint_every = 10
    c.train.analysis = False
    c.log.wandb.mode = "disabled"


def reduced(steps: int, warmup: int, eval_every: int) -> dict[str, Any]:
    """A CPU-scale variant (results/lra.md): 4 layers of width 64, 20k training examples, batch
    32, ``steps`` steps with ``warmup`` warmup, evaluation every ``eval_every`` steps on 1,000."""
    return {
        "data": {"max_examples": 20000, "batch_size": 32},
        "model": {"n_layers": 4, "d_model": 64},
        "optim": {"warmup_steps": warmup},
        "train": {
            "steps": steps,
            "eval_every": eval_every,
            "checkpoint_every": eval_every,
            "log_every": 20,
            "eval_limit": 1000,
        },
    }


# The settings in which the authors' model differs from freqssm's defaults
# (results/fidelity.md); ``ours`` sets them back to ``base_config()``'s values.
FIDELITY_KEYS = (
    "model.pooling",
    "model.final_norm",
    "model.dropout_sites",
    "model.gelu",
    "model.embed_init",
    "model.glu_init",
    "model.mask_padding",
    "model.ssm.train_b",
    "model.ssm.n_ssm",
    "model.ssm.real_transform",
    "model.ssm.dt_transform",
    "model.ssm.backward_strict",
    "optim.decay_scope",
)


def ours(c: ml_collections.ConfigDict) -> None:
    """freqssm's own defaults instead of the authors' settings (the LRA configs before
    2026-12-02): every :data:`FIDELITY_KEYS` value from ``base_config()``, and Δ at the SSM
    learning rate, as it was then. Width, depth, alpha, the Sobolev exponent, learning rates,
    schedule and data stay the task's."""
    default = base_config()
    for key in FIDELITY_KEYS:
        *path, last = key.split(".")
        node, ref = c, default
        for part in path:
            node, ref = node[part], ref[part]
        node[last] = ref[last]
    c.optim.dt_lr = c.optim.ssm_lr


def deep_merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Nested dict ``a`` with ``b``'s values set on it (``b`` wins; neither is changed)."""
    out = dict(a)
    for k, v in b.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, Mapping) and k in out else v
    return out


def untuned(c: ml_collections.ConfigDict) -> None:
    """The untuned frequency bias: alpha = 1 and a fixed beta = 0."""
    c.model.ssm.alpha = 1.0
    c.model.ssm.sobolev.beta = 0.0
    c.model.ssm.sobolev.learnable = False


def get_config(
    task: Mapping[str, Any],
    variant: str | None,
    smoke_len: int,
    variants: Mapping[str, Variant] | None = None,
    name: str = "",
) -> ml_collections.ConfigDict:
    """:func:`base`, then the task's differences, then each comma-separated variant in order.

    ``variants``: the task's own, each a function of the config or a nested dict of values
    (a value that is a string of other variants' names, e.g. ``"reduced,untuned"``, is an alias).
    """
    c = base()
    c.data.update(data.defaults(task["data"]["name"]))  # the loader's keys and defaults
    update(c, task)
    shared: dict[str, Variant] = {
        "smoke": lambda cfg: smoke(cfg, smoke_len),
        "untuned": untuned,
        "ours": ours,
    }
    return apply_variants(c, variant, {**shared, **(variants or {})}, f"configs/{name}.py")
