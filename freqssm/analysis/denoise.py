"""The image-denoising evaluation: what a trained (linear) sequence model does to clean and noisy
images. Registered in :mod:`freqssm.analysis.evaluators` for ``data.name = "denoise"``.

On the test split it measures

* ``mse`` and ``psnr``: reconstruction of the clean images (PSNR with peak-to-peak 2, images in
  [-1, 1]: ``10 log10(4 / mse)``);
* for each corruption of :func:`freqssm.data.noise.corrupt` (``low``, ``high``, ``both``):
  the fraction of the noise energy that survives, ``||f(noisy) - f(clean)||² / ||noisy - clean||²``
  (:func:`~freqssm.data.noise.noise_survival`). For ``both`` the two bands are measured apart by
  projecting the output difference and the noise onto each band with a spectral mask
  (``survival_both_low``, ``survival_both_high``). Also the PSNR of the noisy input
  (``psnr_noisy_<kind>``) and of the model's output (``psnr_out_<kind>``) against the clean image;
* the authors' evaluation: stripes of amplitude U(0, 1) per image and channel,
  ``cos(2.99433 · column)`` ("vertical", high frequency along the sequence) or
  ``cos(2.99433 · row)`` ("horizontal", low frequency), added to the clean image
  (:func:`freqssm.data.noise.stripes`); ``stripes_<kind>_mse`` is the MSE of the output to the
  clean image (their metric), ``stripes_<kind>_mse_noisy`` that of the noisy input and
  ``stripes_<kind>_survival`` the fraction of the stripes' energy that survives;
* the layer's gain |H(θ)| for θ in [0, π] rad/sample, measured from its response to a unit impulse
  placed in the middle of the sequence (one impulse per input channel). This works for any
  linear time-invariant ``predict`` and includes everything the layer does (the Sobolev filter, the
  finite length), so it is the filter the noise actually sees. Per output channel the gain is
  sqrt(Σ_in |H_out,in|²), the amplitude gain for independent unit noise on every input channel;
  ``gain2_low_band`` / ``gain2_high_band`` are its square averaged over each band and channel
  (≈ the survival of white noise in that band).

Files written in ``workdir``: ``denoise_examples.png`` (clean, noisy and output images of a few
test examples), ``denoise_transfer.png`` (|H(θ)| with the noise bands and the row harmonics) and
``denoise_arrays.npz`` (those example sequences and outputs, θ and |H|, so that
``scripts/make_figures.py denoise`` can redraw them across runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.analysis.plots import new_figure
from freqssm.data.base import Dataset
from freqssm.data.config import DataConfig
from freqssm.data.denoise import sequence_to_image
from freqssm.data.noise import (
    NOISE_KINDS,
    STRIPE_KINDS,
    band_mask,
    corrupt,
    noise_options,
    noise_survival,
    stripes,
)
from freqssm.model.config import SSMConfig

Predict = Callable[[np.ndarray], np.ndarray]

PEAK_TO_PEAK = 2.0  # images live in [-1, 1]


def psnr(mse: float) -> float:
    """PSNR in dB for images in [-1, 1]: 10 log10(2² / mse)."""
    return 10.0 * math.log10(PEAK_TO_PEAK**2 / mse) if mse > 0 else float("inf")


def batched(predict: Predict, batch_size: int) -> Predict:
    """``predict`` applied in fixed-size batches (the last one padded), float64 output.

    Fixed shapes keep a jitted ``predict`` from recompiling for every remainder.
    """

    def apply(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        outs = []
        for start in range(0, x.shape[0], batch_size):
            chunk = x[start : start + batch_size]
            real = chunk.shape[0]
            if real < batch_size:
                pad = np.repeat(chunk[-1:], batch_size - real, axis=0)
                chunk = np.concatenate([chunk, pad], axis=0)
            outs.append(np.asarray(predict(chunk), np.float64)[:real])
        return np.concatenate(outs, axis=0)

    return apply


def band_project(x: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """The part of ``x`` (..., L, C) whose rFFT bins (time axis -2) lie in ``band``.

    Uses :func:`freqssm.data.noise.band_mask`, the same bins the band noise is drawn on.
    """
    L = x.shape[-2]
    spec = np.fft.rfft(np.asarray(x, np.float64), axis=-2)
    spec *= band_mask(L, band)[:, None]
    return np.fft.irfft(spec, n=L, axis=-2)


def band_survival(out_diff: np.ndarray, noise: np.ndarray, band: tuple[float, float]) -> float:
    """||P_band out_diff||² / ||P_band noise||²: survival of the noise inside one band."""
    num = np.sum(band_project(out_diff, band) ** 2)
    den = np.sum(band_project(noise, band) ** 2)
    return float(num / den)


def impulse_gain(
    predict: Predict, seq_len: int, channels: int, n_freq: int = 1025
) -> tuple[np.ndarray, np.ndarray]:
    """|H(θ)| of a linear time-invariant ``predict`` on θ = linspace(0, π, n_freq).

    Feeds one unit impulse per input channel at t = L/2 (so that non-causal parts, e.g. of the
    Sobolev filter's kernel, are seen up to lag L/2) and takes the DTFT of the response.

    Returns:
      theta (n_freq,), gain (n_freq, C_out) = sqrt(Σ_in |H_out,in(θ)|²).
    """
    x = np.zeros((channels, seq_len, channels), np.float32)
    t0 = seq_len // 2
    x[np.arange(channels), t0, np.arange(channels)] = 1.0
    y = np.asarray(predict(x), np.float64)  # (C_in, L, C_out)
    y = np.roll(y, -t0, axis=1)  # lag 0 first; negative lags wrap to the end (|H| unaffected)
    n_fft = 2 * (n_freq - 1)
    n_fft = max(n_fft, seq_len)
    spec = np.fft.rfft(y, n=n_fft, axis=1)  # (C_in, F', C_out)
    theta_fft = np.linspace(0.0, np.pi, n_fft // 2 + 1)
    gain_fft = np.sqrt(np.sum(np.abs(spec) ** 2, axis=0))  # (F', C_out)
    theta = np.linspace(0.0, np.pi, n_freq)
    gain = np.stack(
        [np.interp(theta, theta_fft, gain_fft[:, j]) for j in range(gain_fft.shape[1])], axis=1
    )
    return theta, gain


def _band_of(theta: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    f = theta / np.pi
    return (f >= band[0]) & (f <= band[1]) & (theta > 0)


def evaluate(
    data: DataConfig,
    ssm: SSMConfig,
    predict: Predict,
    dataset: Dataset,
    workdir: str | Path | None,
) -> dict:
    """Denoising metrics on the test split; writes the example figure, |H| plot and arrays.

    Args:
      data: the run's data settings (the keys of :mod:`freqssm.data.denoise`; ``n_examples``
        images are drawn, default 3).
      ssm: the run's SSM settings (for the figures' titles).
      predict: numpy (B, L, C) float32 -> (B, L, C) outputs of the trained model.
      dataset: the denoising Dataset (its ``test`` split is used whole).
      workdir: where the files go; None writes nothing (the processes of a multi-process run
        other than process 0 compute the same metrics but leave the files to it).

    Returns:
      flat dict: floats (metrics above) and, when files were written, the paths
      ``examples_png``, ``transfer_png``, ``arrays_npz``.
    """
    d = data
    meta = dataset.meta
    grid = tuple(int(g) for g in meta.extra.get("grid", d.option("grid")))
    o = noise_options(d)
    low_band, high_band, noise_seed = o["low_band"], o["high_band"], o["noise_seed"]
    n_examples = int(d.option("n_examples") or 3)

    test = dataset.test
    clean = np.asarray(test.get(np.arange(len(test)))["inputs"], np.float32)  # (N, L, C)
    f = batched(predict, int(d.batch_size))
    out_clean = f(clean)
    mse = float(np.mean((out_clean - clean) ** 2))
    res: dict[str, Any] = {"mse": mse, "psnr": psnr(mse)}

    examples = {"clean": clean[:n_examples], "out_clean": out_clean[:n_examples]}
    for i, kind in enumerate(NOISE_KINDS):
        rng = np.random.default_rng([noise_seed, i])
        noisy = corrupt(clean, kind, d, rng=rng)
        out_noisy = f(noisy)
        # f was already applied to both inputs; hand noise_survival the cached outputs.
        cache = {id(noisy): out_noisy, id(clean): out_clean}
        res[f"survival_{kind}"] = noise_survival(lambda x, c=cache: c[id(x)], clean, noisy)
        noise = noisy.astype(np.float64) - clean
        diff = out_noisy - out_clean
        if kind == "both":
            res["survival_both_low"] = band_survival(diff, noise, low_band)
            res["survival_both_high"] = band_survival(diff, noise, high_band)
        res[f"psnr_noisy_{kind}"] = psnr(float(np.mean(noise**2)))
        res[f"psnr_out_{kind}"] = psnr(float(np.mean((out_noisy - clean) ** 2)))
        examples[f"noisy_{kind}"] = noisy[:n_examples]
        examples[f"out_{kind}"] = out_noisy[:n_examples]

    # The authors' evaluation: stripes of random amplitude, MSE of the output to the clean image.
    for i, kind in enumerate(STRIPE_KINDS):
        rng = np.random.default_rng([noise_seed, len(NOISE_KINDS) + i])
        noisy = clean + stripes(clean.shape, grid, kind, rng)
        out_noisy = f(noisy)
        res[f"stripes_{kind}_mse"] = float(np.mean((out_noisy - clean) ** 2))
        res[f"stripes_{kind}_mse_noisy"] = float(np.mean((noisy.astype(np.float64) - clean) ** 2))
        res[f"stripes_{kind}_survival"] = float(
            np.sum((out_noisy - out_clean) ** 2) / np.sum((noisy.astype(np.float64) - clean) ** 2)
        )
        examples[f"noisy_{kind}"] = noisy[:n_examples]
        examples[f"out_{kind}"] = out_noisy[:n_examples]

    channels = clean.shape[-1]
    theta, gain = impulse_gain(predict, clean.shape[1], channels)
    for name, band in (("low", low_band), ("high", high_band)):
        res[f"gain2_{name}_band"] = float(np.mean(gain[_band_of(theta, band)] ** 2))
    if workdir is None:
        return res

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    arrays = workdir / "denoise_arrays.npz"
    np.savez_compressed(
        arrays,
        **{k: v.astype(np.float32) for k, v in examples.items()},
        theta=theta,
        gain=gain,
        grid=np.asarray(grid),
        low_band=np.asarray(low_band),
        high_band=np.asarray(high_band),
    )
    title = _title(ssm)
    res["examples_png"] = str(
        plot_examples(examples, grid, workdir / "denoise_examples.png", title=title)
    )
    res["transfer_png"] = str(
        plot_gain(
            theta,
            {title: gain},
            workdir / "denoise_transfer.png",
            low_band=low_band,
            high_band=high_band,
            cols=grid[1],
        )
    )
    res["arrays_npz"] = str(arrays)
    return res


def _title(s: SSMConfig) -> str:
    return f"{s.kind} alpha={s.alpha:.4g} beta={s.sobolev.beta:g}"


# ------------------------------------------------------------------ plots


def to_image(seq: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """(L, C) sequence in [-1, 1] -> (rows, cols, C) image in [0, 1] (clipped) for display."""
    return np.clip((sequence_to_image(seq, grid) + 1.0) / 2.0, 0.0, 1.0)


def show_image(ax: Any, seq: np.ndarray, grid: tuple[int, int], title: str = "") -> None:
    """Draw a sequence as its image, stretched back to the square crop it came from."""
    rows, cols = grid
    ax.imshow(to_image(seq, grid), aspect=cols / rows, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


EXAMPLE_COLUMNS = (
    ("clean", "clean"),
    ("out_clean", "output(clean)"),
    ("noisy_low", "low-band noise"),
    ("out_low", "output(low)"),
    ("noisy_high", "high-band noise"),
    ("out_high", "output(high)"),
    ("noisy_vertical", "vertical stripes"),
    ("out_vertical", "output(vertical)"),
    ("noisy_horizontal", "horizontal stripes"),
    ("out_horizontal", "output(horizontal)"),
)


def plot_examples(
    examples: dict[str, np.ndarray], grid: tuple[int, int], path: Path, title: str = ""
) -> Path:
    """One row per example: clean, output, noisy (low), output, noisy (high), output."""
    n = examples["clean"].shape[0]
    ncol = len(EXAMPLE_COLUMNS)
    fig = new_figure((1.4 * ncol, 1.5 * n + 0.4))
    axes = fig.subplots(n, ncol, squeeze=False)
    for i in range(n):
        for j, (key, label) in enumerate(EXAMPLE_COLUMNS):
            show_image(axes[i, j], examples[key][i], grid, label if i == 0 else "")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=110)
    return path


def plot_gain(
    theta: np.ndarray,
    gains: dict[str, np.ndarray],
    path: Path,
    low_band: tuple[float, float],
    high_band: tuple[float, float],
    cols: int | None = None,
    ax: Any = None,
) -> Path | None:
    """|H(θ)| (mean over output channels) of one or more layers, log scale, bands shaded.

    ``gains``: label -> (F, C) gain. With ``ax`` draws into it and returns None.
    """
    own = ax is None
    if own:
        fig = new_figure((6.4, 3.6))
        ax = fig.subplots()
    ax.axvspan(np.pi * low_band[0], np.pi * low_band[1], color="tab:blue", alpha=0.12, lw=0)
    ax.axvspan(np.pi * high_band[0], np.pi * high_band[1], color="tab:red", alpha=0.08, lw=0)
    for label, g in gains.items():
        ax.plot(theta, np.maximum(np.mean(g, axis=1), 1e-6), lw=1.0, label=label)
    if cols:
        for k in range(1, cols // 2 + 1):
            ax.axvline(2 * np.pi * k / cols, color="0.8", lw=0.5, zorder=0)
    ax.set_yscale("log")
    ax.set_xlim(0, np.pi)
    ax.set_xlabel("θ (rad/sample); shaded: low / high noise band; grey: row harmonics")
    ax.set_ylabel("|H(θ)|")
    ax.legend(fontsize=7)
    if own:
        fig.savefig(path, dpi=110)
        return path
    return None
