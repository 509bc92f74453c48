"""Recurrent (token-by-token) inference for trained causal models.

A unidirectional SSM layer is a recurrence, so a trained model can run one step at a time with
O(1) memory per step: ``carry, y_t = step(carry, x_t)``. This is how to use a model for streaming
or autoregressive inputs; the outputs equal the full-sequence call (tested in float64). The steps
are the model's own (:meth:`freqssm.model.models.SequenceModel.step`, built from each block's and
layer's ``step``); this module only scans them.

Limits: bidirectional layers look at the future and the Sobolev filter is a non-causal operation on
the whole output spectrum, so models with either are refused (as is the two-tower retrieval head).

    rec = RecurrentModel(config.model, meta, variables)
    carry = rec.init(batch_size)
    for x_t in stream:                       # x_t: (B,) tokens or (B, C) reals
        carry, out_t = rec.step(carry, x_t)  # out_t: the model's output given inputs up to t
    outputs = rec.run(inputs)                # or all at once with lax.scan: (B, L, ...)

``out_t`` is the per-step output for sequence regression, and for pooled heads the head applied to
the running (mean or last) pooled features, i.e. what the full model would output on x_0..x_t.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from freqssm.data.base import Meta
from freqssm.model import models


class RecurrentModel:
    """Token-by-token evaluation of a trained causal :class:`freqssm.model.models.SequenceModel`."""

    def __init__(self, model_cfg: Any, meta: Meta, variables: dict) -> None:
        self.model = models.build(model_cfg, meta)
        self.variables = variables
        jax.eval_shape(lambda: self.init(1))  # refuse a non-causal model now, not at a step

    def init(self, batch: int) -> dict:
        """The carry before the first token: SSM states and pooling accumulators."""
        return self.model.apply(self.variables, batch, method="initial_state")

    def step(self, carry: dict, x_t: jax.Array) -> tuple[dict, jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (carry, output given x_0..x_t)."""
        return self.model.apply(self.variables, carry, x_t, method="step")

    def run(self, inputs: jax.Array) -> jax.Array:
        """All per-step outputs for inputs (B, L) or (B, L, C), via ``lax.scan``: (B, L, ...)."""
        _, outs = jax.lax.scan(self.step, self.init(inputs.shape[0]), jnp.moveaxis(inputs, 1, 0))
        return jnp.moveaxis(outs, 0, 1)
