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

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from freqssm.data.base import Meta
from freqssm.model.blocks import (
    SequenceBlock,
    dense_kwargs,
    norm_module,
    padding_mask,
    run_norm,
    torch_linear_init,
)
from freqssm.model.config import ModelConfig
from freqssm.model.layers import ssm_layer


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


def dense(features: int, config: ModelConfig, name: str) -> nn.Dense:
    """The encoder's or head's dense map, multiplying in ``model.dense_dtype``."""
    return nn.Dense(features, name=name, **dense_kwargs(config.dense_dtype))


class Backbone(nn.Module):
    """Encoder and the stack of SequenceBlocks: inputs -> (B, L, d_model).

    Submodules: ``embed`` (token inputs) or ``encoder`` (real inputs), ``block0`` ...
    ``block{n_layers-1}``, ``final_norm`` (pre-norm stacks).
    """

    config: ModelConfig
    meta: Meta

    def setup(self) -> None:
        c = self.config
        if self.meta.input_kind == "tokens":
            # "fan_in": Flax's default (std 1/sqrt(d_model)); "normal": N(0, 1), PyTorch's default
            kw = {"embedding_init": nn.initializers.normal(1.0)} if c.embed_init == "normal" else {}
            self.embed = nn.Embed(self.meta.in_features, c.d_model, name="embed", **kw)
        else:
            self.encoder = dense(c.d_model, c, "encoder")
        self.blocks = [SequenceBlock(c, name=f"block{i}") for i in range(c.n_layers)]
        # a pre-norm stack's last block output has not been normalized yet
        self.final_norm = norm_module(c.final_norm_kind, jnp.float32, "final_norm")

    def _encode(self, inputs: jax.Array) -> jax.Array:
        return self.embed(inputs) if self.meta.input_kind == "tokens" else self.encoder(inputs)

    def __call__(
        self, inputs: jax.Array, train: bool, lengths: jax.Array | None = None
    ) -> jax.Array:
        """inputs (B, L) tokens or (B, L, C) reals, lengths (B,) or None -> (B, L, d_model)."""
        x = self._encode(inputs)
        for block in self.blocks:
            x = block(x, train, lengths)
        return run_norm(self.final_norm, x, train) if self.config.prenorm else x

    def step_system(self) -> list[Any]:
        """Each block's :meth:`SequenceBlock.step_system`."""
        return [block.step_system() for block in self.blocks]

    def initial_state(self, batch: int) -> list[jax.Array]:
        """The blocks' SSM states before the first step."""
        return [block.initial_state(batch) for block in self.blocks]

    def step(
        self, system: list[Any], state: list[jax.Array], x_t: jax.Array
    ) -> tuple[list[jax.Array], jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (state, features (B, d_model)), in eval mode."""
        x = self._encode(x_t)
        new = []
        for block, sys, s in zip(self.blocks, system, state, strict=True):
            s, x = block.step(sys, s, x)
            new.append(s)
        return new, run_norm(self.final_norm, x, False) if self.config.prenorm else x


class SequenceModel(nn.Module):
    """The full model for one task; see the module docstring for the heads.

    Submodules: ``backbone``, ``head`` and, for retrieval, ``mlp``; with ``model.kind =
    "linear"``, ``ssm`` and (``output_map = "affine"``) ``mix``.
    """

    config: ModelConfig
    meta: Meta

    def setup(self) -> None:
        c, meta = self.config, self.meta
        if c.kind == "linear":
            self.ssm = ssm_layer(c.ssm, name="ssm")
            if c.output_map == "affine":  # the authors' denoising layer: a C x C map plus bias
                kernel, bias = torch_linear_init()
                C = meta.in_features
                self.mix = nn.Dense(
                    C, kernel_init=kernel, bias_init=functools.partial(bias, fan_in=C), name="mix"
                )
            return
        self.backbone = Backbone(c, meta, name="backbone")
        if meta.output_kind == "retrieval":
            self.mlp = dense(c.d_model, c, "mlp")
        self.head = dense(meta.n_outputs, c, "head")

    def _pool(self, x: jax.Array, lengths: jax.Array | None) -> jax.Array:
        return (masked_mean if self.config.pooling == "mean" else last_step)(x, lengths)

    def __call__(
        self, inputs: jax.Array, lengths: jax.Array | None = None, train: bool = False
    ) -> jax.Array:
        """inputs: (B, L) tokens, (B, L, C) reals or (B, 2, L) token pairs.

        Returns logits (B, n_classes), regression outputs (B, K) or sequences (B, L, C).
        """
        c, meta = self.config, self.meta
        if c.kind == "linear":
            y = self.ssm(inputs, train=train)
            return self.mix(y) if c.output_map == "affine" else y
        if meta.output_kind == "retrieval":
            B, _, L = inputs.shape
            lens = None if lengths is None else lengths.reshape(B * 2)
            x = self.backbone(inputs.reshape(B * 2, L), train, lens)  # per document
            z = self._pool(x, lens).reshape(B, 2, -1)
            u, v = z[:, 0], z[:, 1]
            h = jnp.concatenate([u, v, u - v, u * v], axis=-1)
            return self.head(nn.gelu(self.mlp(h)))
        x = self.backbone(inputs, train, lengths)
        if meta.output_kind == "sequence_regression":
            return self.head(x)
        return self.head(self._pool(x, lengths))

    # --- recurrent (token-by-token) evaluation of a causal model; see freqssm.model.infer ---
    def _recurrent_part(self) -> nn.Module:
        if self.meta.output_kind == "retrieval":
            raise ValueError("recurrent inference does not support the two-tower retrieval head")
        return self.ssm if self.config.kind == "linear" else self.backbone

    def step_system(self) -> Any:
        """What :meth:`step` needs from the parameters (each layer's discrete system), computed
        once before stepping."""
        return self._recurrent_part().step_system()

    def initial_state(self, batch: int) -> dict[str, Any]:
        """The carry before the first step: SSM states, the pooled sum and the step count."""
        carry = {"ssm": self._recurrent_part().initial_state(batch)}
        carry["t"] = jnp.zeros((), jnp.int32)
        if self.config.kind != "linear":
            carry["sum"] = jnp.zeros((batch, self.config.d_model))
        return carry

    def step(
        self, system: Any, carry: dict[str, Any], x_t: jax.Array
    ) -> tuple[dict[str, Any], jax.Array]:
        """x_t: (B,) tokens or (B, C) reals -> (carry, the model's output given x_0..x_t).

        ``system`` is :meth:`step_system`'s. Sequence outputs give step t's output; pooled heads
        are applied to the running mean (or last) features, which is what ``__call__`` outputs
        on the first t + 1 inputs.
        """
        c = self.config
        s, x = self._recurrent_part().step(system, carry["ssm"], x_t)
        t = carry["t"] + 1
        if c.kind == "linear":
            return {"ssm": s, "t": t}, self.mix(x) if c.output_map == "affine" else x
        total = carry["sum"] + x
        mean = self.meta.output_kind != "sequence_regression" and c.pooling == "mean"
        return {"ssm": s, "sum": total, "t": t}, self.head(total / t if mean else x)


def build(config: ModelConfig, meta: Meta) -> SequenceModel:
    """The model for ``meta``'s task from the ``model`` settings."""
    if config.kind == "linear" and meta.input_kind != "real":
        raise ValueError("model.kind=linear needs real-valued inputs (it has no embedding)")
    return SequenceModel(config, meta)


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
