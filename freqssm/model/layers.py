"""Flax modules: the S5 and S4D diagonal SSM layers, each a full-sequence ``__call__`` and a
recurrent ``step`` (the residual block around them is :mod:`freqssm.model.blocks`).

The modules are thin: every formula lives in :mod:`freqssm.ssm`. ``__call__`` maps inputs
(batch, length, features) = (B, L, H) to outputs of the same shape; ``step`` maps a state and one
input (B, H) to the next state and output, equal to ``__call__`` at that step.

Parameter names are part of the interface (the optimizer groups them by name, and analysis code
recognises a layer by them). Which names a layer has depends on its parameterization settings:

==================  =====================================  =======================================
name                S5 shape                               S4D shape
==================  =====================================  =======================================
``Lambda_re``       (P_s,)  ``real_transform="none"``      (G, N)  ``real_transform="none"``
``Lambda_re_log``   (P_s,)  ``real_transform="exp"``:      (G, N)
                    Re Λ = -exp(Lambda_re_log)
``Lambda_im``       (P_s,)                                 (G, N)
``B``               (P_s, H, 2)  [real, imag]              (H, N, 2); absent with ``train_b=False``
                                                           (B = 1, fixed)
``log_dt``          (P_s,)  ``dt_transform="exp"``         (H,)
``dt_raw``          (P_s,)  ``dt_transform="softplus"``:   (H,)
                    Δ = softplus(dt_raw)
``C``               (n_dir, H, P_s, 2)                     (n_dir, H, N, 2)
``D``               (H,)  unless ``d_skip=False``            (H,)
``sobolev_beta``    (H,)  only with a learnable exponent   (H,)
==================  =====================================  =======================================

P_s (S5) and N (S4D) are the stored complex modes: half the state size with conjugate symmetry.
n_dir is 2 for bidirectional layers (the directions share Λ, B and Δ, not C). G = ``n_ssm`` is the
number of eigenvalue sets of an S4D layer (default H: one per feature); feature h uses set
h mod G, as in the S4 code's ``repeat(A, 't n -> (v t) n')``, while Δ stays per feature.
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
from freqssm.ssm.discretize import discretize
from freqssm.ssm.kernel import fft_conv, state_fft_conv, two_sided_kernel, vandermonde_kernel
from freqssm.ssm.scan import linear_recurrence
from freqssm.ssm.sobolev import sobolev_filter, sobolev_weight_t
from freqssm.ssm.system import ssm_system

Dtype = Any


def _stack(z: jax.Array) -> jax.Array:
    return jnp.stack([z.real, z.imag], axis=-1)


def _constant(value: Any) -> Callable:
    def init(key: jax.Array, *_: Any) -> jax.Array:
        del key
        return value

    return init


REAL_TRANSFORMS = ("none", "exp")
DT_TRANSFORMS = ("exp", "softplus")
S5_B_INITS = ("fan_in_h", "fan_in_p")
S5_C_INITS = ("fan_in_p", "fan_in_ph")


def _inv_softplus(y: jax.Array) -> jax.Array:
    return y + jnp.log(-jnp.expm1(-y))


class DiagonalSSM(nn.Module):
    """What S5 and S4D share: the diagonal system's settings, its parameters, the Sobolev filter.

    Attributes (the ``model.ssm`` config keys of the same names, except ``lambda_init`` =
    ``init`` and ``beta``, ``beta_learnable``, ``sobolev_c`` = ``sobolev.beta``,
    ``sobolev.learnable``, ``sobolev.c``; :func:`freqssm.model.models.layer_kwargs` maps a
    config to them):
      state_size: the real state size (P for S5, N per feature for S4D; half are stored modes
        with ``conj_sym``).
      lambda_init: "hippo", "s4d_lin" or "s4d_inv".
      alpha: frequency-bias knob 1, multiplies Im Λ at initialization.
      dt_min, dt_max: range of the log-uniform initial step Δ.
      discretization: "zoh" or "bilinear".
      bidirectional: add a backward-in-time pass (its own C).
      mode, scan_impl: how the layer runs (recurrence or convolution; see the layers).
      clip_eigs: keep Re Λ <= -1e-4 in the forward pass, for stability.
      conj_sym: store one mode of each conjugate pair.
      step_rescale: multiplies Δ (e.g. to run at a different sampling rate).
      d_skip: include the feed-through D u (parameter ``D``); without it the layer is the pure
        convolution (the paper's denoising layer, which would otherwise learn D = 1).
      beta, beta_learnable, sobolev_c: frequency-bias knob 2, the Sobolev filter (1 + k/c)^β on
        the SSM path's output spectrum (before the D skip).
      real_transform: "none" (Re Λ trained directly, clipped by ``clip_eigs``) or "exp"
        (Re Λ = -exp(a), a trained; the authors' and S4's parameterization).
      dt_transform: "exp" (Δ = exp(log_dt)) or "softplus" (Δ = softplus(dt_raw), the authors').
      backward_strict: the backward half of a bidirectional layer reads only the inputs strictly
        after t (y_t gets Σ_{s>t} K_b[s-t-1] u_s, the authors'), instead of s >= t.
      real_init, imag_offset, integrator_re: initial-spectrum overrides
        (:func:`freqssm.ssm.init.set_modes`, :func:`~freqssm.ssm.init.s4d_lin`): every mode's
        Re λ, the S4D-Lin frequency offset, and mode 0 as an integrator with this Re λ.
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
    real_transform: str = "none"
    dt_transform: str = "exp"
    backward_strict: bool = False
    real_init: float | None = None
    imag_offset: float = 0.0
    integrator_re: float | None = None
    param_dtype: Dtype = jnp.float32

    def sobolev_active(self) -> bool:
        # A fixed beta = 0 skips the filter entirely, so the layer is bit-for-bit unfiltered.
        return self.beta_learnable or self.beta != 0.0

    def sobolev_exponent(self, H: int, dtype: Dtype) -> jax.Array | float:
        if self.beta_learnable:
            return self.param("sobolev_beta", nn.initializers.constant(self.beta), (H,), dtype)
        return self.beta

    def check_causal(self) -> None:
        """Raise ValueError unless the layer is a causal recurrence (what :meth:`step` runs)."""
        if self.bidirectional:
            raise ValueError("a recurrent step needs model.ssm.bidirectional=False")
        if self.sobolev_active():
            raise ValueError(
                "a recurrent step needs the Sobolev filter off (beta = 0, not learnable): it acts "
                "on the whole output spectrum"
            )

    def trained_system(self) -> dict[str, jax.Array]:
        """The system (:func:`ssm_system`) of the bound layer's parameters, outside ``__call__``."""
        return ssm_system(self.variables["params"], self.step_rescale, self.clip_eigs)

    def initial_state(self, batch: int) -> jax.Array:
        """The zero state before the first step: (B, P_s) for S5, (B, H, N) for S4D, complex."""
        self.check_causal()
        lam = self.trained_system()["Lambda"]
        return jnp.zeros((batch, *lam.shape), lam.dtype)

    def initial_modes(self, blocks: int = 1) -> tuple[np.ndarray, np.ndarray | None]:
        """The initial Λ (P_s,) and the eigenvectors (S5 with HiPPO, else None)."""
        lam, V = ssm_init.eigensystem(
            self.lambda_init, self.state_size, blocks, self.alpha, self.conj_sym, self.imag_offset
        )
        return ssm_init.set_modes(lam, self.real_init, self.integrator_re), V

    def create_system(
        self,
        lam0: np.ndarray,
        dt_shape: tuple[int, ...],
        bc_init: Callable[[jax.Array], tuple[jax.Array, jax.Array]],
        H: int,
        train_b: bool = True,
    ) -> dict[str, jax.Array]:
        """Create the SSM parameters (names per the module docstring) and return the system.

        ``lam0`` is the initial Λ in the layer's stored shape, ``dt_shape`` that of Δ,
        ``bc_init`` a key -> (B̃, C̃) initializer. The creation order is fixed (Λ, B, C, D, Δ) so
        that each parameter draws the same random numbers whatever the other settings.
        """
        dt = self.param_dtype
        if self.real_transform == "exp":
            lam_re = self.param("Lambda_re_log", _constant(jnp.asarray(np.log(-lam0.real), dt)))
            raw = dict(Lambda_re_log=lam_re)
        else:
            raw = dict(Lambda_re=self.param("Lambda_re", _constant(jnp.asarray(lam0.real, dt))))
        raw["Lambda_im"] = self.param("Lambda_im", _constant(jnp.asarray(lam0.imag, dt)))
        if train_b:
            raw["B"] = self.param("B", lambda k: _stack(bc_init(k)[0]))
        raw["C"] = self.param("C", lambda k: _stack(bc_init(k)[1]))
        if self.d_skip:
            raw["D"] = self.param("D", nn.initializers.normal(1.0), (H,), dt)

        def log_dt(k: jax.Array) -> jax.Array:
            return ssm_init.log_dt(k, dt_shape, self.dt_min, self.dt_max, dt)

        if self.dt_transform == "softplus":
            # Δ = softplus(p) with the same log-uniform Δ at init: p = log(expm1(Δ)), stably.
            raw["dt_raw"] = self.param("dt_raw", lambda k: _inv_softplus(jnp.exp(log_dt(k))))
        else:
            raw["log_dt"] = self.param("log_dt", log_dt)
        return ssm_system(raw, self.step_rescale, self.clip_eigs)


class S5(DiagonalSSM):
    """MIMO diagonal SSM layer (Smith et al. 2023): H inputs -> P_s complex modes -> H outputs.

    Attributes as in :class:`DiagonalSSM`, and:
      state_size: P, the real state size (P_s = P/2 stored modes with ``conj_sym``).
      blocks: J, number of HiPPO blocks (``state_size`` divisible by J).
      mode: "scan" (recurrence; ``scan_impl`` picks sequential or parallel) or "conv" (per-mode
        FFT convolution).
      b_init: "fan_in_h" (lecun normal over the H inputs) or "fan_in_p" (fan-in P, E|B|² = 1/P:
        the S5 authors' ``lecun_normal`` B).
      c_init: "fan_in_p" (lecun normal over the P states, S5's ``trunc_standard_normal``) or
        "fan_in_ph" (variance 1/(P·H) per component: S5's ``lecun_normal`` C, its LRA setting).
    """

    lambda_init: str = "hippo"
    mode: str = "scan"
    blocks: int = 1
    b_init: str = "fan_in_h"
    c_init: str = "fan_in_p"

    def system(self, H: int) -> dict[str, jax.Array]:
        """Create the parameters.

        Returns Λ (P_s,), B̃ (P_s, H), C̃ (n_dir, H, P_s), D (H,), Δ (P_s,).
        """
        lam0, V = self.initial_modes(self.blocks)
        n_dir = 2 if self.bidirectional else 1

        def bc_init(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            return ssm_init.s5_BC(
                key, V, lam0.shape[0], H, n_dir, self.param_dtype, self.b_init, self.c_init
            )

        return self.create_system(lam0, lam0.shape, bc_init, H)

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
            xb = self._states(lam_bar, bu, reverse=True)
            xs.append(shift_earlier(xb) if self.backward_strict else xb)
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

    def step(self, state: jax.Array, u_t: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One step of the recurrence, on a bound layer (``apply(..., method="step")``).

        x_t = Λ̄ x_{t-1} + B̄ u_t, y_t = f·Re(C̃ x_t) + D u_t (f = 2 with ``conj_sym``): the same
        output as ``__call__`` at step t. state (B, P_s) complex, u_t (B, H) real -> (state, y_t).
        """
        self.check_causal()
        sys = self.trained_system()
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"], self.discretization)
        x = lam_bar * state + u_t.astype(lam_bar.dtype) @ (gamma[:, None] * sys["B"]).T
        f = 2.0 if self.conj_sym else 1.0
        y = f * (x @ sys["C"][0].T).real
        return x, y.astype(u_t.dtype) + sys["D"] * u_t

    def _states(self, lam_bar: jax.Array, bu: jax.Array, reverse: bool) -> jax.Array:
        if self.mode == "conv":
            return state_fft_conv(lam_bar, bu, reverse)
        if self.mode != "scan":
            raise ValueError(f"S5 mode must be 'scan' or 'conv', got {self.mode!r}")
        fn = functools.partial(linear_recurrence, lam_bar, reverse=reverse, impl=self.scan_impl)
        return jax.vmap(fn)(bu)


class S4D(DiagonalSSM):
    """H independent SISO diagonal SSMs (Gu et al. 2022), run as an FFT convolution.

    Attributes as in :class:`DiagonalSSM`, except ``state_size`` = N is per feature (N/2 stored
    modes with ``conj_sym``), Δ is per feature, and ``mode`` = "conv" (Vandermonde kernel + FFT,
    default) or "scan" (the same system as a recurrence, without the filter). Bidirectional
    layers use a two-sided kernel. Settings of S4D's own:

      n_ssm: G, the number of eigenvalue sets (Λ is (G, N), feature h uses set h mod G; H must
        be divisible by G); None means H, one set per feature. The authors use 1 on most LRA tasks.
      train_b: B is a parameter initialized at 1 (Gu et al.'s S4D); False fixes B = 1 with no
        parameter (the authors': only C is trained).
      c_imag_scale: if > 0, C_n is initialized times |Im λ_n|·c_imag_scale (the authors'
        denoising layer: 1/1000, so a zero-frequency mode starts at C = 0).
      circular: convolve circularly on the length-L FFT grid (no zero padding; the authors'
        waves script) instead of the linear convolution on 2L; the Sobolev weight then acts on
        the L-point grid. Unidirectional conv mode only.

    The Sobolev filter is fused into the convolution as in the authors' code: the product
    rfft(u)·rfft(K) on the 2L grid is weighted by (1 + k/c)^β before the inverse transform, so it
    sees the whole linear convolution (including its tail beyond L) and costs no extra FFT. S5
    instead filters its length-L output zero-padded to 2L; the two agree up to that tail.
    """

    n_ssm: int | None = None
    train_b: bool = True
    c_imag_scale: float = 0.0
    circular: bool = False

    def check_causal(self) -> None:
        super().check_causal()
        if self.circular:
            raise ValueError("a recurrent step needs model.ssm.circular=False (a causal layer)")

    def system(self, H: int) -> dict[str, jax.Array]:
        """Create the parameters; return Λ (H,N), B (H,N), C (n_dir,H,N), D (H,), Δ (H,)."""
        lam0, _ = self.initial_modes()
        G = H if self.n_ssm is None else int(self.n_ssm)
        if G < 1 or H % G:
            raise ValueError(f"n_ssm={self.n_ssm} must divide the number of features H={H}")
        lam0 = np.broadcast_to(lam0, (G, lam0.shape[0]))
        N = lam0.shape[1]
        n_dir = 2 if self.bidirectional else 1

        def bc_init(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            B, C = ssm_init.s4d_BC(key, H, N, n_dir, self.param_dtype)
            if self.c_imag_scale:  # the authors' denoising layer: C_n ∝ |Im λ_n|
                C = C * jnp.asarray(np.abs(lam0[0].imag) * self.c_imag_scale, C.real.dtype)
            return B, C

        return self.create_system(lam0, (H,), bc_init, H, train_b=self.train_b)

    @nn.compact
    def __call__(self, u: jax.Array, train: bool = False) -> jax.Array:
        """u (B, L, H) real -> y (B, L, H) real."""
        del train
        H, L = u.shape[-1], u.shape[-2]
        sys = self.system(H)
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"][:, None], self.discretization)
        b_bar = gamma * sys["B"]  # (H, N)
        beta = self.sobolev_exponent(H, self.param_dtype) if self.sobolev_active() else None
        if self.circular and (self.mode != "conv" or self.bidirectional):
            raise ValueError("circular=True needs mode='conv' and a unidirectional layer")
        if self.mode == "conv":
            cb = sys["C"] * b_bar  # (n_dir, H, N)
            k = vandermonde_kernel(lam_bar, cb, L, self.conj_sym)  # (n_dir, H, L)
            if self.bidirectional:
                k = two_sided_kernel(k[0].T, k[1].T, strict=self.backward_strict)
            else:
                k = k[0].T
            n = L if self.circular else 2 * L
            # (n/2+1, H) as fft_conv documents, built time-last (its transpose is free in XLA)
            weight = None if beta is None else sobolev_weight_t(n, beta, self.sobolev_c).T
            y = fft_conv(u, k.astype(u.dtype), weight, n_fft=n)
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

    def step(self, state: jax.Array, u_t: jax.Array) -> tuple[jax.Array, jax.Array]:
        """One step of the H recurrences, on a bound layer (``apply(..., method="step")``).

        x_t = Λ̄ ⊙ x_{t-1} + B̄ u_t per feature, y_t = f·Re Σ_n C_n x_{t,n} + D u_t: the same
        output as ``__call__`` at step t. state (B, H, N) complex, u_t (B, H) real -> (state, y_t).
        """
        self.check_causal()
        sys = self.trained_system()
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"][:, None], self.discretization)
        x = lam_bar * state + u_t[..., None] * (gamma * sys["B"])
        f = 2.0 if self.conj_sym else 1.0
        y = f * jnp.sum(sys["C"][0] * x, axis=-1).real
        return x, y.astype(u_t.dtype) + sys["D"] * u_t

    def _recurrent(self, lam_bar: jax.Array, b_bar: jax.Array, C: jax.Array, u: jax.Array):
        f = 2.0 if self.conj_sym else 1.0
        bu = u[..., None] * b_bar  # (B, L, H, N)
        y = 0.0
        for d, reverse in enumerate([False, True][: C.shape[0]]):
            fn = functools.partial(linear_recurrence, lam_bar, reverse=reverse, impl=self.scan_impl)
            x = jax.vmap(fn)(bu)
            if reverse and self.backward_strict:
                x = shift_earlier(x)
            y = y + f * jnp.einsum("hn,blhn->blh", C[d], x).real
        return y


def shift_earlier(x: jax.Array) -> jax.Array:
    """x (B, L, ...) -> x' with x'_t = x_{t+1} and x'_{L-1} = 0 (the strictly anticausal readout).

    The reverse recurrence's state x_t holds the inputs s >= t; reading x_{t+1} at t keeps s > t.
    """
    return jnp.concatenate([x[:, 1:], jnp.zeros_like(x[:, :1])], axis=1)
