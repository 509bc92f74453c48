"""Frequency diagnostics of S5 / S4D layers: eigenvalues, transfer functions, their summary.

Works on raw Flax parameter trees (initial or trained), so it can run on a checkpoint without
building the model; :mod:`freqssm.analysis.plots` draws what is computed here. Every SSM layer is
found by its parameter names (see :mod:`freqssm.model.layers`), turned into its continuous system
by :func:`freqssm.ssm.system.ssm_system`, and evaluated with
:func:`freqssm.ssm.kernel.transfer_continuous` / :func:`~freqssm.ssm.kernel.transfer_discrete` —
one source of truth for the formulas. The evaluation runs in float64 (inside ``jax.enable_x64``)
because the resonances of lightly damped modes (|Λ̄| close to 1) are sharp and float32 would blur
them.

What the numbers mean (paper Sec. 2-4): a mode λ = a + ib resonates near the continuous angular
frequency ω = |b|, i.e. near θ = |b|·Δ radians per sample after discretization. The knob alpha
scales b at initialization, so it moves the responses toward higher θ; :func:`summarize`'s
``gain_centroid`` tracks exactly that.

Conventions and limitations:

* Shapes: F frequencies, H features, N modes per S4D feature, P_s modes of an S5 layer.
* Bidirectional layers: only the forward (causal) readout ``C[0]`` is analysed; the backward
  direction shares Λ, B and Δ, so the eigenvalue picture is complete, but its transfer function is
  anti-causal and is left out.
* The Sobolev filter depends on the sequence length and on ``c``, not only on the parameters, so
  it is an argument: without ``sobolev`` the transfer functions are those of the SSM itself; with
  it, :func:`transfer_magnitude` gives the filtered layer's response |w(θ)·H_ssm + D| with the
  filter's gain w(θ) from :func:`sobolev_gain` (the layers filter the SSM path, not the D skip).
* ``conj_sym`` is a model setting, not a parameter, so it is an argument (default True, the
  default of both layers). Without conjugate symmetry the layers output Re(C x), whose transfer
  function is half of the conjugate-augmented modal sum; that is what is computed then.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from freqssm.ssm.discretize import Discretization, discretize
from freqssm.ssm.kernel import transfer_continuous, transfer_discrete
from freqssm.ssm.sobolev import SobolevFilter
from freqssm.ssm.system import SYSTEM_PARAMS, is_ssm_params, ssm_system

# Upper bound on the number of complex entries of one evaluation chunk (F_chunk·H·max(H, N)):
# an S5 layer with H = 512 on 512 frequencies would otherwise need a 2 GB (F, H, H) array.
_CHUNK_ELEMENTS = 1 << 22


# ------------------------------------------------------------------------------ finding layers


def _natural_key(path: str) -> list[tuple[int, int | str]]:
    # "block10" sorts after "block2": digit runs compare as integers. The leading 0/1 tag keeps
    # ints and strs from ever being compared with each other.
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", path) if t]


def _walk(tree: Mapping, prefix: tuple[str, ...]) -> Iterator[tuple[str, Mapping]]:
    if is_ssm_params(tree):
        yield "/".join(prefix), tree
        return  # an SSM layer holds no nested layers
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _walk(value, (*prefix, str(key)))


def find_ssm_layers(params: Mapping) -> list[tuple[str, Mapping]]:
    """All SSM layers in a (nested) Flax params tree.

    A subtree is an SSM layer if it holds its Λ, C and Δ parameters
    (:func:`freqssm.ssm.system.is_ssm_params`; ``B`` and ``D`` may be absent). Works with plain
    dicts and FrozenDicts.

    Returns:
      ``[(path, subtree), ...]`` with ``path`` like ``"encoder/block2/ssm"`` (``""`` if ``params``
      is itself a layer), sorted by path with numbers compared numerically (block2 < block10), so
      index i in :func:`summarize` is the i-th layer from the input.
    """
    found = list(_walk(params, ()))
    return sorted(found, key=lambda item: _natural_key(item[0]))


def layer_kind(subtree: Mapping) -> Literal["s5", "s4d"]:
    """``"s5"`` if ``Lambda_im`` is (P_s,), ``"s4d"`` if it is (G, N)."""
    ndim = np.ndim(subtree["Lambda_im"])
    if ndim == 1:
        return "s5"
    if ndim == 2:
        return "s4d"
    raise ValueError(f"Lambda_im must be 1-D (S5) or 2-D (S4D), got {ndim}-D")


# ------------------------------------------------------------------------------ systems


def system64(subtree: Mapping, step_rescale: float, clip_eigs: bool) -> dict[str, np.ndarray]:
    """The layer's continuous system (see :func:`~freqssm.ssm.system.ssm_system`) as float64 /
    complex128 numpy.

    A layer without ``D`` (``d_skip=False``) gets D = 0, as in its forward pass.
    """
    raw = {k: np.asarray(subtree[k], np.float64) for k in SYSTEM_PARAMS if k in subtree}
    with jax.enable_x64(True):
        sys = ssm_system({k: jnp.asarray(v) for k, v in raw.items()}, step_rescale, clip_eigs)
        return {k: np.asarray(v) for k, v in sys.items()}


def eigenvalues(subtree: Mapping, clip_eigs: bool = True) -> np.ndarray:
    """Continuous eigenvalues Λ of the stored modes, complex128, flattened: (P_s,) or (H·N,).

    With ``clip_eigs`` Re Λ is clipped at -1e-4 as in the layers' forward pass, so this is the
    system the layer actually runs. Conjugate partners are not listed.
    """
    return system64(subtree, 1.0, clip_eigs)["Lambda"].reshape(-1)


@functools.partial(jax.jit, static_argnames=("kind", "discrete", "discretization", "scale"))
def _transfer_core(
    lam: jax.Array,
    b: jax.Array,
    c: jax.Array,
    d: jax.Array,
    dt: jax.Array,
    w: jax.Array,
    kind: str,
    discrete: bool,
    discretization: str,
    scale: float,
) -> jax.Array:
    # Jitted so that a call is one compiled program rather than dozens of op-by-op dispatches
    # (which dominate the cost for the small per-layer problems here).
    fn = transfer_discrete if discrete else transfer_continuous
    zero = jnp.zeros((), w.dtype)
    if kind == "s5":
        if discrete:  # Δ is per mode: each mode is discretized with its own step
            lam, gamma = discretize(lam, dt, discretization)
            b = gamma[:, None] * b
        return scale * fn(lam, b, c, zero, w, conj_sym=True) + jnp.diag(d)  # (F, H, H)
    if discrete:  # Δ is per feature
        lam, gamma = discretize(lam, dt[:, None], discretization)
        b = gamma * b

    def feature(lam_h, b_h, c_h):  # one SISO system: (N,), (N,), (N,) -> (F,)
        return fn(lam_h, b_h[:, None], c_h[None, :], zero, w, conj_sym=True)[:, 0, 0]

    return scale * jax.vmap(feature, out_axes=1)(lam, b, c) + d  # (F, H)


def _modal_transfer(
    sys: dict[str, np.ndarray],
    kind: str,
    omega: np.ndarray,
    discrete: bool,
    discretization: str,
    conj_sym: bool,
    include_d: bool,
) -> np.ndarray:
    """Complex transfer function on ``omega``: S4D (F, H), S5 (F, H_out, H_in)."""
    d = sys["D"] if include_d else np.zeros_like(sys["D"])
    with jax.enable_x64(True):
        g = _transfer_core(
            jnp.asarray(sys["Lambda"]),
            jnp.asarray(sys["B"]),
            jnp.asarray(sys["C"][0]),  # forward direction only (see module docstring)
            jnp.asarray(d),
            jnp.asarray(sys["dt"]),
            jnp.asarray(omega, jnp.float64),
            kind=kind,
            discrete=discrete,
            discretization=discretization,
            # Without conj_sym the layers output Re(C x): half of (modal sum + conjugate twin).
            scale=1.0 if conj_sym else 0.5,
        )
        return np.asarray(g)


def transfer_function(
    subtree: Mapping,
    omega: np.ndarray,
    disc: Discretization = Discretization(),
    discrete: bool = False,
    include_d: bool = True,
) -> np.ndarray:
    """Complex transfer function of one layer, complex128.

    Args:
      subtree: the layer's params (names and shapes in :mod:`freqssm.model.layers`).
      omega: (F,) grid. Continuous: angular frequency ω of x' = Λx + Bu, G(iω). ``discrete``:
        θ in radians per sample (normally in [0, π]) of the discretized system, H(e^{iθ}),
        discretized with the layer's Δ (per mode for S5, per feature for S4D) and
        ``disc.method``.
      disc: the layer's discretization settings (Δ's rescaling, clipped Re Λ, conjugate
        symmetry: see module docstring).
      include_d: include the skip term D (set False to see the SSM path alone).
    Returns:
      S4D: (F, H), feature h's SISO response (forward readout C[0]).
      S5: (F, H, H) indexed [frequency, output, input] (forward readout C̃[0]).
    """
    omega = np.asarray(omega, np.float64).reshape(-1)
    kind = layer_kind(subtree)
    sys = system64(subtree, disc.step_rescale, disc.clip_eigs)
    return _modal_transfer(sys, kind, omega, discrete, disc.method, disc.conj_sym, include_d)


def sobolev_gain(
    theta: np.ndarray, beta: float | np.ndarray, n_fft: int, c: float | None = None
) -> np.ndarray:
    """The Sobolev filter's gain (1 + k/c)^β at discrete frequencies θ (radians per sample).

    k = θ·n/(2π) is θ's position on the rfft grid of the layers' ``n_fft``-point FFT (2L, or L
    for a circular convolution), so at θ = 2πk/n this equals
    :func:`freqssm.ssm.sobolev.sobolev_weight` at bin k. ``c`` None means ``n_fft``.
    Returns (F, 1) for a scalar β, (F, H) for per-feature β (H,).
    """
    return SobolevFilter(beta, n_fft, c).gain_at(np.asarray(theta, np.float64).reshape(-1))


def transfer_magnitude(
    subtree: Mapping,
    omega: np.ndarray,
    disc: Discretization = Discretization(),
    discrete: bool = False,
    include_d: bool = True,
    sobolev: SobolevFilter | None = None,
) -> np.ndarray:
    """Gain per output feature on a frequency grid, float64 (F, H).

    S4D: |G_h| of feature h's SISO system. S5: the RMS over inputs of the MIMO response,
    sqrt(mean_i |G[f, o, i]|²) for output o — the gain output o has for a random (white,
    isotropic) input direction. ``sobolev``: the response of the filtered layer, the SSM path
    times the filter's gain plus D (``discrete`` only; its beta a scalar or the layer's
    per-feature ``sobolev_beta``). Other arguments as in :func:`transfer_function`;
    the frequency grid is evaluated in chunks so that large S5 layers never hold a full
    (F, H, H) array.
    """
    omega = np.asarray(omega, np.float64).reshape(-1)
    kind = layer_kind(subtree)
    sys = system64(subtree, disc.step_rescale, disc.clip_eigs)
    if sobolev is not None and not discrete:
        raise ValueError("the Sobolev filter acts on the discrete frequency grid: discrete=True")
    H = sys["D"].shape[0]
    width = H if kind == "s5" else sys["Lambda"].shape[-1]
    chunk = max(1, _CHUNK_ELEMENTS // max(1, H * max(width, 1)))
    out = []
    for start in range(0, omega.shape[0], chunk):
        w = omega[start : start + chunk]
        g = _modal_transfer(
            sys, kind, w, discrete, disc.method, disc.conj_sym, include_d and sobolev is None
        )
        if sobolev is not None:  # filter the SSM path, then add the skip
            gain = sobolev.gain_at(w)
            d = sys["D"] if include_d else np.zeros_like(sys["D"])
            g = g * gain[:, :, None] + np.diag(d) if kind == "s5" else g * gain + d
        if kind == "s5":
            out.append(np.sqrt(np.mean(np.abs(g) ** 2, axis=-1)))
        else:
            out.append(np.abs(g))
    return np.concatenate(out, axis=0) if out else np.zeros((0, H))


# ------------------------------------------------------------------------------ summaries


def theta_grid(n_freq: int) -> np.ndarray:
    """(n_freq,) evenly spaced θ on [0, π] (radians per sample): the grid of the summaries."""
    return np.linspace(0.0, np.pi, n_freq)


def gain_centroid(mag: np.ndarray, theta: np.ndarray) -> float:
    """Σ_θ θ|H(θ)|² / Σ_θ |H(θ)|² per feature, averaged over features (radians, in [0, π]).

    ``mag``: (F, H) gains on the uniform grid ``theta`` (F,). Each feature counts equally,
    whatever its overall gain, so a few loud features do not decide the layer's number.
    """
    power = mag**2
    total = power.sum(axis=0)
    # A feature with zero gain everywhere has no centroid; leave it out of the average.
    ok = total > 0
    if not np.any(ok):
        return float("nan")
    per_feature = (theta[:, None] * power).sum(axis=0)[ok] / total[ok]
    return float(np.mean(per_feature))


def summarize(
    params: Mapping,
    n_freq: int = 512,
    disc: Discretization = Discretization(),
    include_d: bool = True,
) -> dict[str, float]:
    """Scalar frequency diagnostics of every SSM layer, for logging.

    Keys, for layer index i in :func:`find_ssm_layers` order:

    * ``freq/layer{i}/im_abs_median``, ``freq/layer{i}/im_abs_max``: |Im Λ| of the continuous
      eigenvalues (the modes' resonance frequencies, paper Sec. 2).
    * ``freq/layer{i}/mode_theta_median``: median |arg Λ̄| of the discretized eigenvalues, i.e.
      where in [0, π] rad/sample the modes actually resonate (|Im Λ|·Δ folded by aliasing).
    * ``freq/layer{i}/gain_centroid``: :func:`gain_centroid` of the discrete gain on ``n_freq``
      points θ in [0, π]; larger = the layer's response sits at higher frequency.
    * ``freq/gain_centroid``: the mean of the layers' centroids.

    Other arguments as in :func:`transfer_function`. An empty dict if there are no SSM layers.
    """
    theta = theta_grid(n_freq)
    out: dict[str, float] = {}
    centroids = []
    for i, (_, sub) in enumerate(find_ssm_layers(params)):
        sys = system64(sub, disc.step_rescale, disc.clip_eigs)
        im = np.abs(sys["Lambda"].imag).reshape(-1)
        dt = sys["dt"] if layer_kind(sub) == "s5" else sys["dt"][:, None]
        with jax.enable_x64(True):
            lam_bar, _ = discretize(jnp.asarray(sys["Lambda"]), jnp.asarray(dt), disc.method)
        mag = transfer_magnitude(sub, theta, disc, discrete=True, include_d=include_d)
        c = gain_centroid(mag, theta)
        centroids.append(c)
        out[f"freq/layer{i}/im_abs_median"] = float(np.median(im))
        out[f"freq/layer{i}/im_abs_max"] = float(np.max(im))
        out[f"freq/layer{i}/mode_theta_median"] = float(np.median(np.abs(np.angle(lam_bar))))
        out[f"freq/layer{i}/gain_centroid"] = c
    if centroids:
        out["freq/gain_centroid"] = float(np.nanmean(centroids))
    return out
