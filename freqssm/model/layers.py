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

from freqssm.model.config import SSMConfig
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


def _inv_softplus(y: jax.Array) -> jax.Array:
    return y + jnp.log(-jnp.expm1(-y))


class DiagonalSSM(nn.Module):
    """What S5 and S4D share: the diagonal system's settings, its parameters, the Sobolev filter.

    Attributes:
      config: every setting of the layer (:class:`freqssm.model.config.SSMConfig`, the
        ``model.ssm`` section of a run's config); ``config.kind`` is ignored here (the class is
        the kind; :func:`ssm_layer` picks it from the config).
      param_dtype: the parameters' dtype (float64 in the reference tests).
    """

    config: SSMConfig = SSMConfig()
    param_dtype: Dtype = jnp.float32

    def sobolev_exponent(self, H: int, dtype: Dtype) -> jax.Array | float:
        sob = self.config.sobolev
        if sob.learnable:
            return self.param("sobolev_beta", nn.initializers.constant(sob.beta), (H,), dtype)
        return sob.beta

    def check_causal(self) -> None:
        """Raise ValueError unless the layer is a causal recurrence (what :meth:`step` runs)."""
        if self.config.bidirectional:
            raise ValueError("a recurrent step needs model.ssm.bidirectional=False")
        if self.config.sobolev.active:
            raise ValueError(
                "a recurrent step needs the Sobolev filter off (beta = 0, not learnable): it acts "
                "on the whole output spectrum"
            )

    def trained_system(self) -> dict[str, jax.Array]:
        """The system (:func:`ssm_system`) of the bound layer's parameters, outside ``__call__``."""
        return ssm_system(self.variables["params"], self.config.step_rescale, self.config.clip_eigs)

    def initial_state(self, batch: int) -> jax.Array:
        """The zero state before the first step: (B, P_s) for S5, (B, H, N) for S4D, complex."""
        self.check_causal()
        lam = self.trained_system()["Lambda"]
        return jnp.zeros((batch, *lam.shape), lam.dtype)

    def initial_modes(self, blocks: int = 1) -> tuple[np.ndarray, np.ndarray | None]:
        """The initial Λ (P_s,) and the eigenvectors (S5 with HiPPO, else None)."""
        c = self.config
        lam, V = ssm_init.eigensystem(
            c.init, c.state_size, blocks, c.alpha, c.conj_sym, c.imag_offset
        )
        return ssm_init.set_modes(lam, c.real_init, c.integrator_re), V

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
        dt, c = self.param_dtype, self.config
        if c.real_transform == "exp":
            lam_re = self.param("Lambda_re_log", _constant(jnp.asarray(np.log(-lam0.real), dt)))
            raw = dict(Lambda_re_log=lam_re)
        else:
            raw = dict(Lambda_re=self.param("Lambda_re", _constant(jnp.asarray(lam0.real, dt))))
        raw["Lambda_im"] = self.param("Lambda_im", _constant(jnp.asarray(lam0.imag, dt)))
        if train_b:
            raw["B"] = self.param("B", lambda k: _stack(bc_init(k)[0]))
        raw["C"] = self.param("C", lambda k: _stack(bc_init(k)[1]))
        if c.d_skip:
            raw["D"] = self.param("D", nn.initializers.normal(1.0), (H,), dt)

        def log_dt(k: jax.Array) -> jax.Array:
            return ssm_init.log_dt(k, dt_shape, c.dt_min, c.dt_max, dt)

        if c.dt_transform == "softplus":
            # Δ = softplus(p) with the same log-uniform Δ at init: p = log(expm1(Δ)), stably.
            raw["dt_raw"] = self.param("dt_raw", lambda k: _inv_softplus(jnp.exp(log_dt(k))))
        else:
            raw["log_dt"] = self.param("log_dt", log_dt)
        return ssm_system(raw, c.step_rescale, c.clip_eigs)


class S5(DiagonalSSM):
    """MIMO diagonal SSM layer (Smith et al. 2023): H inputs -> P_s complex modes -> H outputs.

    Settings of ``config`` that only S5 reads: ``state_size`` = P, the real state size (P_s =
    P/2 stored modes with ``conj_sym``); ``blocks`` = J HiPPO blocks; ``mode`` "scan"
    (recurrence; ``scan_impl`` picks sequential or parallel) or "conv" (per-mode FFT
    convolution); ``b_init`` and ``c_init`` (:class:`freqssm.model.config.SSMConfig`).
    """

    def system(self, H: int) -> dict[str, jax.Array]:
        """Create the parameters.

        Returns Λ (P_s,), B̃ (P_s, H), C̃ (n_dir, H, P_s), D (H,), Δ (P_s,).
        """
        c = self.config
        lam0, V = self.initial_modes(c.blocks)
        n_dir = 2 if c.bidirectional else 1

        def bc_init(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            return ssm_init.s5_BC(
                key, V, lam0.shape[0], H, n_dir, self.param_dtype, c.b_init, c.c_init
            )

        return self.create_system(lam0, lam0.shape, bc_init, H)

    @nn.compact
    def __call__(self, u: jax.Array, train: bool = False) -> jax.Array:
        """u (B, L, H) real -> y (B, L, H) real."""
        del train
        c = self.config
        H = u.shape[-1]
        sys = self.system(H)
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"], c.discretization)
        B_bar = gamma[:, None] * sys["B"]  # (P_s, H)
        P_s = lam_bar.shape[0]
        # Input projection as one real matmul: [Re B̄u, Im B̄u] = u @ [Re B̄; Im B̄]ᵀ.
        w_in = jnp.concatenate([B_bar.real, B_bar.imag], axis=0).T  # (H, 2 P_s)
        bu_ri = u @ w_in.astype(u.dtype)
        bu = jax.lax.complex(bu_ri[..., :P_s], bu_ri[..., P_s:])  # (B, L, P_s)

        xs = [self._states(lam_bar, bu, reverse=False)]
        if c.bidirectional:
            xb = self._states(lam_bar, bu, reverse=True)
            xs.append(shift_earlier(xb) if c.backward_strict else xb)
        # Output projection y = f·Re(C̃x) = [Re x, Im x] @ f·[Re C̃, -Im C̃]ᵀ, summed over
        # directions, again one real matmul.
        f = 2.0 if c.conj_sym else 1.0
        C = sys["C"]  # (n_dir, H, P_s)
        w_out = (
            f
            * jnp.concatenate(
                [jnp.concatenate([C[d].real, -C[d].imag], axis=1) for d in range(len(xs))], axis=1
            ).T
        )  # (n_dir * 2 P_s, H)
        x_ri = jnp.concatenate([z for x in xs for z in (x.real, x.imag)], axis=-1)
        y = x_ri @ w_out.astype(x_ri.dtype)
        if c.sobolev.active:
            beta = self.sobolev_exponent(H, self.param_dtype)
            y = sobolev_filter(y, beta, c.sobolev.c)
        return y + sys["D"] * u

    def step_system(self) -> dict[str, jax.Array]:
        """The discrete system :meth:`step` runs, computed once from the bound parameters:
        Λ̄ (P_s,), B̄ (P_s, H), f·C̃ (H, P_s) of the forward direction, D (H,)."""
        self.check_causal()
        c = self.config
        sys = self.trained_system()
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"], c.discretization)
        f = 2.0 if c.conj_sym else 1.0
        return {"lam_bar": lam_bar, "B_bar": gamma[:, None] * sys["B"], "C": f * sys["C"][0],
                "D": sys["D"]}  # fmt: skip

    @staticmethod
    def step(
        system: dict[str, jax.Array], state: jax.Array, u_t: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        """One step of the recurrence of a :meth:`step_system`.

        x_t = Λ̄ x_{t-1} + B̄ u_t, y_t = f·Re(C̃ x_t) + D u_t (f = 2 with ``conj_sym``): the same
        output as ``__call__`` at step t. state (B, P_s) complex, u_t (B, H) real -> (state, y_t).
        """
        x = system["lam_bar"] * state + u_t.astype(state.dtype) @ system["B_bar"].T
        y = (x @ system["C"].T).real
        return x, y.astype(u_t.dtype) + system["D"] * u_t

    def _states(self, lam_bar: jax.Array, bu: jax.Array, reverse: bool) -> jax.Array:
        if self.config.layer_mode == "conv":
            return state_fft_conv(lam_bar, bu, reverse)
        fn = functools.partial(
            linear_recurrence, lam_bar, reverse=reverse, impl=self.config.scan_impl
        )
        return jax.vmap(fn)(bu)


class S4D(DiagonalSSM):
    """H independent SISO diagonal SSMs (Gu et al. 2022), run as an FFT convolution.

    ``config.state_size`` = N is per feature (N/2 stored modes with ``conj_sym``), Δ is per
    feature, and ``mode`` is "conv" (Vandermonde kernel + FFT, "auto") or "scan" (the same system
    as a recurrence, without the filter). Bidirectional layers use a two-sided kernel. Settings
    only S4D reads: ``n_ssm`` (G eigenvalue sets, feature h uses set h mod G; the authors use 1
    on most LRA tasks), ``train_b`` (False: B = 1 fixed, the authors'), ``c_imag_scale`` (C_n
    starts times |Im λ_n|·scale, the authors' denoising layer) and ``circular`` (convolve on the
    length-L grid, the authors' waves script; the Sobolev weight then acts on that grid).

    The Sobolev filter is fused into the convolution as in the authors' code: the product
    rfft(u)·rfft(K) on the 2L grid is weighted by (1 + k/c)^β before the inverse transform, so it
    sees the whole linear convolution (including its tail beyond L) and costs no extra FFT. S5
    instead filters its length-L output zero-padded to 2L; the two agree up to that tail.
    """

    def check_causal(self) -> None:
        super().check_causal()
        if self.config.circular:
            raise ValueError("a recurrent step needs model.ssm.circular=False (a causal layer)")

    def system(self, H: int) -> dict[str, jax.Array]:
        """Create the parameters; return Λ (H,N), B (H,N), C (n_dir,H,N), D (H,), Δ (H,)."""
        c = self.config
        lam0, _ = self.initial_modes()
        G = H if c.n_ssm is None else int(c.n_ssm)
        if G < 1 or H % G:  # the features H are known only here (model.d_model is checked)
            raise ValueError(f"n_ssm={c.n_ssm} must divide the number of features H={H}")
        lam0 = np.broadcast_to(lam0, (G, lam0.shape[0]))
        N = lam0.shape[1]
        n_dir = 2 if c.bidirectional else 1

        def bc_init(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            B, C = ssm_init.s4d_BC(key, H, N, n_dir, self.param_dtype)
            if c.c_imag_scale:  # the authors' denoising layer: C_n ∝ |Im λ_n|
                C = C * jnp.asarray(np.abs(lam0[0].imag) * c.c_imag_scale, C.real.dtype)
            return B, C

        return self.create_system(lam0, (H,), bc_init, H, train_b=c.train_b)

    @nn.compact
    def __call__(self, u: jax.Array, train: bool = False) -> jax.Array:
        """u (B, L, H) real -> y (B, L, H) real."""
        del train
        c = self.config
        H, L = u.shape[-1], u.shape[-2]
        sys = self.system(H)
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"][:, None], c.discretization)
        b_bar = gamma * sys["B"]  # (H, N)
        if c.layer_mode == "conv":
            cb = sys["C"] * b_bar  # (n_dir, H, N)
            k = vandermonde_kernel(lam_bar, cb, L, c.conj_sym)  # (n_dir, H, L)
            if c.bidirectional:
                k = two_sided_kernel(k[0].T, k[1].T, strict=c.backward_strict)
            else:
                k = k[0].T
            n = L if c.circular else 2 * L
            weight = None
            if c.sobolev.active:
                beta = self.sobolev_exponent(H, self.param_dtype)
                # (n/2+1, H) as fft_conv documents, built time-last (its transpose is free in XLA)
                weight = sobolev_weight_t(n, beta, c.sobolev.c).T
            y = fft_conv(u, k.astype(u.dtype), weight, n_fft=n)
        else:  # "scan" (SSMConfig refuses the Sobolev filter with it)
            y = self._recurrent(lam_bar, b_bar, sys["C"], u)
        return y + sys["D"] * u

    def step_system(self) -> dict[str, jax.Array]:
        """The discrete system :meth:`step` runs, computed once from the bound parameters:
        Λ̄ (H, N), B̄ (H, N), f·C (H, N) of the forward direction, D (H,)."""
        self.check_causal()
        c = self.config
        sys = self.trained_system()
        lam_bar, gamma = discretize(sys["Lambda"], sys["dt"][:, None], c.discretization)
        f = 2.0 if c.conj_sym else 1.0
        return {"lam_bar": lam_bar, "B_bar": gamma * sys["B"], "C": f * sys["C"][0],
                "D": sys["D"]}  # fmt: skip

    @staticmethod
    def step(
        system: dict[str, jax.Array], state: jax.Array, u_t: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        """One step of the H recurrences of a :meth:`step_system`.

        x_t = Λ̄ ⊙ x_{t-1} + B̄ u_t per feature, y_t = f·Re Σ_n C_n x_{t,n} + D u_t: the same
        output as ``__call__`` at step t. state (B, H, N) complex, u_t (B, H) real -> (state, y_t).
        """
        x = system["lam_bar"] * state + u_t[..., None] * system["B_bar"]
        y = jnp.sum(system["C"] * x, axis=-1).real
        return x, y.astype(u_t.dtype) + system["D"] * u_t

    def _recurrent(self, lam_bar: jax.Array, b_bar: jax.Array, C: jax.Array, u: jax.Array):
        c = self.config
        f = 2.0 if c.conj_sym else 1.0
        bu = u[..., None] * b_bar  # (B, L, H, N)
        y = 0.0
        for d, reverse in enumerate([False, True][: C.shape[0]]):
            fn = functools.partial(linear_recurrence, lam_bar, reverse=reverse, impl=c.scan_impl)
            x = jax.vmap(fn)(bu)
            if reverse and c.backward_strict:
                x = shift_earlier(x)
            y = y + f * jnp.einsum("hn,blhn->blh", C[d], x).real
        return y


def ssm_layer(config: SSMConfig, **module_kw: Any) -> DiagonalSSM:
    """The S5 or S4D layer of ``config.kind`` (``module_kw``: ``name``, ``param_dtype``, ...)."""
    cls = S5 if config.kind == "s5" else S4D
    return cls(config, **module_kw)


def shift_earlier(x: jax.Array) -> jax.Array:
    """x (B, L, ...) -> x' with x'_t = x_{t+1} and x'_{L-1} = 0 (the strictly anticausal readout).

    The reverse recurrence's state x_t holds the inputs s >= t; reading x_{t+1} at t keeps s > t.
    """
    return jnp.concatenate([x[:, 1:], jnp.zeros_like(x[:, :1])], axis=1)
