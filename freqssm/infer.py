"""Recurrent (token-by-token) inference for trained causal models.

A unidirectional SSM layer is a recurrence, so a trained model can run one step at a time with
O(1) memory per step: ``state, y_t = step(state, x_t)``. This is how to use a model for streaming
or autoregressive inputs; the outputs equal the full-sequence call (tested in float64).

Limits: bidirectional layers look at the future and the Sobolev filter is a non-causal operation on
the whole output spectrum, so models with either are refused.

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

import flax.linen as nn
import jax
import jax.numpy as jnp

from freqssm.data.base import Meta
from freqssm.layers import ssm_system
from freqssm.models import final_norm_kind
from freqssm.ssm.discretize import discretize


def ssm_step(
    params: dict, ssm_cfg: Any, state: jax.Array, u_t: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """One step of an S5 or S4D layer: x_t = Λ̄ x_{t-1} + B̄ u_t, y_t = 2 Re(C x_t) + D u_t.

    Args:
      params: the layer's parameter dict (names as in :mod:`freqssm.layers`).
      ssm_cfg: ``config.model.ssm`` (kind, discretization, step_rescale, clip_eigs, conj_sym).
      state: (B, P_s) complex for S5, (B, H, N) complex for S4D.
      u_t: (B, H) real input at step t.
    Returns:
      (new state, y_t (B, H) real).
    """
    sys = ssm_system(params, ssm_cfg.step_rescale, ssm_cfg.clip_eigs)
    f = 2.0 if ssm_cfg.conj_sym else 1.0
    if ssm_cfg.kind == "s5":
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"], ssm_cfg.discretization)
        x = lam_bar * state + u_t.astype(lam_bar.dtype) @ (gamma[:, None] * sys["B"]).T
        y = f * (x @ sys["C"][0].T).real
    else:
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"][:, None], ssm_cfg.discretization)
        x = lam_bar * state + u_t[..., None] * (gamma * sys["B"])
        y = f * jnp.sum(sys["C"][0] * x, axis=-1).real
    return x, y.astype(u_t.dtype) + sys["D"] * u_t


def ssm_state(params: dict, ssm_cfg: Any, batch: int) -> jax.Array:
    """Zero state of one layer: (B, P_s) for S5, (B, H, N) for S4D, complex."""
    lam = ssm_system(params, ssm_cfg.step_rescale, ssm_cfg.clip_eigs)["Lambda"]
    return jnp.zeros((batch, *lam.shape), lam.dtype)


def check_causal(model_cfg: Any) -> None:
    """Raise ValueError if the model cannot run as a recurrence."""
    s = model_cfg.ssm
    if s.bidirectional:
        raise ValueError("recurrent inference needs model.ssm.bidirectional=False")
    if s.circular:
        raise ValueError("recurrent inference needs model.ssm.circular=False (a causal layer)")
    if s.sobolev.learnable or s.sobolev.beta != 0:
        raise ValueError(
            "recurrent inference needs the Sobolev filter off (beta = 0, not learnable)"
        )


class RecurrentModel:
    """Token-by-token evaluation of a trained causal :class:`freqssm.models.SequenceModel`."""

    def __init__(self, model_cfg: Any, meta: Meta, variables: dict) -> None:
        check_causal(model_cfg)
        if meta.output_kind == "retrieval":
            raise ValueError("recurrent inference does not support the two-tower retrieval head")
        self.cfg, self.meta = model_cfg, meta
        self.params = variables["params"]
        self.stats = variables.get("batch_stats", {})

    # --- per-token pieces, reusing Flax's own layers so the numerics match the full model ---
    def _dense(self, p: dict, x: jax.Array) -> jax.Array:
        return nn.Dense(p["kernel"].shape[-1]).apply({"params": p}, x)

    def _norm(
        self, p: dict, stats: dict | None, x: jax.Array, kind: str | None = None
    ) -> jax.Array:
        kind = kind or self.cfg.norm
        if kind == "none":
            return x
        if kind == "batch":  # eval mode: a fixed per-feature affine map
            bn = nn.BatchNorm(use_running_average=True, momentum=0.9)
            return bn.apply({"params": p, "batch_stats": stats}, x)
        return nn.LayerNorm().apply({"params": p}, x)

    def init(self, batch: int) -> dict:
        """The carry before the first token: SSM states and pooling accumulators."""
        if self.cfg.kind == "linear":
            return {
                "ssm": ssm_state(self.params["ssm"], self.cfg.ssm, batch),
                "t": jnp.zeros((), jnp.int32),
            }
        bb = self.params["backbone"]
        states = [
            ssm_state(bb[f"block{i}"]["ssm"], self.cfg.ssm, batch) for i in range(self.cfg.n_layers)
        ]
        pooled = jnp.zeros((batch, self.cfg.d_model))
        return {"ssm": states, "sum": pooled, "t": jnp.zeros((), jnp.int32)}

    def step(self, carry: dict, x_t: jax.Array) -> tuple[dict, jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (carry, output given x_0..x_t)."""
        c = self.cfg
        if c.kind == "linear":
            s, y = ssm_step(self.params["ssm"], c.ssm, carry["ssm"], x_t)
            if c.output_map == "affine":
                y = self._dense(self.params["mix"], y)
            return {"ssm": s, "t": carry["t"]}, y
        bb, bs = self.params["backbone"], self.stats.get("backbone", {})

        def gelu(z: jax.Array) -> jax.Array:
            return nn.gelu(z, approximate=c.gelu == "tanh")

        if self.meta.input_kind == "tokens":
            x = bb["embed"]["embedding"][x_t]
        else:
            x = self._dense(bb["encoder"], x_t)
        states = []
        for i in range(c.n_layers):
            p, st = bb[f"block{i}"], bs.get(f"block{i}", {})
            skip = x
            if c.prenorm:
                x = self._norm(p["norm"], st.get("norm"), x)
            s, x = ssm_step(p["ssm"], c.ssm, carry["ssm"][i], x)
            states.append(s)
            if c.activation == "gelu":
                x = gelu(x)
            elif c.activation == "full_glu":
                x = gelu(x)
                x = self._dense(p["out1"], x) * jax.nn.sigmoid(self._dense(p["out2"], x))
            elif c.activation == "half_glu1":
                x = gelu(x)
                x = x * jax.nn.sigmoid(self._dense(p["out2"], x))
            else:
                x = x * jax.nn.sigmoid(self._dense(p["out2"], gelu(x)))
            if c.residual:
                x = skip + x
            if not c.prenorm:
                x = self._norm(p["norm"], st.get("norm"), x)
        if c.prenorm:
            x = self._norm(bb["final_norm"], bs.get("final_norm"), x, final_norm_kind(c))
        t = carry["t"] + 1
        total = carry["sum"] + x
        head = self.params["head"]
        if self.meta.output_kind == "sequence_regression":
            out = self._dense(head, x)
        elif c.pooling == "mean":
            out = self._dense(head, total / t)
        else:
            out = self._dense(head, x)
        return {"ssm": states, "sum": total, "t": t}, out

    def run(self, inputs: jax.Array) -> jax.Array:
        """All per-step outputs for inputs (B, L) or (B, L, C), via ``lax.scan``: (B, L, ...)."""
        carry = self.init(inputs.shape[0])

        def body(carry, x_t):
            return self.step(carry, x_t)

        _, outs = jax.lax.scan(body, carry, jnp.moveaxis(inputs, 1, 0))
        return jnp.moveaxis(outs, 0, 1)
