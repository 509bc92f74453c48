"""The synthetic waves task: regress the amplitudes of a low, a moderate and a high frequency wave.

Each input is a superposition of K (default 3) sinusoids sampled at L points (synthesized per
batch, so long sequences cost no memory),

    u_j = sum_k a_k sin(2 pi f_k j / L + phi_k),    j = 0 .. L-1,

with amplitudes ``a_k ~ U(amp_low, amp_high)`` and phases ``phi_k ~ U(0, 2 pi)`` drawn independently
per example. ``f_k`` is measured in *cycles per sequence*, i.e. it is the rFFT bin of the wave, and
must satisfy ``0 < f_k < L/2`` (the Nyquist frequency of L samples is L/2 cycles per sequence).
Integer ``f_k`` make every wave periodic on the window, so its spectrum is a single spike at bin
``f_k`` and the amplitudes are exactly recoverable by least squares.

The target is the amplitude vector ``(a_1, .., a_K)`` (float32, shape (B, K)), ordered by increasing
frequency. A model with a low-frequency bias learns ``a_low`` well and ``a_high`` poorly; see
:func:`per_wave_error` for the per-wave metric.

Default frequencies (``frequencies=None``) are the fractions ``(1/128, 1/8, 25/32)`` of Nyquist,
rounded to integer bins: for the default L = 1024 (Nyquist 512) they are **(4, 64, 400)**, i.e. a
wave with 4 cycles per sequence (low), 64 (moderate) and 400 (high, 78% of Nyquist).

Config keys (:data:`DEFAULTS`):

=============  ========  ===============================================================
key            default   meaning
=============  ========  ===============================================================
seq_len        1024      L, samples per sequence
frequencies    None      cycles per sequence, increasing; None -> the defaults above
amp_low        0.0       lower end of the amplitude distribution
amp_high       1.0       upper end of the amplitude distribution
noise          0.0       std of i.i.d. Gaussian noise added to the inputs (not the targets)
phase          "random"  "random": phases U(0, 2π); "zero": zero-phase cosines (the authors')
train_grid     None      amplitude levels: the training set is every combination of them for
                         the K waves (the authors': 0.1, ..., 1.0, 10^4 examples); n_train is
                         then ignored
n_train        4096      examples per split ...
n_val          512
n_test         512
seed           0         splits use the independent streams default_rng([seed, 0 | 1 | 2])
=============  ========  ===============================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from freqssm.data.base import Dataset, Meta, options
from freqssm.data.config import DataConfig
from freqssm.errors import DataError
from freqssm.settings import Settings, to_dict

DEFAULT_NYQUIST_FRACTIONS = (1 / 128, 1 / 8, 25 / 32)
WAVE_NAMES = ("low", "moderate", "high")
PHASES = ("random", "zero")
_SPLIT_STREAM = {"train": 0, "val": 1, "test": 2}


@dataclasses.dataclass(frozen=True)
class Options(Settings):
    """The waves task's ``data.*`` keys (the loader checks their values against each other)."""

    PREFIX: ClassVar[str] = "data"

    seq_len: int = 1024
    """L, samples per sequence"""
    frequencies: tuple[float, ...] | None = None
    """cycles per sequence, increasing; None: 4, 64 and 400 at L = 1024 (scaled with L)"""
    amp_low: float = 0.0
    """lower end of the amplitude distribution"""
    amp_high: float = 1.0
    """upper end of the amplitude distribution"""
    noise: float = 0.0
    """std of i.i.d. Gaussian noise added to the inputs (not the targets)"""
    phase: str = "random"
    """"random": phases U(0, 2π); "zero": zero-phase cosines (the authors')"""
    train_grid: tuple[float, ...] | None = None
    """amplitude levels: the training set is every combination of them (the authors': 0.1 ...
    1.0); n_train is then ignored"""
    n_train: int = 4096
    """training examples"""
    n_val: int = 512
    """validation examples"""
    n_test: int = 512
    """test examples"""
    seed: int = 0
    """the splits use the streams default_rng([seed, 0 | 1 | 2])"""


DEFAULTS: dict[str, Any] = to_dict(Options())


def default_frequencies(seq_len: int) -> tuple[int, ...]:
    """The default (low, moderate, high) frequencies in cycles per sequence for length ``seq_len``.

    ``(1/128, 1/8, 25/32)`` of the Nyquist frequency ``seq_len / 2``, rounded to integers:
    (4, 64, 400) for ``seq_len = 1024``.
    """
    nyq = seq_len / 2
    freqs = tuple(max(1, round(nyq * r)) for r in DEFAULT_NYQUIST_FRACTIONS)
    if len(set(freqs)) != len(freqs) or freqs[-1] >= nyq:
        raise DataError(
            f"seq_len={seq_len} is too short for the default frequencies; "
            "set data.frequencies explicitly (or use seq_len >= 16)"
        )
    return freqs


def wave_names(n: int) -> list[str]:
    """Names of ``n`` waves: low/moderate/high for three, ``f0 .. f{n-1}`` otherwise."""
    return list(WAVE_NAMES) if n == 3 else [f"f{k}" for k in range(n)]


def _check_frequencies(freqs: Sequence[float], seq_len: int) -> np.ndarray:
    f = np.asarray(freqs, dtype=np.float64)
    if f.ndim != 1 or len(f) == 0:
        raise DataError(f"data.frequencies must be a non-empty list of numbers, got {freqs!r}")
    if np.any(f <= 0) or np.any(f >= seq_len / 2):
        raise DataError(
            f"data.frequencies={list(freqs)} must lie strictly between 0 and the Nyquist "
            f"frequency seq_len/2 = {seq_len / 2} (cycles per sequence)"
        )
    if np.any(np.diff(f) <= 0):
        raise DataError(f"data.frequencies={list(freqs)} must be strictly increasing")
    return f


@dataclasses.dataclass
class WaveSource:
    """Examples synthesized on :meth:`get` from their amplitudes and phases (no stored signals).

    Example i is u_j = Σ_k amps[i, k] sin(2π f_k j / L + phases[i, k]) (+ noise drawn with
    ``default_rng([noise_seed, i])`` when ``noise`` > 0); a long sequence costs memory only while
    its batch is built.
    """

    amps: np.ndarray  # (n, K)
    phases: np.ndarray  # (n, K)
    frequencies: np.ndarray  # (K,) cycles per sequence
    seq_len: int
    noise: float = 0.0
    noise_seed: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.amps)

    def get(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        t = np.arange(self.seq_len, dtype=np.float64) / self.seq_len
        u = np.zeros((len(idx), self.seq_len), dtype=np.float64)
        for k, f in enumerate(self.frequencies):  # one (B, L) buffer
            u += self.amps[idx, k : k + 1] * np.sin(
                2 * np.pi * f * t[None, :] + self.phases[idx, k : k + 1]
            )
        if self.noise > 0:
            for r, i in enumerate(idx):
                rng = np.random.default_rng([*self.noise_seed, int(i)])
                u[r] += self.noise * rng.standard_normal(self.seq_len)
        return {
            "inputs": u[..., None].astype(np.float32),
            "targets": self.amps[idx].astype(np.float32),
        }


def grid_amplitudes(levels: Sequence[float], k: int) -> np.ndarray:
    """Every combination of ``levels`` for ``k`` waves: (len(levels)**k, k) float64."""
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim != 1 or len(lv) == 0:
        raise DataError(f"data.train_grid must be a non-empty list of amplitudes, got {levels!r}")
    return np.stack(np.meshgrid(*([lv] * k), indexing="ij"), axis=-1).reshape(-1, k)


def build(cfg: DataConfig) -> Dataset:
    """Build the waves task from the ``data`` ConfigDict (keys in the module docstring).

    Splits: inputs (n, L, 1) float32, targets (n, K) float32 amplitudes ordered low -> high.
    """
    o = options(cfg, DEFAULTS)
    seq_len = int(o["seq_len"])
    freqs = o["frequencies"]
    freqs = default_frequencies(seq_len) if freqs is None else tuple(freqs)
    f = _check_frequencies(freqs, seq_len)
    amp_low, amp_high = float(o["amp_low"]), float(o["amp_high"])
    if not amp_high > amp_low:
        raise DataError(f"data.amp_high={amp_high} must exceed data.amp_low={amp_low}")
    noise, seed, phase = float(o["noise"]), int(o["seed"]), str(o["phase"])
    if phase not in PHASES:
        raise DataError(f"data.phase={phase!r} must be one of {PHASES}")
    train_grid = o["train_grid"]
    sizes = {split: int(o[f"n_{split}"]) for split in _SPLIT_STREAM}
    splits = {}
    for name, n in sizes.items():
        rng = np.random.default_rng([seed, _SPLIT_STREAM[name]])
        if name == "train" and train_grid is not None:
            amps = grid_amplitudes(train_grid, len(f))
        else:
            amps = rng.uniform(amp_low, amp_high, size=(n, len(f)))
        if phase == "random":
            phases = rng.uniform(0.0, 2 * np.pi, size=amps.shape)
        else:  # zero-phase cosines: cos(x) = sin(x + π/2)
            phases = np.full(amps.shape, np.pi / 2)
        splits[name] = WaveSource(amps, phases, f, seq_len, noise, (seed, _SPLIT_STREAM[name]))
    names = wave_names(len(freqs))
    meta = Meta(
        seq_len=seq_len,
        input_kind="real",
        in_features=1,
        output_kind="regression",
        n_outputs=len(freqs),
        extra={
            "frequencies": [float(x) for x in freqs],
            "names": names,
            "amp_range": [amp_low, amp_high],
            "noise": noise,
            "phase": phase,
            "train_grid": None if train_grid is None else [float(a) for a in train_grid],
        },
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


def per_wave_error(
    pred: Any,
    target: Any,
    names: Sequence[str] | None = None,
    mask: Any = None,
) -> dict[str, float]:
    """Per-wave errors of predicted amplitudes.

    Args:
      pred, target: (B, K) arrays (numpy or JAX), column k is wave k.
      names: K wave names; default low/moderate/high for K = 3, else f0..f{K-1}.
      mask: optional (B,) weights (e.g. the eval batch ``mask``); rows with 0 are ignored.

    Returns:
      ``{name: mse}`` for every wave, where mse = mean_b (pred[b,k] - target[b,k])^2, plus
      ``{name + "_rel": ||pred[:,k] - target[:,k]||_2 / ||target[:,k]||_2}`` (relative L2 error).
    """
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 2:
        raise ValueError(f"pred {p.shape} and target {t.shape} must both be (B, K)")
    names = wave_names(p.shape[1]) if names is None else list(names)
    if len(names) != p.shape[1]:
        raise ValueError(f"{len(names)} names for {p.shape[1]} waves")
    w = np.ones(p.shape[0]) if mask is None else np.asarray(mask, dtype=np.float64).reshape(-1)
    sq_err = (w[:, None] * (p - t) ** 2).sum(0)
    sq_tgt = (w[:, None] * t**2).sum(0)
    out: dict[str, float] = {}
    for k, name in enumerate(names):
        out[name] = float(sq_err[k] / w.sum())
    for k, name in enumerate(names):
        out[f"{name}_rel"] = (
            float(np.sqrt(sq_err[k] / sq_tgt[k])) if sq_tgt[k] > 0 else float("nan")
        )
    return out
