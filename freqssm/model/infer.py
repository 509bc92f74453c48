"""Recurrent (token-by-token) inference for trained causal models.

A unidirectional SSM layer is a recurrence, so a trained model can run one step at a time with
O(1) memory per step: ``carry, y_t = step(carry, x_t)``. This is how to use a model for streaming
or autoregressive inputs; the outputs equal the full-sequence call (tested in float64). The steps
are the model's own (:meth:`freqssm.model.models.SequenceModel.step`, built from each block's and
layer's ``step`` on the same submodules as the full call); each layer's discrete system is
computed once, when the RecurrentModel is made, and ``step`` is jitted.

Limits: bidirectional layers look at the future and the Sobolev filter is a non-causal operation on
the whole output spectrum, so models with either are refused (as is the two-tower retrieval head).

    rec = RecurrentModel(model_config, meta, variables)  # a ModelConfig
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
from freqssm.model.config import ModelConfig


class RecurrentModel:
    """Token-by-token evaluation of a trained causal :class:`freqssm.model.models.SequenceModel`."""

    def __init__(self, model_config: ModelConfig, meta: Meta, variables: dict) -> None:
        self.model = models.build(model_config, meta)
        self.variables = variables
        # refuses a non-causal model here, not at a step
        self.system = jax.jit(self._system)(variables)
        self._step = jax.jit(self._apply_step)
        self._run = jax.jit(self._scan)

    def _system(self, variables: dict) -> Any:
        return self.model.apply(variables, method="step_system")

    def _apply_step(self, variables: dict, system: Any, carry: dict, x_t: jax.Array):
        return self.model.apply(variables, system, carry, x_t, method="step")

    def init(self, batch: int) -> dict:
        """The carry before the first token: SSM states and pooling accumulators."""
        return self.model.apply(self.variables, batch, method="initial_state")

    def step(self, carry: dict, x_t: jax.Array) -> tuple[dict, jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (carry, output given x_0..x_t)."""
        return self._step(self.variables, self.system, carry, x_t)

    def _scan(self, variables: dict, system: Any, inputs: jax.Array) -> jax.Array:
        carry = self.model.apply(variables, inputs.shape[0], method="initial_state")

        def body(carry: dict, x_t: jax.Array) -> tuple[dict, jax.Array]:
            return self._apply_step(variables, system, carry, x_t)

        _, outs = jax.lax.scan(body, carry, jnp.moveaxis(inputs, 1, 0))
        return jnp.moveaxis(outs, 0, 1)

    def run(self, inputs: jax.Array) -> jax.Array:
        """All per-step outputs for inputs (B, L) or (B, L, C), via ``lax.scan``: (B, L, ...)."""
        return self._run(self.variables, self.system, inputs)
