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

Dtype = Any
ACTIVATIONS = ("gelu", "full_glu", "half_glu1", "half_glu2")
NORMS = ("batch", "layer", "none")
DROPOUT_SITES = ("pre_act", "post_act", "post_glu")
GELUS = ("tanh", "erf")
GLU_INITS = ("lecun", "torch")
# model.dense_dtype: the compute dtype of the dense maps (parameters stay float32)
DENSE_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
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
    return {"dtype": DENSE_DTYPES[dense_dtype], "dot_general": _DOT_F32}


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {choices}")


def torch_linear_init() -> tuple[Callable, Callable]:
    """PyTorch's default ``nn.Linear`` / 1x1 ``nn.Conv1d`` init as (kernel, bias) initializers.

    Kernel: kaiming-uniform with a = √5, i.e. U(-1/√fan_in, 1/√fan_in); bias: the same bound.
    """
    kernel = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")

    def bias(key: jax.Array, shape: tuple[int, ...], dtype: Dtype, fan_in: int) -> jax.Array:
        bound = 1.0 / np.sqrt(fan_in)
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return kernel, bias


def make_norm(
    kind: str, train: bool, param_dtype: Dtype, name: str | None, **module_kw: Any
) -> Callable:
    """A "batch" (momentum 0.9, batch statistics while training), "layer" or "none" norm.

    ``module_kw`` goes to the Flax module (``parent=None`` for a free-standing one).
    """
    if kind == "none":
        return lambda x: x
    if kind == "batch":
        return nn.BatchNorm(
            use_running_average=not train,
            momentum=0.9,
            param_dtype=param_dtype,
            name=name,
            **module_kw,
        )
    return nn.LayerNorm(param_dtype=param_dtype, name=name, **module_kw)


def apply_norm(kind: str, variables: dict, name: str, x: jax.Array) -> jax.Array:
    """The eval-mode norm ``name`` of a bound module's ``variables`` applied to x (any shape).

    Per-step use of a trained norm: a layer norm acts per position and an eval-mode batch norm is
    a fixed per-feature affine map, so each gives at step t what it gives on the full sequence.
    """
    if kind == "none":
        return x
    sub = {col: tree[name] for col, tree in variables.items() if name in tree}
    return make_norm(kind, False, jnp.float32, None, parent=None).apply(sub, x)


def apply_dense(params: dict, x: jax.Array) -> jax.Array:
    """A trained ``nn.Dense`` from its parameters (kernel (in, out), bias (out,)) on x (..., in)."""
    return nn.Dense(params["kernel"].shape[-1], parent=None).apply({"params": params}, x)


class SequenceBlock(nn.Module):
    """Norm -> SSM -> activation/GLU -> dropout -> residual (prenorm), or norm after (postnorm).

    Attributes:
      ssm: a factory (e.g. ``functools.partial(S5, state_size=64)``) called as ``ssm(name="ssm")``.
      norm: "batch", "layer" or "none". prenorm: normalize before the SSM (else after the
        residual). residual: add the block's input to its output (False: a plain layer).
      activation: "gelu", "full_glu", "half_glu1" or "half_glu2" (S5's definitions).
      dropout: rate, tied over time (one mask per sequence and feature).
      dropout_sites: where dropout is applied, each with its own mask: "pre_act" (the SSM output,
        before the GELU), "post_act" (after the GELU) and "post_glu" (after the GLU; GLU
        activations only). Default: the last two; the authors' blocks use all three.
      gelu: "tanh" (the tanh approximation, Flax's default) or "erf" (exact, PyTorch's default).
      glu_init: the GLU's dense maps, "lecun" (Flax's lecun-normal kernel, zero bias) or "torch"
        (PyTorch's default for the authors' H -> 2H 1x1 convolution; :func:`torch_linear_init`).
      dense_dtype: "float32" or "bfloat16": the GLU's dense maps multiply in this dtype and
        accumulate in float32 (:func:`dense_kwargs`); parameters, outputs, the SSM, norms and
        residual stream stay float32.
      mask_padding: zero the SSM layer's input at positions t >= length (after the pre-norm,
        before the SSM), as the authors' S4 block does, so padding reaches no real position
        through either direction of the layer. A no-op when ``__call__`` gets no lengths.
    """

    ssm: Callable[..., nn.Module]
    norm: str = "layer"
    prenorm: bool = True
    activation: str = "half_glu1"
    dropout: float = 0.0
    dropout_sites: tuple[str, ...] = ("post_act", "post_glu")
    gelu: str = "tanh"
    glu_init: str = "lecun"
    residual: bool = True
    param_dtype: Dtype = jnp.float32
    dense_dtype: str = "float32"
    mask_padding: bool = False

    def branch(
        self,
        x: jax.Array,
        dense: Callable[[str], Callable[[jax.Array], jax.Array]],
        drop: Callable[[str, jax.Array], jax.Array],
    ) -> jax.Array:
        """The activation/GLU branch on the SSM output x (..., H).

        ``dense(name)`` returns the block's dense map of that name ("out1", "out2");
        ``drop(site, z)`` applies the dropout of that site (identity when there is none).
        """

        def act(z: jax.Array) -> jax.Array:
            return nn.gelu(z, approximate=self.gelu == "tanh")

        x = drop("pre_act", x)
        if self.activation == "gelu":
            return drop("post_act", act(x))
        if self.activation == "full_glu":
            x = drop("post_act", act(x))
            return drop("post_glu", dense("out1")(x) * jax.nn.sigmoid(dense("out2")(x)))
        if self.activation == "half_glu1":
            x = drop("post_act", act(x))
            return drop("post_glu", x * jax.nn.sigmoid(dense("out2")(x)))
        # half_glu2: GELU only on the gate's input
        g = drop("post_act", act(x))
        return drop("post_glu", x * jax.nn.sigmoid(dense("out2")(g)))

    @nn.compact
    def __call__(
        self, x: jax.Array, train: bool = False, lengths: jax.Array | None = None
    ) -> jax.Array:
        """x (B, L, H), lengths (B,) or None -> (B, L, H).

        With ``mask_padding`` and lengths, the SSM sees zeros at t >= lengths[b]. In training
        mode a batch norm's statistics still include the padded positions (the mask comes after
        the norm), as in the authors' block.
        """
        _check_choice("norm", self.norm, NORMS)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("gelu", self.gelu, GELUS)
        _check_choice("glu_init", self.glu_init, GLU_INITS)
        for site in self.dropout_sites:
            _check_choice("dropout_sites", site, DROPOUT_SITES)
        H = x.shape[-1]
        skip = x
        if self.prenorm:
            x = make_norm(self.norm, train, self.param_dtype, "norm")(x)
        if self.mask_padding and lengths is not None:
            x = x * padding_mask(lengths, x.shape[1], x.dtype)[..., None]
        x = self.ssm(name="ssm")(x, train=train)
        dropout = nn.Dropout(self.dropout, broadcast_dims=(1,), deterministic=not train)

        def drop(site: str, z: jax.Array) -> jax.Array:
            return dropout(z) if site in self.dropout_sites else z

        dense = functools.partial(
            nn.Dense, H, param_dtype=self.param_dtype, **dense_kwargs(self.dense_dtype)
        )
        if self.glu_init == "torch":
            kernel, bias = torch_linear_init()
            dense = functools.partial(
                dense, kernel_init=kernel, bias_init=functools.partial(bias, fan_in=H)
            )
        x = self.branch(x, lambda name: dense(name=name), drop)
        if self.residual:
            x = skip + x
        if not self.prenorm:
            x = make_norm(self.norm, train, self.param_dtype, "norm")(x)
        return x

    def _ssm_layer(self) -> nn.Module:
        return self.ssm(parent=None)

    def initial_state(self, batch: int) -> jax.Array:
        """The SSM layer's zero state (see its ``initial_state``), on a bound block."""
        ssm_vars = {"params": self.variables["params"]["ssm"]}
        return self._ssm_layer().apply(ssm_vars, batch, method="initial_state")

    def step(self, state: jax.Array, x_t: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One step of the block in eval mode (no dropout), on a bound block.

        state: the SSM layer's state; x_t (B, H) -> (state, y_t (B, H)).
        """
        v = self.variables
        skip = x_t
        x = apply_norm(self.norm, v, "norm", x_t) if self.prenorm else x_t
        state, x = self._ssm_layer().apply({"params": v["params"]["ssm"]}, state, x, method="step")
        x = self.branch(
            x, lambda name: functools.partial(apply_dense, v["params"][name]), lambda _, z: z
        )
        if self.residual:
            x = skip + x
        if not self.prenorm:
            x = apply_norm(self.norm, v, "norm", x)
        return state, x
