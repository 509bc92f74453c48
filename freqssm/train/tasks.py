"""Losses, metrics and model selection per kind of output, driven by the task's :class:`Meta`.

The training loop knows no task: it asks this module for the per-example loss and metrics of a
batch, how to turn summed metrics into named numbers, and which metric picks the best checkpoint.

==========================  =================================  ===============================
``meta.output_kind``        per-example loss and metrics       model selection
==========================  =================================  ===============================
classification, retrieval   cross-entropy; accuracy            highest accuracy
regression (B, K)           mean squared error; per target     lowest loss
                            ``mse_<name>`` and ``mae_<name>``
sequence_regression         mean squared error over (L, C)     lowest loss
==========================  =================================  ===============================

Target names come from ``meta.extra["names"]`` (e.g. the waves' low / moderate / high).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from freqssm.data.base import Meta

PER_TARGET = "_per_target"  # a metric of shape (K,): one value per regression target


def per_example(meta: Meta, out: jax.Array, targets: jax.Array) -> dict[str, jax.Array]:
    """Per-example loss and metrics, each of shape (B,) (or (B, K) for per-target errors)."""
    if meta.output_kind in ("classification", "retrieval"):
        loss = optax.softmax_cross_entropy_with_integer_labels(out, targets)
        return {"loss": loss, "accuracy": (jnp.argmax(out, -1) == targets).astype(jnp.float32)}
    err = (out - targets) ** 2
    if meta.output_kind == "regression":  # (B, K): keep the per-target errors
        return {
            "loss": jnp.mean(err, -1),
            "mse" + PER_TARGET: err,
            "mae" + PER_TARGET: jnp.abs(out - targets),
        }
    return {"loss": jnp.mean(err, axis=tuple(range(1, err.ndim)))}


def named(metrics: Mapping[str, np.ndarray], meta: Meta, prefix: str = "") -> dict[str, float]:
    """Mean metrics as floats; a per-target ``mse_per_target`` (K,) becomes ``mse_<name>``."""
    names = meta.extra.get("names")
    out = {}
    for key, value in metrics.items():
        if key.endswith(PER_TARGET):
            labels = names or [str(i) for i in range(len(value))]
            stem = key.removesuffix(PER_TARGET)
            out.update(
                {f"{prefix}{stem}_{n}": float(x) for n, x in zip(labels, value, strict=True)}
            )
        else:
            out[f"{prefix}{key}"] = float(value)
    return out


def higher_is_better(meta: Meta) -> bool:
    """Whether the selection metric is maximized (accuracy) or minimized (loss)."""
    return meta.output_kind in ("classification", "retrieval")


def selection_key(meta: Meta) -> str:
    """The validation metric that picks the best checkpoint."""
    return "accuracy" if higher_is_better(meta) else "loss"


def better(meta: Meta, a: float, b: float) -> bool:
    """Whether validation value ``a`` beats ``b`` for this task."""
    return a > b if higher_is_better(meta) else a < b
