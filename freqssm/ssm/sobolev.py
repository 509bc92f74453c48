"""The Sobolev-norm filter (paper Sec. 5, "tuning frequency bias by a Sobolev filter").

Training the SSM under the H^β norm ‖G‖²_{H^β} = ∫ (1 + |ω|)^{2β} |G(iω)|² dω is implemented, as
in the authors' code, by filtering the SSM path in the forward pass: the spectrum of its output on
the rfft grid of the 2L-padded signal is multiplied by (1 + k/c)^β at bin k = 0..n/2, then inverted
and truncated to L. β > 0 amplifies high frequencies (and their gradients), β < 0 damps them.
``c`` defaults to the FFT length n (the authors' LRA code; their waves/denoising scripts use 1e4).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np


def sobolev_gain(k: Any, beta: Any, c: float, xp: Any = jnp) -> Any:
    """(1 + k/c)^β: the one formula of the filter's weight, at bin positions ``k`` (F,) of the
    rfft grid (fractional positions give the gain between bins) -> (F, 1) for a scalar β,
    (F, H) for per-feature β (H,). ``xp``: ``jax.numpy`` (in the layers) or ``numpy``
    (float64 analysis)."""
    k = xp.reshape(xp.asarray(k), (-1, 1))
    return (1.0 + k / c) ** xp.reshape(xp.asarray(beta), (1, -1))


@dataclasses.dataclass(frozen=True)
class SobolevFilter:
    """The filter of a layer on an ``n_fft``-point grid: exponent ``beta`` (a float, or the
    learned (H,) exponents) and scale ``c`` (None: ``n_fft``, the authors' LRA choice)."""

    beta: Any
    n_fft: int
    c: float | None = None

    @property
    def scale(self) -> float:
        return float(self.n_fft) if self.c is None else float(self.c)

    def weight(self) -> jnp.ndarray:
        """(n_fft//2 + 1, 1 or H) at the rfft bins k = 0..n_fft/2."""
        return sobolev_gain(jnp.arange(self.n_fft // 2 + 1), self.beta, self.scale)

    def gain_at(self, theta: Any) -> np.ndarray:
        """The gain at discrete frequencies θ (radians per sample), float64: θ sits at bin
        k = θ·n/(2π), so at θ = 2πk/n this is :meth:`weight`'s row k. (F, 1 or H)."""
        k = np.asarray(theta, np.float64) * self.n_fft / (2 * np.pi)
        return sobolev_gain(k, np.asarray(self.beta, np.float64), self.scale, np)


def sobolev_weight(n_fft: int, beta: jnp.ndarray | float, c: float | None = None) -> jnp.ndarray:
    """(1 + k/c)^β for the rfft bins k = 0..n_fft/2 (:meth:`SobolevFilter.weight`).

    Args:
      n_fft: FFT length n.
      beta: scalar, or (H,) per-feature exponents.
      c: frequency scale; None means n_fft.
    Returns:
      (n_fft//2 + 1, 1) for a scalar beta, (n_fft//2 + 1, H) for per-feature beta.
    """
    return SobolevFilter(beta, n_fft, c).weight()


def sobolev_weight_t(n_fft: int, beta: jnp.ndarray | float, c: float | None = None) -> jnp.ndarray:
    """:func:`sobolev_weight` transposed: (1 or H, n_fft//2 + 1), the time-last layout of the FFT
    paths (features before frequency bins)."""
    return sobolev_weight(n_fft, beta, c).T


def sobolev_filter(
    y: jnp.ndarray, beta: jnp.ndarray | float, c: float | None = None, n_fft: int | None = None
) -> jnp.ndarray:
    """Filter ``y`` (..., L, H) along time: rfft(n) · (1 + k/c)^β, irfft, keep the first L samples.

    ``n_fft`` defaults to 2L (zero padding, as in the FFT convolution). With ``n_fft = L`` and a
    signal that is periodic on the grid, a sinusoid at bin k is scaled by exactly (1 + k/c)^β.
    """
    L = y.shape[-2]
    n = 2 * L if n_fft is None else n_fft
    # Transform along the last axis of (..., H, L) with the weight built as (H, n/2+1): XLA's CPU
    # FFT wants the transformed axis minor-most, and in this layout the exponent's gradient
    # (a reduction over the batch) runs over contiguous slices (measured ~10% faster fwd+bwd).
    spec = jnp.fft.rfft(jnp.swapaxes(y, -1, -2), n=n) * sobolev_weight_t(n, beta, c)
    return jnp.swapaxes(jnp.fft.irfft(spec, n=n)[..., :L], -1, -2).astype(y.dtype)
