"""Flax modules: the S5 and S4D layers and the residual SequenceBlock around them.

The modules are thin: every formula lives in :mod:`freqssm.ssm`. Inputs and outputs are
(batch, length, features) = (B, L, H) real arrays.

Parameter names are part of the interface (the optimizer groups them by name):

=================  =====================================  ========================================
name               S5 shape                               S4D shape
=================  =====================================  ========================================
``Lambda_re``      (P_s,)                                 (H, N)
``Lambda_im``      (P_s,)                                 (H, N)
``B``              (P_s, H, 2)  [real, imag]              (H, N, 2)
``log_dt``         (P_s,)                                 (H,)
``C``              (n_dir, H, P_s, 2)                     (n_dir, H, N, 2)
``D``              (H,)  unless ``d_skip=False``            (H,)
``sobolev_beta``   (H,)  only with a learnable exponent   (H,)
=================  =====================================  ========================================

P_s (S5) and N (S4D) are the stored complex modes: half the state size with conjugate symmetry.
n_dir is 2 for bidirectional layers (the directions share Λ, B and Δ, not C).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from freqssm.ssm import init as ssm_init
from freqssm.ssm.discretize import METHODS, discretize
from freqssm.ssm.kernel import fft_conv, state_fft_conv, two_sided_kernel, vandermonde_kernel
from freqssm.ssm.scan import SCAN_IMPLS, linear_recurrence
from freqssm.ssm.sobolev import sobolev_filter, sobolev_weight_t

Dtype = Any
ACTIVATIONS = ("gelu", "full_glu", "half_glu1", "half_glu2")
NORMS = ("batch", "layer")


def _complex(x: jax.Array) -> jax.Array:
    return jax.lax.complex(x[..., 0], x[..., 1])


def _stack(z: jax.Array) -> jax.Array:
    return jnp.stack([z.real, z.imag], axis=-1)


def _constant(value: Any) -> Callable:
    def init(key: jax.Array, *_: Any) -> jax.Array:
        del key
        return value

    return init


def ssm_system(
    params: dict[str, jax.Array], step_rescale: float = 1.0, clip_eigs: bool = True
) -> dict[str, jax.Array]:
    """The continuous system of an S5 or S4D layer from its raw parameters.

    Returns a dict with complex ``Lambda``, ``B``, ``C`` (shapes as in the module docstring without
    the trailing [real, imag] axis), real ``D`` (H,) (zeros for a layer without the D skip) and
    the step ``dt`` (exp(log_dt)·step_rescale).
    Used by the layers themselves and by analysis code on trained parameters.
    """
    lam_re = params["Lambda_re"]
    if clip_eigs:  # Re Λ < 0 keeps the system stable whatever the optimizer does
        lam_re = jnp.minimum(lam_re, -1e-4)
    return dict(
        Lambda=jax.lax.complex(lam_re, params["Lambda_im"]),
        B=_complex(params["B"]),
        C=_complex(params["C"]),
        D=params.get("D", jnp.zeros(params["C"].shape[-3], params["C"].dtype)),
        dt=jnp.exp(params["log_dt"]) * step_rescale,
    )


class _SobolevMixin:
    """The Sobolev exponent: a static float, or a learnable per-feature parameter."""

    beta: float
    beta_learnable: bool
    sobolev_c: float | None

    def sobolev_active(self) -> bool:
        # A fixed beta = 0 skips the filter entirely, so the layer is bit-for-bit unfiltered.
        return self.beta_learnable or self.beta != 0.0

    def sobolev_exponent(self, H: int, dtype: Dtype) -> jax.Array | float:
        if self.beta_learnable:
            return self.param("sobolev_beta", nn.initializers.constant(self.beta), (H,), dtype)
        return self.beta


class S5(_SobolevMixin, nn.Module):
    """MIMO diagonal SSM layer (Smith et al. 2023): H inputs -> P_s complex modes -> H outputs.

    Attributes:
      state_size: P, the real state size (P_s = P/2 stored modes with ``conj_sym``).
      blocks: J, number of HiPPO blocks (``state_size`` divisible by J).
      lambda_init: "hippo", "s4d_lin" or "s4d_inv" (config key ``model.ssm.init``).
      alpha: frequency-bias knob 1, multiplies Im Λ at initialization.
      beta, beta_learnable, sobolev_c: frequency-bias knob 2, the Sobolev filter (1 + k/c)^β on
        the SSM path's output spectrum (before the D skip).
      mode: "scan" (recurrence; ``scan_impl`` picks sequential or parallel) or "conv" (per-mode
        FFT convolution).
      step_rescale: multiplies Δ (e.g. to run at a different sampling rate).
      clip_eigs: keep Re Λ <= -1e-4 in the forward pass, for stability.
      d_skip: include the feed-through D u (parameter ``D``); without it the layer is the pure
        convolution (the paper's denoising layer, which would otherwise learn D = 1).
    """

    state_size: int = 64
    blocks: int = 1
    lambda_init: str = "hippo"
    alpha: float = 1.0
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    discretization: str = "zoh"
    bidirectional: bool = False
    mode: str = "scan"
    scan_impl: str = "auto"
    clip_eigs: bool = True
    conj_sym: bool = True
    step_rescale: float = 1.0
    d_skip: bool = True
    beta: float = 0.0
    beta_learnable: bool = False
    sobolev_c: float | None = None
    param_dtype: Dtype = jnp.float32

    def system(self, H: int) -> dict[str, jax.Array]:
        """Create the parameters.

        Returns Λ (P_s,), B̃ (P_s, H), C̃ (n_dir, H, P_s), D (H,), Δ (P_s,).
        """
        lam0, V = ssm_init.eigensystem(
            self.lambda_init, self.state_size, self.blocks, self.alpha, self.conj_sym
        )
        n_dir = 2 if self.bidirectional else 1
        dt = self.param_dtype

        def bc_init(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            return ssm_init.s5_BC(key, V, lam0.shape[0], H, n_dir, dt)

        lam_re = self.param("Lambda_re", _constant(jnp.asarray(lam0.real, dt)))
        lam_im = self.param("Lambda_im", _constant(jnp.asarray(lam0.imag, dt)))
        B = self.param("B", lambda k: _stack(bc_init(k)[0]))
        C = self.param("C", lambda k: _stack(bc_init(k)[1]))
        D = self.param("D", nn.initializers.normal(1.0), (H,), dt) if self.d_skip else None
        log_dt = self.param(
            "log_dt", lambda k: ssm_init.log_dt(k, lam0.shape, self.dt_min, self.dt_max, dt)
        )
        raw = dict(Lambda_re=lam_re, Lambda_im=lam_im, B=B, C=C, log_dt=log_dt)
        if D is not None:
            raw["D"] = D
        return ssm_system(raw, self.step_rescale, self.clip_eigs)

    @nn.compact
    def __call__(self, u: jax.Array, train: bool = False) -> jax.Array:
        """u (B, L, H) real -> y (B, L, H) real."""
        del train
        H = u.shape[-1]
        sys = self.system(H)
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"], self.discretization)
        B_bar = gamma[:, None] * sys["B"]  # (P_s, H)
        P_s = lam_bar.shape[0]
        # Input projection as one real matmul: [Re B̄u, Im B̄u] = u @ [Re B̄; Im B̄]ᵀ.
        w_in = jnp.concatenate([B_bar.real, B_bar.imag], axis=0).T  # (H, 2 P_s)
        bu_ri = u @ w_in.astype(u.dtype)
        bu = jax.lax.complex(bu_ri[..., :P_s], bu_ri[..., P_s:])  # (B, L, P_s)

        xs = [self._states(lam_bar, bu, reverse=False)]
        if self.bidirectional:
            xs.append(self._states(lam_bar, bu, reverse=True))
        # Output projection y = f·Re(C̃x) = [Re x, Im x] @ f·[Re C̃, -Im C̃]ᵀ, summed over
        # directions, again one real matmul.
        f = 2.0 if self.conj_sym else 1.0
        C = sys["C"]  # (n_dir, H, P_s)
        w_out = (
            f
            * jnp.concatenate(
                [jnp.concatenate([C[d].real, -C[d].imag], axis=1) for d in range(len(xs))], axis=1
            ).T
        )  # (n_dir * 2 P_s, H)
        x_ri = jnp.concatenate([z for x in xs for z in (x.real, x.imag)], axis=-1)
        y = x_ri @ w_out.astype(x_ri.dtype)
        if self.sobolev_active():
            y = sobolev_filter(y, self.sobolev_exponent(H, self.param_dtype), self.sobolev_c)
        return y + sys["D"] * u

    def _states(self, lam_bar: jax.Array, bu: jax.Array, reverse: bool) -> jax.Array:
        if self.mode == "conv":
            return state_fft_conv(lam_bar, bu, reverse)
        if self.mode != "scan":
            raise ValueError(f"S5 mode must be 'scan' or 'conv', got {self.mode!r}")
        fn = functools.partial(linear_recurrence, lam_bar, reverse=reverse, impl=self.scan_impl)
        return jax.vmap(fn)(bu)


class S4D(_SobolevMixin, nn.Module):
    """H independent SISO diagonal SSMs (Gu et al. 2022), run as an FFT convolution.

    Attributes as in :class:`S5`, except ``state_size`` = N is per feature (N/2 stored modes with
    ``conj_sym``), Δ is per feature, and ``mode`` = "conv" (Vandermonde kernel + FFT, default) or
    "scan" (the same system as a recurrence, without the filter). Bidirectional layers use a
    two-sided kernel.

    The Sobolev filter is fused into the convolution as in the authors' code: the product
    rfft(u)·rfft(K) on the 2L grid is weighted by (1 + k/c)^β before the inverse transform, so it
    sees the whole linear convolution (including its tail beyond L) and costs no extra FFT. S5
    instead filters its length-L output zero-padded to 2L; the two agree up to that tail.
    """

    state_size: int = 64
    lambda_init: str = "s4d_lin"
    alpha: float = 1.0
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    discretization: str = "zoh"
    bidirectional: bool = False
    mode: str = "conv"
    scan_impl: str = "auto"
    clip_eigs: bool = True
    conj_sym: bool = True
    step_rescale: float = 1.0
    d_skip: bool = True
    beta: float = 0.0
    beta_learnable: bool = False
    sobolev_c: float | None = None
    param_dtype: Dtype = jnp.float32

    def system(self, H: int) -> dict[str, jax.Array]:
        """Create the parameters; return Λ (H,N), B (H,N), C (n_dir,H,N), D (H,), Δ (H,)."""
        lam0, _ = ssm_init.eigensystem(
            self.lambda_init, self.state_size, 1, self.alpha, self.conj_sym
        )
        lam0 = np.broadcast_to(lam0, (H, lam0.shape[0]))
        N = lam0.shape[1]
        n_dir = 2 if self.bidirectional else 1
        dt = self.param_dtype

        def bc_init(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            return ssm_init.s4d_BC(key, H, N, n_dir, dt)

        lam_re = self.param("Lambda_re", _constant(jnp.asarray(lam0.real, dt)))
        lam_im = self.param("Lambda_im", _constant(jnp.asarray(lam0.imag, dt)))
        B = self.param("B", lambda k: _stack(bc_init(k)[0]))
        C = self.param("C", lambda k: _stack(bc_init(k)[1]))
        D = self.param("D", nn.initializers.normal(1.0), (H,), dt) if self.d_skip else None
        log_dt = self.param(
            "log_dt", lambda k: ssm_init.log_dt(k, (H,), self.dt_min, self.dt_max, dt)
        )
        raw = dict(Lambda_re=lam_re, Lambda_im=lam_im, B=B, C=C, log_dt=log_dt)
        if D is not None:
            raw["D"] = D
        return ssm_system(raw, self.step_rescale, self.clip_eigs)

    @nn.compact
    def __call__(self, u: jax.Array, train: bool = False) -> jax.Array:
        """u (B, L, H) real -> y (B, L, H) real."""
        del train
        H, L = u.shape[-1], u.shape[-2]
        sys = self.system(H)
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"][:, None], self.discretization)
        b_bar = gamma * sys["B"]  # (H, N)
        beta = self.sobolev_exponent(H, self.param_dtype) if self.sobolev_active() else None
        if self.mode == "conv":
            cb = sys["C"] * b_bar  # (n_dir, H, N)
            k = vandermonde_kernel(lam_bar, cb, L, self.conj_sym)  # (n_dir, H, L)
            k = two_sided_kernel(k[0].T, k[1].T) if self.bidirectional else k[0].T
            # (L+1, H) as fft_conv documents, built time-last (its transpose is free in XLA)
            weight = None if beta is None else sobolev_weight_t(2 * L, beta, self.sobolev_c).T
            y = fft_conv(u, k.astype(u.dtype), weight)
        elif self.mode == "scan":
            if beta is not None:
                raise ValueError(
                    "S4D applies the Sobolev filter inside its FFT convolution; use mode='conv' "
                    "(or beta=0 without learnable beta) with mode='scan'"
                )
            y = self._recurrent(lam_bar, b_bar, sys["C"], u)
        else:
            raise ValueError(f"S4D mode must be 'conv' or 'scan', got {self.mode!r}")
        return y + sys["D"] * u

    def _recurrent(self, lam_bar: jax.Array, b_bar: jax.Array, C: jax.Array, u: jax.Array):
        f = 2.0 if self.conj_sym else 1.0
        bu = u[..., None] * b_bar  # (B, L, H, N)
        y = 0.0
        for d, reverse in enumerate([False, True][: C.shape[0]]):
            fn = functools.partial(linear_recurrence, lam_bar, reverse=reverse, impl=self.scan_impl)
            x = jax.vmap(fn)(bu)
            y = y + f * jnp.einsum("hn,blhn->blh", C[d], x).real
        return y


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not one of {choices}")


class SequenceBlock(nn.Module):
    """Norm -> SSM -> activation/GLU -> dropout -> residual (prenorm), or norm after (postnorm).

    Attributes:
      ssm: a factory (e.g. ``functools.partial(S5, state_size=64)``) called as ``ssm(name="ssm")``.
      norm: "batch" or "layer". prenorm: normalize before the SSM (else after the residual).
      activation: "gelu", "full_glu", "half_glu1" or "half_glu2" (S5's definitions).
      dropout: rate, tied over time (one mask per sequence and feature).
    """

    ssm: Callable[..., nn.Module]
    norm: str = "layer"
    prenorm: bool = True
    activation: str = "half_glu1"
    dropout: float = 0.0
    param_dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        """x (B, L, H) -> (B, L, H)."""
        _check_choice("norm", self.norm, NORMS)
        _check_choice("activation", self.activation, ACTIVATIONS)
        H = x.shape[-1]
        skip = x
        if self.prenorm:
            x = self._norm(x, train)
        x = self.ssm(name="ssm")(x, train=train)
        drop = nn.Dropout(self.dropout, broadcast_dims=(1,), deterministic=not train)
        dense = functools.partial(nn.Dense, H, param_dtype=self.param_dtype)
        if self.activation == "gelu":
            x = drop(nn.gelu(x))
        elif self.activation == "full_glu":
            x = drop(nn.gelu(x))
            x = dense(name="out1")(x) * jax.nn.sigmoid(dense(name="out2")(x))
            x = drop(x)
        elif self.activation == "half_glu1":
            x = drop(nn.gelu(x))
            x = x * jax.nn.sigmoid(dense(name="out2")(x))
            x = drop(x)
        else:  # half_glu2: GELU only on the gate's input
            g = drop(nn.gelu(x))
            x = x * jax.nn.sigmoid(dense(name="out2")(g))
            x = drop(x)
        x = skip + x
        if not self.prenorm:
            x = self._norm(x, train)
        return x

    def _norm(self, x: jax.Array, train: bool) -> jax.Array:
        if self.norm == "batch":
            return nn.BatchNorm(
                use_running_average=not train,
                momentum=0.9,
                param_dtype=self.param_dtype,
                name="norm",
            )(x)
        return nn.LayerNorm(param_dtype=self.param_dtype, name="norm")(x)


def validate_ssm_options(discretization: str, scan_impl: str) -> None:
    """Raise ValueError for unknown discretization or scan implementation names."""
    _check_choice("discretization", discretization, METHODS)
    _check_choice("scan_impl", scan_impl, SCAN_IMPLS)
