"""Optimizer with parameter groups: each parameter name's group is declared beside the layers
(:data:`freqssm.model.params.PARAM_GROUPS`); a name without one is an error, not "decay".

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

import dataclasses
from typing import Any, ClassVar

import optax
from flax import traverse_util

from freqssm.errors import ConfigError
from freqssm.model.params import PARAM_GROUPS
from freqssm.settings import Settings, one_of, require

GROUPS = ("ssm", "dt", "sobolev", "no_decay", "decay", "frozen")
DECAY_SCOPES = ("weights", "all")


@dataclasses.dataclass(frozen=True)
class OptimConfig(Settings):
    """The grouped optimizer and its schedule (the table above)."""

    PREFIX: ClassVar[str] = "optim"

    lr: float = 1e-3
    """peak learning rate of AdamW for every weight without a rate of its own (C, D, dense maps,
    embedding, norms)"""
    ssm_lr: float = 1e-3
    """Adam for Λ and B, no weight decay"""
    sobolev_lr: float = 1e-2
    """Adam for the learnable Sobolev exponent, no weight decay"""
    dt_lr: float | None = None
    """Adam for Δ, no weight decay; None = the global `optim.lr`"""
    weight_decay: float = 0.01
    """AdamW weight decay of the `decay` group (see `optim.decay_scope`)"""
    decay_scope: str = "weights"
    """`weights`: no decay on norms and biases; `all`: those decayed too (the authors':
    everything without a setting of its own)"""
    warmup_steps: int = 0
    """linear warmup from 0 over these steps (at most `train.steps`), then cosine decay"""
    end_lr_factor: float = 0.0
    """the cosine decays every group's rate to lr·end_lr_factor at `train.steps`"""
    grad_clip: float = 0.0
    """global-norm clipping (0 = off)"""
    accumulate_steps: int = 1
    """k: each optimizer update averages the gradients of k micro-batches of
    `data.batch_size`/k rows (the effective batch stays `data.batch_size`; `train.steps` and the
    schedule count updates); for batches too large for a device's memory, e.g. Path-X"""
    frozen: tuple[str, ...] = ()
    """parameter names kept at their initial values, e.g. `"('Lambda_re','log_dt')"` on the
    command line"""

    def __post_init__(self) -> None:
        k = self.key
        for name in ("lr", "ssm_lr", "sobolev_lr"):
            require(getattr(self, name) >= 0, k(name), getattr(self, name), "must be >= 0")
        if self.dt_lr is not None:
            require(self.dt_lr >= 0, k("dt_lr"), self.dt_lr, "must be >= 0 or None (the global lr)")
        one_of(k("decay_scope"), self.decay_scope, DECAY_SCOPES)
        require(self.weight_decay >= 0, k("weight_decay"), self.weight_decay, "must be >= 0")
        require(self.grad_clip >= 0, k("grad_clip"), self.grad_clip, "must be >= 0 (0 disables)")
        require(self.warmup_steps >= 0, k("warmup_steps"), self.warmup_steps, "must be >= 0")
        require(self.accumulate_steps >= 1, k("accumulate_steps"), self.accumulate_steps, ">= 1")
        require(
            isinstance(self.frozen, tuple) and all(isinstance(n, str) for n in self.frozen),
            k("frozen"),
            self.frozen,
            "must be a tuple of parameter names",
        )

    @property
    def peak_dt_lr(self) -> float:
        """The peak learning rate of Δ: ``dt_lr``, or the global ``lr`` when None."""
        return float(self.lr if self.dt_lr is None else self.dt_lr)


def label_of(
    path: tuple[str, ...], frozen: frozenset[str] = frozenset(), decay_scope: str = "weights"
) -> str:
    """Group label of the parameter at ``path`` (a tuple of dict keys), from the declared
    group of its name (:data:`freqssm.model.params.PARAM_GROUPS`).

    Parameters whose name is in ``frozen`` (``optim.frozen``) get the label ``"frozen"``: their
    updates are zero, so they keep their initial values. A name with no declared group raises
    KeyError: a new parameter must be given its group where the others are declared.
    """
    name = path[-1]
    if name in frozen:
        return "frozen"
    if name not in PARAM_GROUPS:
        raise KeyError(
            f"parameter {'/'.join(path)}: its name {name!r} has no optimizer group; declare one "
            "in freqssm/model/params.py (PARAM_GROUPS)"
        )
    group = PARAM_GROUPS[name]
    if group == "no_decay" and decay_scope == "all":
        return "decay"
    return group


def labels(params: Any, frozen: frozenset[str] = frozenset(), decay_scope: str = "weights") -> Any:
    """A pytree like ``params`` holding each leaf's group label."""
    flat = traverse_util.flatten_dict(params)
    return traverse_util.unflatten_dict({k: label_of(k, frozen, decay_scope) for k in flat})


def schedule(peak: float, o: OptimConfig, total_steps: int) -> optax.Schedule:
    """Linear warmup from 0 to ``peak`` over ``optim.warmup_steps``, then cosine to peak·end."""
    warmup = int(o.warmup_steps)
    end = peak * float(o.end_lr_factor)
    if total_steps <= warmup:
        return optax.linear_schedule(0.0, peak, max(warmup, 1))
    return optax.warmup_cosine_decay_schedule(0.0, peak, warmup, total_steps, end)


def build(o: OptimConfig, params: Any, total_steps: int) -> optax.GradientTransformation:
    """The grouped optimizer for ``params`` (used only for its tree structure)."""
    txs = {
        "ssm": optax.adam(schedule(o.ssm_lr, o, total_steps)),
        "dt": optax.adam(schedule(o.peak_dt_lr, o, total_steps)),
        "sobolev": optax.adam(schedule(o.sobolev_lr, o, total_steps)),
        "no_decay": optax.adam(schedule(o.lr, o, total_steps)),
        "decay": optax.adamw(schedule(o.lr, o, total_steps), weight_decay=o.weight_decay),
        "frozen": optax.set_to_zero(),
    }
    frozen = frozenset(o.frozen)
    names = {path[-1] for path in traverse_util.flatten_dict(params)}
    if frozen - names:
        raise ConfigError(
            f"optim.frozen={tuple(sorted(frozen))}: no parameter is called "
            f"{', '.join(sorted(frozen - names))}; the model's parameters are {sorted(names)}"
        )
    tx = optax.multi_transform(txs, labels(params, frozen, o.decay_scope))
    if o.grad_clip > 0:
        tx = optax.chain(optax.clip_by_global_norm(o.grad_clip), tx)
    return tx


def group_sizes(
    params: Any, frozen: frozenset[str] = frozenset(), decay_scope: str = "weights"
) -> dict[str, int]:
    """Number of scalars in each group (for logging and tests)."""
    sizes = dict.fromkeys(GROUPS, 0)
    for path, leaf in traverse_util.flatten_dict(params).items():
        sizes[label_of(path, frozen, decay_scope)] += int(leaf.size)
    return sizes


def learning_rates(o: OptimConfig, total_steps: int, step: int) -> dict[str, float]:
    """Each group's learning rate at ``step`` (for logging)."""
    return {
        "lr": float(schedule(o.lr, o, total_steps)(step)),
        "lr_ssm": float(schedule(o.ssm_lr, o, total_steps)(step)),
        "lr_dt": float(schedule(o.peak_dt_lr, o, total_steps)(step)),
        "lr_sobolev": float(schedule(o.sobolev_lr, o, total_steps)(step)),
    }
