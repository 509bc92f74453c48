"""Band-limited and stripe noise on image sequences, and how much of it a model lets through.

The denoising evaluation (:mod:`freqssm.analysis.denoise`) corrupts the clean test sequences of
:mod:`freqssm.data.denoise` (``(L, C)`` or ``(B, L, C)``, time on axis -2, ``L = rows * cols``)
and measures the noise energy that survives the trained model. Frequencies are fractions of the
Nyquist frequency: rFFT bin k of a length-L signal sits at ``2k / L``.

Config keys (:data:`DEFAULTS`, part of the denoising task's ``data`` section):

===========  ===========  ================================================================
key          default      meaning
===========  ===========  ================================================================
low_band     (0.0, 0.05)  band of "low" noise, fractions of Nyquist
high_band    (0.5, 1.0)   band of "high" noise, fractions of Nyquist
noise_sigma  0.2          std of each noise component, per channel
noise_seed   None         seed of :func:`corrupt` without a generator (None: ``data.seed``)
===========  ===========  ================================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from freqssm.data.base import options
from freqssm.data.config import DataConfig
from freqssm.settings import Settings, to_dict

NOISE_KINDS = ("low", "high", "both")


@dataclasses.dataclass(frozen=True)
class NoiseOptions(Settings):
    """The evaluation noise's ``data.*`` keys (part of the denoising task's)."""

    PREFIX: ClassVar[str] = "data"

    low_band: tuple[float, float] = (0.0, 0.05)
    """band of "low" noise, fractions of Nyquist"""
    high_band: tuple[float, float] = (0.5, 1.0)
    """band of "high" noise, fractions of Nyquist"""
    noise_sigma: float = 0.2
    """std of each noise component, per channel"""
    noise_seed: int | None = None
    """seed of `corrupt` without a generator; None: data.seed"""


DEFAULTS: dict[str, Any] = to_dict(NoiseOptions())


def noise_options(cfg: DataConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    """The noise keys of ``cfg`` (a DataConfig, a mapping or None) with their defaults;
    ``noise_seed`` resolved to an int (``data.seed`` where it is None, 0 without one)."""
    o = options(cfg, DEFAULTS)
    if o["noise_seed"] is None:
        o["noise_seed"] = options(cfg, {"seed": 0})["seed"]
    o["noise_seed"] = int(o["noise_seed"])
    o["low_band"] = tuple(float(b) for b in o["low_band"])
    o["high_band"] = tuple(float(b) for b in o["high_band"])
    return o


def band_mask(seq_len: int, band: Sequence[float]) -> np.ndarray:
    """Which rFFT bins of a length-``seq_len`` signal lie in ``band``.

    Bin k has frequency ``2k / seq_len`` as a fraction of Nyquist; it is in the band if
    ``band[0] <= 2k/seq_len <= band[1]``. The DC bin (k = 0) is never included, so band noise has
    zero mean.

    Returns:
      (seq_len // 2 + 1,) bool.
    """
    lo, hi = (float(b) for b in band)
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(
            f"band {tuple(band)} must satisfy 0 <= lo < hi <= 1 (fractions of Nyquist)"
        )
    k = np.arange(seq_len // 2 + 1)
    f = 2.0 * k / seq_len
    eps = 1e-12
    return (f >= lo - eps) & (f <= hi + eps) & (k > 0)


def band_noise(
    rng: np.random.Generator,
    shape: Sequence[int],
    band: Sequence[float],
    sigma: float,
) -> np.ndarray:
    """Gaussian noise whose spectrum (along the time axis) lies only inside ``band``.

    Built in the frequency domain: i.i.d. complex normal rFFT coefficients on the bins selected by
    :func:`band_mask`, zero elsewhere, inverse rFFT, then each channel (of each example) rescaled
    so that its standard deviation over time is exactly ``sigma``.

    Args:
      rng: numpy Generator.
      shape: (L, C) or (B, L, C); time is axis -2.
      band: (f_lo, f_hi), fractions of the Nyquist frequency, 0 <= f_lo < f_hi <= 1.
      sigma: target std per channel.

    Returns:
      float32 array of ``shape``.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"shape must be (L, C) or (B, L, C), got {shape}")
    seq_len = shape[-2]
    mask = band_mask(seq_len, band)
    if not mask.any():
        raise ValueError(f"band {tuple(band)} contains no rFFT bin for length {seq_len}")
    spec_shape = (*shape[:-2], seq_len // 2 + 1, shape[-1])
    coef = rng.standard_normal(spec_shape) + 1j * rng.standard_normal(spec_shape)
    coef *= mask[:, None]
    noise = np.fft.irfft(coef, n=seq_len, axis=-2)
    std = noise.std(axis=-2, keepdims=True)
    noise *= sigma / np.where(std > 0, std, 1.0)
    return noise.astype(np.float32)


def corrupt(
    seqs: np.ndarray,
    kind: str,
    cfg: DataConfig | Mapping[str, Any] | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Add band-limited noise to clean sequences.

    Args:
      seqs: (L, C) or (B, L, C) clean sequences.
      kind: "low" (noise in ``low_band``), "high" (in ``high_band``) or "both" (independent low
        and high noise, each of std ``noise_sigma``, so the total std is sqrt(2) sigma).
      cfg: the run's DataConfig, or a mapping of the keys of :data:`DEFAULTS`; None: all
        defaults.
      rng: generator for the noise; default ``default_rng(noise_seed)``.

    Returns:
      float32 array shaped like ``seqs``: seqs + noise (not clipped to [-1, 1]).
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind {kind!r} is not one of {NOISE_KINDS}")
    seqs = np.asarray(seqs, dtype=np.float32)
    o = noise_options(cfg)
    sigma = float(o["noise_sigma"])
    if rng is None:
        rng = np.random.default_rng(o["noise_seed"])
    bands = []
    if kind in ("low", "both"):
        bands.append(tuple(o["low_band"]))
    if kind in ("high", "both"):
        bands.append(tuple(o["high_band"]))
    noisy = seqs.copy()
    for band in bands:
        noisy += band_noise(rng, seqs.shape, band, sigma)
    return noisy


STRIPE_FREQ = 2.99433  # rad per pixel: the authors' stripe frequency (0.953 of Nyquist)
STRIPE_KINDS = ("vertical", "horizontal")


def stripes(
    shape: Sequence[int],
    grid: Sequence[int],
    orientation: str,
    rng: np.random.Generator,
    freq: float = STRIPE_FREQ,
) -> np.ndarray:
    """The authors' stripe noise: a_c · cos(freq · column) or a_c · cos(freq · row).

    Each image and channel gets its own amplitude a_c ~ U(0, 1). "vertical" stripes vary along
    the columns, i.e. with every sample of the sequence (freq rad/sample: high frequency);
    "horizontal" stripes vary along the rows, so along the sequence they are constant for a row of
    ``cols`` samples and change from row to row (low frequency, about freq/cols rad/sample).

    Args:
      shape: (L, C) or (B, L, C) with L = rows * cols.
      grid: (rows, cols) of the image the sequence was read from (row-major).
      orientation: "vertical" or "horizontal".
    Returns:
      float32 noise of ``shape``.
    """
    if orientation not in STRIPE_KINDS:
        raise ValueError(f"stripe orientation {orientation!r} is not one of {STRIPE_KINDS}")
    shape = tuple(int(n) for n in shape)
    rows, cols = (int(g) for g in grid)
    if shape[-2] != rows * cols:
        raise ValueError(f"sequence length {shape[-2]} is not rows x cols = {rows} x {cols}")
    t = np.arange(rows * cols)
    index = t % cols if orientation == "vertical" else t // cols
    wave = np.cos(freq * index)[:, None]  # (L, 1)
    amp = rng.uniform(0.0, 1.0, (*shape[:-2], 1, shape[-1]))
    return (amp * wave).astype(np.float32)


def _sq_norm(x: Any) -> float:
    return float(np.sum(np.square(np.asarray(x, dtype=np.float64))))


def survival(filter_fn: Callable[[np.ndarray], Any], noise: np.ndarray) -> float:
    """Fraction of noise energy a *linear* map lets through: ||f(n)||^2 / ||n||^2.

    Args:
      filter_fn: a linear map on arrays shaped like ``noise`` (numpy or JAX output).
      noise: (L, C) or (B, L, C).
    """
    return _sq_norm(filter_fn(noise)) / _sq_norm(noise)


def noise_survival(
    apply_fn: Callable[[np.ndarray], Any], clean: np.ndarray, noisy: np.ndarray
) -> float:
    """Noise energy surviving a (possibly affine or nonlinear) map f.

    ``||f(noisy) - f(clean)||^2 / ||noisy - clean||^2``; equals :func:`survival` for linear f.

    Args:
      apply_fn: the model / filter, applied to (B, L, C) or (L, C) arrays.
      clean, noisy: same shape.
    """
    num = np.asarray(apply_fn(noisy), np.float64) - np.asarray(apply_fn(clean), np.float64)
    den = np.asarray(noisy, np.float64) - np.asarray(clean, np.float64)
    return _sq_norm(num) / _sq_norm(den)
