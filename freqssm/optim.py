"""Optimizer with parameter groups chosen by parameter name.

============  ===================================================  ==============================
group         parameters                                           update
============  ===================================================  ==============================
``ssm``       SSM ``Lambda_re``, ``Lambda_im``, ``B``, ``log_dt``  Adam, ``optim.ssm_lr``
``sobolev``   the learnable Sobolev exponent ``sobolev_beta``      Adam, ``optim.sobolev_lr``
``no_decay``  norm scales and every ``bias``                       Adam, ``optim.lr``
``decay``     everything else (C, D, dense kernels, embeddings)    AdamW, ``optim.lr``, decay
============  ===================================================  ==============================

Every group follows the same schedule shape, linear warmup then cosine decay, built from optax
schedules (nothing is written into the optimizer state by hand).
"""

from __future__ import annotations

from typing import Any

import optax
from flax import traverse_util

from freqssm.config import ConfigError

SSM_NAMES = frozenset({"Lambda_re", "Lambda_im", "B", "log_dt"})
GROUPS = ("ssm", "sobolev", "no_decay", "decay", "frozen")


def label_of(path: tuple[str, ...], frozen: frozenset[str] = frozenset()) -> str:
    """Group label of the parameter at ``path`` (a tuple of dict keys).

    Parameters whose name is in ``frozen`` (``optim.frozen``) get the label ``"frozen"``: their
    updates are zero, so they keep their initial values.
    """
    name = path[-1]
    if name in frozen:
        return "frozen"
    if name in SSM_NAMES:
        return "ssm"
    if name == "sobolev_beta":
        return "sobolev"
    if name in ("bias", "scale"):
        return "no_decay"
    return "decay"


def frozen_names(optim_cfg: Any) -> frozenset[str]:
    """``optim.frozen`` as a set of parameter names (missing key: none)."""
    return frozenset(str(n) for n in (optim_cfg.get("frozen", None) or ()))


def labels(params: Any, frozen: frozenset[str] = frozenset()) -> Any:
    """A pytree like ``params`` holding each leaf's group label."""
    flat = traverse_util.flatten_dict(params)
    return traverse_util.unflatten_dict({k: label_of(k, frozen) for k in flat})


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
    tx = optax.multi_transform(txs, labels(params, frozen))
    if o.grad_clip > 0:
        tx = optax.chain(optax.clip_by_global_norm(o.grad_clip), tx)
    return tx


def group_sizes(params: Any, frozen: frozenset[str] = frozenset()) -> dict[str, int]:
    """Number of scalars in each group (for logging and tests)."""
    sizes = dict.fromkeys(GROUPS, 0)
    for path, leaf in traverse_util.flatten_dict(params).items():
        sizes[label_of(path, frozen)] += int(leaf.size)
    return sizes


def learning_rates(optim_cfg: Any, total_steps: int, step: int) -> dict[str, float]:
    """Each group's learning rate at ``step`` (for logging)."""
    o = optim_cfg
    return {
        "lr": float(schedule(o.lr, o, total_steps)(step)),
        "lr_ssm": float(schedule(o.ssm_lr, o, total_steps)(step)),
        "lr_sobolev": float(schedule(o.sobolev_lr, o, total_steps)(step)),
    }
