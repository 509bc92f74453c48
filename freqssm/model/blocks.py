"""The residual SequenceBlock around an SSM layer, its norms and its GLU maps.

``SequenceBlock.__call__`` maps (B, L, H) to (B, L, H); ``SequenceBlock.step`` runs the same block
one step at a time for a causal SSM layer (state and x_t (B, H) -> state and y_t (B, H), equal to
``__call__`` at step t in eval mode). Both share :meth:`SequenceBlock.branch`, so the recurrent
path cannot drift from the full one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from freqssm.model.config import ModelConfig
from freqssm.model.layers import ssm_layer

Dtype = Any
# model.dense_dtype: the compute dtype of the dense maps (parameters stay float32)
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
# low-precision operands, float32 accumulation and result (so the bias add and the reduction
# that gives the bias gradient run in float32: a bf16 sum over B·L rows loses percents)
_DOT_F32 = functools.partial(jax.lax.dot_general, preferred_element_type=jnp.float32)


def padding_mask(lengths: jax.Array, L: int, dtype: Dtype = jnp.float32) -> jax.Array:
    """(B, L) of ones at t < lengths[b] and zeros after (the real tokens of right-padded rows)."""
    return (jnp.arange(L)[None, :] < lengths[:, None]).astype(dtype)


def dense_kwargs(dense_dtype: str) -> dict[str, Any]:
    """``nn.Dense`` arguments for ``model.dense_dtype``: {} for float32 (Flax's default);
    otherwise inputs and kernel cast to that dtype, products accumulated in float32, float32
    output. Parameters stay float32 either way."""
    if dense_dtype == "float32":
        return {}
    return {"dtype": DTYPES[dense_dtype], "dot_general": _DOT_F32}


def torch_linear_init() -> tuple[Callable, Callable]:
    """PyTorch's default ``nn.Linear`` / 1x1 ``nn.Conv1d`` init as (kernel, bias) initializers.

    Kernel: kaiming-uniform with a = √5, i.e. U(-1/√fan_in, 1/√fan_in); bias: the same bound.
    """
    kernel = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")

    def bias(key: jax.Array, shape: tuple[int, ...], dtype: Dtype, fan_in: int) -> jax.Array:
        bound = 1.0 / np.sqrt(fan_in)
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return kernel, bias


def norm_module(kind: str, param_dtype: Dtype, name: str) -> nn.Module | None:
    """A "batch" (momentum 0.9) or "layer" norm module, or None for "none"; call it with
    :func:`run_norm`."""
    if kind == "none":
        return None
    if kind == "batch":
        return nn.BatchNorm(momentum=0.9, param_dtype=param_dtype, name=name)
    return nn.LayerNorm(param_dtype=param_dtype, name=name)


def run_norm(norm: nn.Module | None, x: jax.Array, train: bool) -> jax.Array:
    """x through a :func:`norm_module` (batch statistics while training, running ones in eval).

    In eval mode both norms act per position (a batch norm is then a fixed per-feature affine
    map), so a recurrent step gets at step t what the full sequence gets.
    """
    if norm is None:
        return x
    if isinstance(norm, nn.BatchNorm):
        return norm(x, use_running_average=not train)
    return norm(x)


class SequenceBlock(nn.Module):
    """Norm -> SSM -> activation/GLU -> dropout -> residual (prenorm), or norm after (postnorm).

    Attributes:
      config: the model's settings (:class:`freqssm.model.config.ModelConfig`); the block reads
        ``norm``, ``prenorm``, ``residual``, ``activation`` (S5's definitions), ``dropout``
        (tied over time: one mask per sequence and feature), ``dropout_sites`` (each with its
        own mask: "pre_act" the SSM output, "post_act" after the GELU, "post_glu" after the
        GLU), ``gelu``, ``glu_init`` ("torch": :func:`torch_linear_init`), ``dense_dtype``
        (the GLU's dense maps multiply in it and accumulate in float32; parameters, the SSM,
        norms and the residual stream stay float32), ``mask_padding`` (zero the SSM layer's
        input at t >= length, after the pre-norm, as the authors' S4 block does) and ``ssm``.
      layer: a factory of the SSM layer, called as ``layer(name="ssm")``; None: the S5 or S4D
        layer of ``config.ssm`` (:func:`freqssm.model.layers.ssm_layer`). Another sequence
        layer with the same call signature can stand in.
      param_dtype: the parameters' dtype.

    Submodules (their names are parameter paths): ``norm``, ``ssm``, ``out1`` / ``out2`` (the
    GLU's dense maps, where the activation has them).
    """

    config: ModelConfig = ModelConfig()
    layer: Callable[..., nn.Module] | None = None
    param_dtype: Dtype = jnp.float32

    def setup(self) -> None:
        c = self.config
        self.norm = norm_module(c.norm, self.param_dtype, "norm")
        if self.layer is None:
            self.ssm = ssm_layer(c.ssm, param_dtype=self.param_dtype, name="ssm")
        else:
            self.ssm = self.layer(name="ssm")
        # named as the compact module's auto-name was, so dropout masks are drawn as before
        self.dropout = nn.Dropout(c.dropout, broadcast_dims=(1,), name="Dropout_0")
        names = {"full_glu": ("out1", "out2"), "half_glu1": ("out2",), "half_glu2": ("out2",)}
        self.dense = {name: self._dense(name) for name in names.get(c.activation, ())}

    def _dense(self, name: str) -> nn.Dense:
        H, c = self.config.d_model, self.config
        kw: dict[str, Any] = dict(param_dtype=self.param_dtype, **dense_kwargs(c.dense_dtype))
        if c.glu_init == "torch":
            kernel, bias = torch_linear_init()
            kw.update(kernel_init=kernel, bias_init=functools.partial(bias, fan_in=H))
        return nn.Dense(H, name=name, **kw)

    def branch(self, x: jax.Array, drop: Callable[[str, jax.Array], jax.Array]) -> jax.Array:
        """The activation/GLU branch on the SSM output x (..., H); ``drop(site, z)`` applies the
        dropout of that site (identity when there is none)."""
        c = self.config

        def act(z: jax.Array) -> jax.Array:
            return nn.gelu(z, approximate=c.gelu == "tanh")

        x = drop("pre_act", x)
        if c.activation == "gelu":
            return drop("post_act", act(x))
        if c.activation == "full_glu":
            x = drop("post_act", act(x))
            out1, out2 = self.dense["out1"], self.dense["out2"]
            return drop("post_glu", out1(x) * jax.nn.sigmoid(out2(x)))
        if c.activation == "half_glu1":
            x = drop("post_act", act(x))
            return drop("post_glu", x * jax.nn.sigmoid(self.dense["out2"](x)))
        # half_glu2: GELU only on the gate's input
        g = drop("post_act", act(x))
        return drop("post_glu", x * jax.nn.sigmoid(self.dense["out2"](g)))

    def __call__(
        self, x: jax.Array, train: bool = False, lengths: jax.Array | None = None
    ) -> jax.Array:
        """x (B, L, H), lengths (B,) or None -> (B, L, H).

        The block's width is ``x.shape[-1]`` (``config.d_model`` in a model). With
        ``mask_padding`` and lengths, the SSM sees zeros at t >= lengths[b]. In training mode a
        batch norm's statistics still include the padded positions (the mask comes after the
        norm), as in the authors' block.
        """
        c = self.config
        skip = x
        if c.prenorm:
            x = run_norm(self.norm, x, train)
        if c.mask_padding and lengths is not None:
            x = x * padding_mask(lengths, x.shape[1], x.dtype)[..., None]
        x = self.ssm(x, train=train)

        def drop(site: str, z: jax.Array) -> jax.Array:
            return self.dropout(z, deterministic=not train) if site in c.dropout_sites else z

        x = self.branch(x, drop)
        if c.residual:
            x = skip + x
        if not c.prenorm:
            x = run_norm(self.norm, x, train)
        return x

    # --- the recurrent path: the same submodules, one step at a time, in eval mode ---
    def step_system(self) -> Any:
        """What the SSM layer's ``step`` needs, computed once before stepping."""
        return self.ssm.step_system()

    def initial_state(self, batch: int) -> jax.Array:
        """The SSM layer's zero state (see its ``initial_state``)."""
        return self.ssm.initial_state(batch)

    def step(self, system: Any, state: jax.Array, x_t: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One step of the block in eval mode (no dropout): state, x_t (B, H) -> (state, y_t).

        ``system`` is :meth:`step_system`'s; y_t equals ``__call__``'s output at step t.
        """
        c = self.config
        skip = x_t
        x = run_norm(self.norm, x_t, False) if c.prenorm else x_t
        state, x = self.ssm.step(system, state, x)
        x = self.branch(x, lambda _, z: z)
        if c.residual:
            x = skip + x
        if not c.prenorm:
            x = run_norm(self.norm, x, False)
        return state, x
