"""Optimizer with parameter groups chosen by parameter name.

============  =====================================================  ===========================
group         parameters                                             update
============  =====================================================  ===========================
``ssm``       SSM ``Lambda_re`` / ``Lambda_re_log``, ``Lambda_im``,  Adam, ``optim.ssm_lr``
              ``B``
``dt``        the step ``log_dt`` / ``dt_raw``                       Adam, ``optim.dt_lr``
                                                                     (None: ``optim.lr``)
``sobolev``   the learnable Sobolev exponent ``sobolev_beta``        Adam, ``optim.sobolev_lr``
``no_decay``  norm scales and every ``bias``, with                   Adam, ``optim.lr``
              ``optim.decay_scope = "weights"`` (else none)
``decay``     everything else (C, D, dense kernels, embeddings;      AdamW, ``optim.lr``, decay
              norms and biases too with ``decay_scope = "all"``)
``frozen``    the names in ``optim.frozen``                          none
============  =====================================================  ===========================

``decay_scope = "all"`` with ``dt_lr = None`` is the authors' (S4's) grouping: every parameter that
has no setting of its own (the SSM's Λ and B, Δ and the Sobolev exponent have one, each with no
weight decay) is decayed. Every group follows the same schedule shape, linear warmup then cosine
decay, built from optax schedules (nothing is written into the optimizer state by hand).
"""

from __future__ import annotations

from typing import Any

import optax
from flax import traverse_util

from freqssm.errors import ConfigError

SSM_NAMES = frozenset({"Lambda_re", "Lambda_re_log", "Lambda_im", "B"})
DT_NAMES = frozenset({"log_dt", "dt_raw"})
GROUPS = ("ssm", "dt", "sobolev", "no_decay", "decay", "frozen")


def label_of(
    path: tuple[str, ...], frozen: frozenset[str] = frozenset(), decay_scope: str = "weights"
) -> str:
    """Group label of the parameter at ``path`` (a tuple of dict keys).

    Parameters whose name is in ``frozen`` (``optim.frozen``) get the label ``"frozen"``: their
    updates are zero, so they keep their initial values.
    """
    name = path[-1]
    if name in frozen:
        return "frozen"
    if name in SSM_NAMES:
        return "ssm"
    if name in DT_NAMES:
        return "dt"
    if name == "sobolev_beta":
        return "sobolev"
    if decay_scope == "weights" and name in ("bias", "scale"):
        return "no_decay"
    return "decay"


def frozen_names(optim_cfg: Any) -> frozenset[str]:
    """``optim.frozen`` as a set of parameter names (missing key: none)."""
    return frozenset(str(n) for n in (optim_cfg.get("frozen", None) or ()))


def labels(params: Any, frozen: frozenset[str] = frozenset(), decay_scope: str = "weights") -> Any:
    """A pytree like ``params`` holding each leaf's group label."""
    flat = traverse_util.flatten_dict(params)
    return traverse_util.unflatten_dict({k: label_of(k, frozen, decay_scope) for k in flat})


def dt_lr(optim_cfg: Any) -> float:
    """The peak learning rate of Δ: ``optim.dt_lr``, or the global ``optim.lr`` when None."""
    value = optim_cfg.get("dt_lr", None)
    return float(optim_cfg.lr if value is None else value)


def schedule(peak: float, optim_cfg: Any, total_steps: int) -> optax.Schedule:
    """Linear warmup from 0 to ``peak`` over ``optim.warmup_steps``, then cosine to peak·end."""
    warmup = int(optim_cfg.warmup_steps)
    end = peak * float(optim_cfg.end_lr_factor)
    if total_steps <= warmup:
        return optax.linear_schedule(0.0, peak, max(warmup, 1))
    return optax.warmup_cosine_decay_schedule(0.0, peak, warmup, total_steps, end)


def build(optim_cfg: Any, params: Any, total_steps: int) -> optax.GradientTransformation:
    """The grouped optimizer for ``params`` (used only for its tree structure)."""
    o = optim_cfg
    txs = {
        "ssm": optax.adam(schedule(o.ssm_lr, o, total_steps)),
        "dt": optax.adam(schedule(dt_lr(o), o, total_steps)),
        "sobolev": optax.adam(schedule(o.sobolev_lr, o, total_steps)),
        "no_decay": optax.adam(schedule(o.lr, o, total_steps)),
        "decay": optax.adamw(schedule(o.lr, o, total_steps), weight_decay=o.weight_decay),
        "frozen": optax.set_to_zero(),
    }
    frozen = frozen_names(o)
    names = {path[-1] for path in traverse_util.flatten_dict(params)}
    if frozen - names:
        raise ConfigError(
            f"optim.frozen={tuple(sorted(frozen))}: no parameter is called "
            f"{', '.join(sorted(frozen - names))}; the model's parameters are {sorted(names)}"
        )
    tx = optax.multi_transform(txs, labels(params, frozen, decay_scope(o)))
    if o.grad_clip > 0:
        tx = optax.chain(optax.clip_by_global_norm(o.grad_clip), tx)
    return tx


def decay_scope(optim_cfg: Any) -> str:
    """``optim.decay_scope`` ("weights" when the key is missing, e.g. in an older run's config)."""
    return str(optim_cfg.get("decay_scope", "weights"))


def group_sizes(
    params: Any, frozen: frozenset[str] = frozenset(), decay_scope: str = "weights"
) -> dict[str, int]:
    """Number of scalars in each group (for logging and tests)."""
    sizes = dict.fromkeys(GROUPS, 0)
    for path, leaf in traverse_util.flatten_dict(params).items():
        sizes[label_of(path, frozen, decay_scope)] += int(leaf.size)
    return sizes


def learning_rates(optim_cfg: Any, total_steps: int, step: int) -> dict[str, float]:
    """Each group's learning rate at ``step`` (for logging)."""
    o = optim_cfg
    return {
        "lr": float(schedule(o.lr, o, total_steps)(step)),
        "lr_ssm": float(schedule(o.ssm_lr, o, total_steps)(step)),
        "lr_dt": float(schedule(dt_lr(o), o, total_steps)(step)),
        "lr_sobolev": float(schedule(o.sobolev_lr, o, total_steps)(step)),
    }
