"""Models: encoder -> N x SequenceBlock -> head, built from ``config.model`` and the task's Meta.

* encoder: an embedding for token inputs, a dense layer for real-valued inputs;
* heads, chosen by ``meta.output_kind``: classification (masked mean pooling over the true length,
  then a dense layer), LRA retrieval (two towers share the encoder; [u, v, u-v, u*v] -> MLP),
  regression (pooled -> K outputs) and sequence regression (a dense layer per step);
* ``model.kind = "linear"``: the paper's denoising model, one bare linear SSM layer from the input
  channels to themselves (no encoder, norm, nonlinearity or head), optionally followed by an
  affine map mixing the channels (``model.output_map = "affine"``, parameters ``mix``).

All models are called as ``model.apply(variables, inputs, lengths=None, train=False)``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from freqssm.data.base import Meta
from freqssm.model.blocks import (
    SequenceBlock,
    apply_dense,
    apply_norm,
    dense_kwargs,
    make_norm,
    padding_mask,
    torch_linear_init,
)
from freqssm.model.layers import S4D, S5


def layer_kwargs(cls: type, ssm_cfg: Any) -> dict[str, Any]:
    """The fields of ``cls`` (S5 or S4D) from a ``model.ssm`` config: same names, plus the
    renamed ``init`` and ``sobolev.*``; "auto" mode keeps the layer's default."""
    renamed = {
        "lambda_init": ssm_cfg.init,
        "beta": ssm_cfg.sobolev.beta,
        "beta_learnable": ssm_cfg.sobolev.learnable,
        "sobolev_c": ssm_cfg.sobolev.c,
    }
    out = {}
    for f in dataclasses.fields(cls):
        if f.name in renamed:
            out[f.name] = renamed[f.name]
        elif f.name in ssm_cfg and f.name not in ("parent", "name"):
            out[f.name] = ssm_cfg[f.name]
    if out.get("mode") == "auto":
        del out["mode"]
    return out


def ssm_factory(s: Any) -> Callable[..., nn.Module]:
    """A partial of S5 or S4D carrying every ``model.ssm`` setting (called with ``name=``)."""
    cls = S5 if s.kind == "s5" else S4D
    return functools.partial(cls, **layer_kwargs(cls, s))


def masked_mean(x: jax.Array, lengths: jax.Array | None) -> jax.Array:
    """Mean over time of x (B, L, H), counting only the first ``lengths`` (B,) steps."""
    if lengths is None:
        return jnp.mean(x, axis=1)
    mask = padding_mask(lengths, x.shape[1], x.dtype)
    return jnp.sum(x * mask[..., None], axis=1) / jnp.maximum(jnp.sum(mask, 1, keepdims=True), 1)


def last_step(x: jax.Array, lengths: jax.Array | None) -> jax.Array:
    """x (B, L, H) at the last true step of each sequence -> (B, H)."""
    if lengths is None:
        return x[:, -1]
    idx = jnp.clip(lengths - 1, 0, x.shape[1] - 1)
    return jnp.take_along_axis(x, idx[:, None, None], axis=1)[:, 0]


def _block_kwargs(c: Any) -> dict[str, Any]:
    return dict(
        ssm=ssm_factory(c.ssm),
        norm=c.norm,
        prenorm=c.prenorm,
        activation=c.activation,
        dropout=c.dropout,
        dropout_sites=tuple(c.dropout_sites),
        gelu=c.gelu,
        glu_init=c.glu_init,
        residual=c.residual,
        dense_dtype=c.get("dense_dtype", "float32"),
        mask_padding=c.get("mask_padding", False),
    )


def dense(features: int, model_cfg: Any, name: str) -> nn.Dense:
    """The encoder's or head's dense map, multiplying in ``model.dense_dtype``."""
    return nn.Dense(features, name=name, **dense_kwargs(model_cfg.get("dense_dtype", "float32")))


class Backbone(nn.Module):
    """Encoder and the stack of SequenceBlocks: inputs -> (B, L, d_model)."""

    cfg: Any
    meta: Meta

    @nn.compact
    def __call__(
        self, inputs: jax.Array, train: bool, lengths: jax.Array | None = None
    ) -> jax.Array:
        """inputs (B, L) tokens or (B, L, C) reals, lengths (B,) or None -> (B, L, d_model)."""
        c = self.cfg
        if self.meta.input_kind == "tokens":
            # "fan_in": Flax's default (std 1/sqrt(d_model)); "normal": N(0, 1), PyTorch's default
            kw = {"embedding_init": nn.initializers.normal(1.0)} if c.embed_init == "normal" else {}
            x = nn.Embed(self.meta.in_features, c.d_model, name="embed", **kw)(inputs)
        else:
            x = dense(c.d_model, c, "encoder")(inputs)
        for i in range(c.n_layers):
            x = SequenceBlock(**_block_kwargs(c), name=f"block{i}")(x, train, lengths)
        if c.prenorm:  # the last block's output has not been normalized yet
            x = make_norm(final_norm_kind(c), train, jnp.float32, "final_norm")(x)
        return x

    def _blocks(self) -> list[tuple[SequenceBlock, dict]]:
        """Each block as a free-standing module with its variables (for the recurrent step)."""
        v = self.variables
        return [
            (
                SequenceBlock(**_block_kwargs(self.cfg), parent=None),
                {col: tree[f"block{i}"] for col, tree in v.items() if f"block{i}" in tree},
            )
            for i in range(self.cfg.n_layers)
        ]

    def initial_state(self, batch: int) -> list[jax.Array]:
        """The blocks' SSM states before the first step (on a bound backbone)."""
        return [blk.apply(bv, batch, method="initial_state") for blk, bv in self._blocks()]

    def step(self, state: list[jax.Array], x_t: jax.Array) -> tuple[list[jax.Array], jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (state, features (B, d_model)), in eval mode."""
        c, params = self.cfg, self.variables["params"]
        if self.meta.input_kind == "tokens":
            x = params["embed"]["embedding"][x_t]
        else:
            x = apply_dense(params["encoder"], x_t)
        new = []
        for (blk, bv), s in zip(self._blocks(), state, strict=True):
            s, x = blk.apply(bv, s, x, method="step")
            new.append(s)
        if c.prenorm:
            x = apply_norm(final_norm_kind(c), self.variables, "final_norm", x)
        return new, x


def final_norm_kind(model_cfg: Any) -> str:
    """The final norm of a pre-norm stack: ``model.final_norm``, "block" meaning ``model.norm``."""
    return model_cfg.norm if model_cfg.final_norm == "block" else model_cfg.final_norm


class SequenceModel(nn.Module):
    """The full model for one task; see the module docstring for the heads."""

    cfg: Any
    meta: Meta

    @nn.compact
    def __call__(
        self, inputs: jax.Array, lengths: jax.Array | None = None, train: bool = False
    ) -> jax.Array:
        """inputs: (B, L) tokens, (B, L, C) reals or (B, 2, L) token pairs.

        Returns logits (B, n_classes), regression outputs (B, K) or sequences (B, L, C).
        """
        c, meta = self.cfg, self.meta
        if c.kind == "linear":
            y = ssm_factory(c.ssm)(name="ssm")(inputs, train=train)
            if c.output_map == "affine":  # the authors' denoising layer: a C x C map plus bias
                kernel, bias = torch_linear_init()
                C = inputs.shape[-1]
                mix = nn.Dense(
                    C, kernel_init=kernel, bias_init=functools.partial(bias, fan_in=C), name="mix"
                )
                y = mix(y)
            return y
        pool = masked_mean if c.pooling == "mean" else last_step
        backbone = Backbone(c, meta, name="backbone")
        if meta.output_kind == "retrieval":
            B, _, L = inputs.shape
            lens = None if lengths is None else lengths.reshape(B * 2)
            x = backbone(inputs.reshape(B * 2, L), train, lens)  # per document
            z = pool(x, lens).reshape(B, 2, -1)
            u, v = z[:, 0], z[:, 1]
            h = jnp.concatenate([u, v, u - v, u * v], axis=-1)
            h = nn.gelu(dense(c.d_model, c, "mlp")(h))
            return dense(meta.n_outputs, c, "head")(h)
        x = backbone(inputs, train, lengths)
        if meta.output_kind == "sequence_regression":
            return dense(meta.n_outputs, c, "head")(x)
        return dense(meta.n_outputs, c, "head")(pool(x, lengths))

    # --- recurrent (token-by-token) evaluation of a causal model; see freqssm.model.infer ---
    def _parts(self) -> tuple[nn.Module, dict]:
        c, v = self.cfg, self.variables
        if c.kind == "linear":
            return ssm_factory(c.ssm)(parent=None), {"params": v["params"]["ssm"]}
        sub = {col: tree["backbone"] for col, tree in v.items() if "backbone" in tree}
        return Backbone(c, self.meta, parent=None), sub

    def initial_state(self, batch: int) -> dict[str, Any]:
        """The carry before the first step: SSM states, the pooled sum and the step count."""
        if self.meta.output_kind == "retrieval":
            raise ValueError("recurrent inference does not support the two-tower retrieval head")
        part, pv = self._parts()
        carry = {"ssm": part.apply(pv, batch, method="initial_state")}
        carry["t"] = jnp.zeros((), jnp.int32)
        if self.cfg.kind != "linear":
            carry["sum"] = jnp.zeros((batch, self.cfg.d_model))
        return carry

    def step(self, carry: dict[str, Any], x_t: jax.Array) -> tuple[dict[str, Any], jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (carry, the model's output given x_0..x_t).

        Sequence outputs give step t's output; pooled heads are applied to the running mean (or
        last) features, which is what ``__call__`` outputs on the first t + 1 inputs.
        """
        c, params = self.cfg, self.variables["params"]
        part, pv = self._parts()
        s, x = part.apply(pv, carry["ssm"], x_t, method="step")
        t = carry["t"] + 1
        if c.kind == "linear":
            if c.output_map == "affine":
                x = apply_dense(params["mix"], x)
            return {"ssm": s, "t": t}, x
        total = carry["sum"] + x
        pooled = (
            x
            if self.meta.output_kind == "sequence_regression" or c.pooling != "mean"
            else (total / t)
        )
        return {"ssm": s, "sum": total, "t": t}, apply_dense(params["head"], pooled)


def build(model_config: Any, meta: Meta) -> SequenceModel:
    """The model for ``meta``'s task from ``config.model``."""
    if model_config.kind == "linear" and meta.input_kind != "real":
        raise ValueError("model.kind=linear needs real-valued inputs (it has no embedding)")
    return SequenceModel(model_config, meta)


def example_inputs(meta: Meta, batch_size: int = 1) -> tuple[jax.Array, jax.Array | None]:
    """Zero inputs of the task's shape, for ``model.init``."""
    L = meta.seq_len
    if meta.output_kind == "retrieval":
        return jnp.zeros((batch_size, 2, L), jnp.int32), jnp.full((batch_size, 2), L, jnp.int32)
    if meta.input_kind == "tokens":
        return jnp.zeros((batch_size, L), jnp.int32), jnp.full((batch_size,), L, jnp.int32)
    return jnp.zeros((batch_size, L, meta.in_features), jnp.float32), None


def count_params(params: Any) -> int:
    """Number of scalar parameters in a pytree."""
    return int(sum(x.size for x in jax.tree.leaves(params)))
