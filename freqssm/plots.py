"""Pictures of a run: the SSM eigenvalues and transfer functions of a parameter tree, and the
bare Agg figures every plot of the package is drawn on.

Figures are plain ``matplotlib.figure.Figure`` objects with an Agg canvas, never pyplot: no global
backend switch and no figure registry that would leak memory across a long training run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from freqssm import analysis


def new_figure(size: tuple[float, float] = (6.4, 4.8)) -> Any:
    """A matplotlib Figure of ``size`` inches (constrained layout) drawn with Agg."""
    # A bare Figure with an Agg canvas: no pyplot, so no global backend switch and no figure
    # registry to leak memory across calls in a long training run.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: str | os.PathLike, dpi: int = 120) -> str:
    """Write ``fig`` to ``path`` as PNG (parent folders created); returns ``path`` as str."""
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi)
    return path


def _label(i: int, path: str) -> str:
    return f"layer{i} ({path})" if path else f"layer{i}"


def plot_eigenvalues(
    params: Mapping, path: str | os.PathLike, title: str | None = None, clip_eigs: bool = True
) -> str:
    """Scatter Im Λ against Re Λ of every layer's stored modes (one color per layer); PNG.

    Returns ``path`` (as str). The conjugate partners (mirror image in the real axis) are not
    drawn.
    """
    fig = new_figure()
    ax = fig.add_subplot()
    layers = analysis.find_ssm_layers(params)
    for i, (p, sub) in enumerate(layers):
        lam = analysis.eigenvalues(sub, clip_eigs)
        ax.scatter(lam.real, lam.imag, s=8, alpha=0.6, label=_label(i, p))
    if layers:
        ax.legend(fontsize="small", markerscale=2)
    else:
        ax.text(0.5, 0.5, "no SSM layers", ha="center", va="center", transform=ax.transAxes)
    ax.axvline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.set_title(title or "SSM eigenvalues (continuous)")
    return save_png(fig, path)


def plot_transfer(
    params: Mapping,
    path: str | os.PathLike,
    n_freq: int = 512,
    discrete: bool = True,
    title: str | None = None,
    step_rescale: float = 1.0,
    clip_eigs: bool = True,
    discretization: str = "zoh",
    conj_sym: bool = True,
    include_d: bool = True,
) -> str:
    """|H| of every layer: mean over features, shaded min..max over features, log y; PNG.

    ``discrete``: θ on [0, π], x axis as a fraction of Nyquist (θ/π). Otherwise the continuous
    |G(iω)| on a log ω axis up to max(π/min Δ, 2·max|Im Λ|) over all layers (the finest layer's
    Nyquist, or beyond the highest mode). Other arguments as in
    :func:`freqssm.analysis.transfer_function`. Returns ``path`` (as str).
    """
    layers = analysis.find_ssm_layers(params)
    kw = dict(
        step_rescale=step_rescale,
        clip_eigs=clip_eigs,
        discretization=discretization,
        conj_sym=conj_sym,
        include_d=include_d,
    )
    if discrete:
        grid = analysis.theta_grid(n_freq)
        x = grid / np.pi
    else:
        hi = 1.0
        for _, sub in layers:
            sys = analysis.system64(sub, step_rescale, clip_eigs)
            hi = max(
                hi, np.pi / float(np.min(sys["dt"])), 2 * float(np.max(np.abs(sys["Lambda"].imag)))
            )
        grid = np.geomspace(hi * 1e-4, hi, n_freq)
        x = grid
    fig = new_figure()
    ax = fig.add_subplot()
    tiny = np.finfo(np.float64).tiny  # keeps exact zeros plottable on the log axis
    for i, (p, sub) in enumerate(layers):
        mag = np.maximum(analysis.transfer_magnitude(sub, grid, discrete=discrete, **kw), tiny)
        (line,) = ax.plot(x, mag.mean(axis=1), lw=1.2, label=_label(i, p))
        ax.fill_between(x, mag.min(axis=1), mag.max(axis=1), color=line.get_color(), alpha=0.2)
    if layers:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no SSM layers", ha="center", va="center", transform=ax.transAxes)
    ax.set_yscale("log")
    if discrete:
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("frequency (fraction of Nyquist)")
        ax.set_ylabel(r"$|H(e^{i\theta})|$")
    else:
        ax.set_xscale("log")
        ax.set_xlabel("angular frequency ω")
        ax.set_ylabel(r"$|G(i\omega)|$")
    ax.set_title(title or "SSM transfer functions (mean, min..max over features)")
    return save_png(fig, path)


def frequency_report(
    params: Mapping, out_dir: str | os.PathLike, tag: str, **kw: Any
) -> dict[str, Any]:
    """Write ``eigs_{tag}.png`` and ``transfer_{tag}.png`` into ``out_dir`` (created).

    ``kw`` (n_freq, step_rescale, clip_eigs, discretization, conj_sym, include_d) goes to both
    :func:`plot_transfer` and :func:`~freqssm.analysis.summarize`. Returns
    ``{"eigs": path, "transfer": path, **analysis.summarize(params, **kw)}``.
    """
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    clip = kw.get("clip_eigs", True)
    eigs = plot_eigenvalues(
        params,
        os.path.join(out_dir, f"eigs_{tag}.png"),
        title=f"eigenvalues ({tag})",
        clip_eigs=clip,
    )
    transfer = plot_transfer(
        params, os.path.join(out_dir, f"transfer_{tag}.png"), title=f"|H| ({tag})", **kw
    )
    return {"eigs": eigs, "transfer": transfer, **analysis.summarize(params, **kw)}
