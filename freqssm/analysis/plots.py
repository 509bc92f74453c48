"""Pictures of a run: the SSM eigenvalues and transfer functions of a parameter tree, and the
bare Agg figures every plot of the package is drawn on.

Figures are plain ``matplotlib.figure.Figure`` objects with an Agg canvas, never pyplot: no global
backend switch and no figure registry that would leak memory across a long training run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from freqssm.analysis import spectra
from freqssm.ssm.discretize import Discretization
from freqssm.ssm.sobolev import SobolevFilter


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
    fig = new_figure((8.0, 4.8))  # room for the legend beside the axes
    ax = fig.add_subplot()
    layers = spectra.find_ssm_layers(params)
    for i, (p, sub) in enumerate(layers):
        lam = spectra.eigenvalues(sub, clip_eigs)
        ax.scatter(lam.real, lam.imag, s=8, alpha=0.6, label=_label(i, p))
    if layers:  # outside the data
        ax.legend(fontsize="small", markerscale=2, loc="upper left", bbox_to_anchor=(1.02, 1.0))
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
    disc: Discretization = Discretization(),
    include_d: bool = True,
    sobolev: SobolevFilter | None = None,
    marks: Sequence[tuple[float, str]] = (),
) -> str:
    """|H| of every layer: mean over features (line), min..max over features (shaded); PNG.

    ``discrete``: θ on [0, π], x axis as a fraction of Nyquist (θ/π). Otherwise the continuous
    |G(iω)| on a log ω axis up to max(π/min Δ, 2·max|Im Λ|) over all layers (the finest layer's
    Nyquist, or beyond the highest mode). ``sobolev``: an active filter (discrete only): a second
    panel shows the filtered layers (a layer's learned ``sobolev_beta`` replaces its beta).
    ``marks``: (x, label) vertical lines, e.g. a task's frequencies as fractions of Nyquist.
    Other arguments as in
    :func:`freqssm.analysis.spectra.transfer_function`. Returns ``path`` (as str).
    """
    layers = spectra.find_ssm_layers(params)
    if discrete:
        grid = spectra.theta_grid(n_freq)
        x = grid / np.pi
    else:
        hi = 1.0
        for _, sub in layers:
            sys = spectra.system64(sub, disc.step_rescale, disc.clip_eigs)
            hi = max(
                hi, np.pi / float(np.min(sys["dt"])), 2 * float(np.max(np.abs(sys["Lambda"].imag)))
            )
        grid = np.geomspace(hi * 1e-4, hi, n_freq)
        x = grid
    panels = [("SSM", None)]
    if sobolev is not None and discrete:
        panels.append(("with the Sobolev filter", sobolev))
    fig = new_figure((5.2 * len(panels) + 1.6, 4.4))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    tiny = np.finfo(np.float64).tiny  # keeps exact zeros plottable on the log axis
    for ax, (name, filt) in zip(axes, panels, strict=True):
        betas = []  # the exponents this panel applies, for its title
        for i, (p, sub) in enumerate(layers):
            layer_filt = filt
            if filt is not None and "sobolev_beta" in sub:  # a learned per-feature exponent
                layer_filt = dataclasses.replace(filt, beta=np.asarray(sub["sobolev_beta"]))
            if layer_filt is not None:
                betas.append(np.reshape(layer_filt.beta, -1))
            mag = spectra.transfer_magnitude(
                sub, grid, disc, discrete=discrete, include_d=include_d, sobolev=layer_filt
            )
            mag = np.maximum(mag, tiny)
            (line,) = ax.plot(x, mag.mean(axis=1), lw=1.2, label=_label(i, p))
            ax.fill_between(x, mag.min(axis=1), mag.max(axis=1), color=line.get_color(), alpha=0.2)
        for j, (xm, lab) in enumerate(marks):
            ax.axvline(
                xm, color="0.4", ls=":", lw=1.0, label="task frequencies" if j == 0 else None
            )
            ax.annotate(
                lab,
                (xm, 1.0),
                xycoords=("data", "axes fraction"),
                fontsize="x-small",
                rotation=90,
                ha="right",
                va="top",
                color="0.3",
            )
        if not layers:
            ax.text(0.5, 0.5, "no SSM layers", ha="center", va="center", transform=ax.transAxes)
        ax.set_yscale("log")
        ax.set_title(
            name
            if filt is None
            else f"{name}, β={_beta_text(np.concatenate(betas or [[filt.beta]]))}",
            fontsize="medium",
        )
        if discrete:
            ax.set_xlim(0.0, 1.0)
            ax.set_xlabel("frequency (fraction of Nyquist)")
        else:
            ax.set_xscale("log")
            ax.set_xlabel("angular frequency ω")
    axes[0].set_ylabel(r"$|H(e^{i\theta})|$" if discrete else r"$|G(i\omega)|$")
    if layers or marks:  # outside the data, right of the last panel
        axes[-1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(
        (title or "SSM transfer functions")
        + "\nline: mean over features; band: min to max over features",
        fontsize="medium",
    )
    return save_png(fig, path)


def _beta_text(beta: Any) -> str:
    b = np.asarray(beta, np.float64).reshape(-1)
    if b.size == 1 or np.all(b == b[0]):
        return f"{float(b[0]):g}"
    return f"{b.min():.3g}..{b.max():.3g} (learned, per feature)"


def frequency_report(
    params: Mapping,
    out_dir: str | os.PathLike,
    tag: str,
    title: str = "",
    sobolev: SobolevFilter | None = None,
    marks: Sequence[tuple[float, str]] = (),
    disc: Discretization = Discretization(),
    n_freq: int = 512,
) -> dict[str, Any]:
    """Write ``eigs_{tag}.png`` and ``transfer_{tag}.png`` into ``out_dir`` (created).

    ``title`` starts both titles (e.g. the run's name and knobs); ``sobolev`` and ``marks`` go to
    :func:`plot_transfer`; ``disc`` (the run's discretization settings) and ``n_freq`` to both
    :func:`plot_transfer` and :func:`~freqssm.analysis.spectra.summarize` (whose numbers describe
    the SSM without the filter). Returns ``{"eigs": path, "transfer": path, **summarize(...)}``.
    """
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    head = f"{title} ({tag})" if title else tag
    eigs = plot_eigenvalues(
        params,
        os.path.join(out_dir, f"eigs_{tag}.png"),
        title=f"eigenvalues: {head}",
        clip_eigs=disc.clip_eigs,
    )
    transfer = plot_transfer(
        params,
        os.path.join(out_dir, f"transfer_{tag}.png"),
        title=f"|H|: {head}",
        sobolev=sobolev,
        marks=marks,
        disc=disc,
        n_freq=n_freq,
    )
    summary = spectra.summarize(params, n_freq=n_freq, disc=disc)
    return {"eigs": eigs, "transfer": transfer, **summary}
