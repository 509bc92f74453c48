"""Image denoising (paper Sec. 6 / the authors' denoising script): one linear SSM layer is trained
to reproduce images read as one long sequence, then used as a filter on noisy images.

    python -m freqssm.train --config configs/denoise.py --workdir runs/denoise
    python -m freqssm.train --config configs/denoise.py:authors,alpha_flip --workdir runs/dn_flip
    python -m freqssm.train --config configs/denoise.py:smoke --workdir /tmp/denoise_smoke

Variants combine with commas (``authors,alpha_flip,beta_enhance``); ``default`` = ``raw``. The
set-ups (``authors``, ``legacy``, ``s5``) apply first whatever their place in the list, then the
grid scaling (below), then the others left to right; at most one ``alpha_*``:

==================  =============================================================================
variant             what it sets
==================  =============================================================================
raw (default)       the paper's eigenvalue step π ("raw"), beta = 0: the untuned layer
alpha_enhance       step π/3 ("enhance": stronger low-frequency bias)
alpha_middle        step 10π ("middle": weaker bias)
alpha_flip          step 490.52 ("flip": reversed bias)
beta_enhance        beta = -1 (the paper's names for the Sobolev settings)
beta_middle         beta = +0.5
beta_flip           beta = +1
authors             the authors' layer: Re λ = -3, mode 0 an integrator (Im 0, Re -exp(-5)), B = 1
                    fixed (no parameter), C initialized times |Im λ|/1000, a 3x3 affine map mixing
                    the channels after the layer; with it the steps are alpha = step/π
legacy              our earlier set-up (results/denoise.md, "earlier set-up"): Im λ trained, lr
                    1e-2 for 960 steps
s5                  one MIMO S5 layer instead of S4D
smoke               tiny grid, a few steps (tests, seconds)
==================  =============================================================================

Every set-up freezes the eigenvalues and Δ, as the authors do: only C (and, with ``authors``, the
affine map) is trained, with MSE to the input, AdamW without weight decay, cosine schedule. The
authors train at lr 1e-3 for 20 epochs of CelebA (about 100k steps), a total learning rate
(the schedule's integral) of about 50; we train at lr 3e-2 for 3000 steps (integral 45) on our
512 crops, and ``results/denoise.md`` shows that doubling the steps changes no conclusion.

Scaling the paper's numbers to our grid (see ``paper_scaling``). The paper reads 2048 x 128 images
(L = 262144) with dt = 1e-4, Re λ = -3 and Im λ_n = step·n. The discrete system only depends on
λ·dt, and an image row of ``cols`` pixels puts horizontal structure at the row harmonics
k·2π/cols rad/sample, so we keep λ·dt *relative to the row frequency*: λ·dt = (128 / cols) ·
(-3 + i·step·n)·1e-4. With the authors' Re λ = -3 that is dt = 1e-4 · 128 / cols (4e-4 at our 32
columns) and alpha = step/π; our own S4D-Lin has Re λ = -1/2, so there dt is 6 times larger
(2.4e-3) and alpha = step/(6π) (raw 1/6, flip 26.02), which gives the same λ·dt.

With the flip step the modes sit (almost exactly, 490.52e-4 vs 2π/128) on the row harmonics, so
the flip layer is a comb filter on the harmonics; at 32 columns only 16 harmonics fit below Nyquist
and the 64 modes wrap around the unit circle four times (each harmonic gets about four modes).

The Sobolev constant: the authors multiply the FFT bins k = 0..L of the 2L-padded product by
(1 + k/c)^beta with c = 1e4 at L = 262144. Bin k is the frequency k/L of Nyquist in both cases,
so c = 1e4 · L / 262144 (= 156.25 at L = 4096) gives the same factor at every fraction of Nyquist
(27.2^beta at Nyquist, 2.3^beta at 5%).

The data (``freqssm.data.denoise``): scikit-image's bundled photographs, random square crops,
resized to ``grid`` = (rows, cols) = (128, 32) by default, RGB in [-1, 1]. Evaluation noise:
``low_band`` (0, 0.05) and ``high_band`` (0.5, 1) of Nyquist, std 0.2 each, and the authors'
stripes (``freqssm.analysis.denoise``). Changing ``data.grid`` on the command line does not rescale
dt and c; use ``paper_scaling`` in a variant.
"""

import math

import ml_collections

from freqssm import data
from freqssm.config import apply_variants, base_config, variant_names

FILE = "configs/denoise.py"

PAPER_GRID = (2048, 128)
PAPER_DT = 1e-4
PAPER_RE = 3.0  # |Re λ| of the authors' modes (all but the zero-frequency one)
PAPER_C = 1e4
PAPER_INTEGRATOR_RE = -math.exp(-5.0)  # the authors' mode 0: Im 0, Re -exp(-5)
PAPER_C_SCALE = 1e-3  # C_n starts times |Im λ_n| / 1000
# The authors' eigenvalue steps (their ``alpha``: Im λ_n = step · n).
PAPER_STEPS = {
    "raw": math.pi,
    "enhance": math.pi / 3,
    "middle": 10 * math.pi,
    "flip": 490.52,
}
PAPER_BETAS = {"beta_enhance": -1.0, "beta_middle": 0.5, "beta_flip": 1.0}
S4D_LIN_RE = 0.5  # |Re λ| of our S4D-Lin initialization
SET_UPS = ("authors", "legacy", "s5", "smoke")


def paper_scaling(grid: tuple[int, int], re: float = S4D_LIN_RE) -> dict[str, float]:
    """dt, Sobolev c and alpha per paper setting for an image grid (rows, cols).

    ``re`` is |Re λ| of the layer's modes (1/2 for our S4D-Lin, 3 for the authors'). Keeps λ·dt
    relative to the row frequency 2π/cols and the Sobolev factor per fraction of Nyquist (module
    docstring). Returns {"dt", "c", "alpha_raw", "alpha_enhance", ...}.
    """
    rows, cols = (int(g) for g in grid)
    dt_paper_scaled = PAPER_DT * PAPER_GRID[1] / cols  # paper's dt at our row frequency
    dt = dt_paper_scaled * PAPER_RE / re  # same Re λ·dt as the paper's modes
    out = {"dt": dt, "c": PAPER_C * rows * cols / (PAPER_GRID[0] * PAPER_GRID[1])}
    for name, step in PAPER_STEPS.items():
        # Im λ_n·dt: alpha·π·n·dt = step·n·dt_paper_scaled
        out[f"alpha_{name}"] = step * dt_paper_scaled / (math.pi * dt)
    return out


def _apply_grid(c: ml_collections.ConfigDict, grid: tuple[int, int]) -> dict[str, float]:
    re = -c.model.ssm.real_init if c.model.ssm.real_init is not None else S4D_LIN_RE
    s = paper_scaling(grid, re)
    c.data.grid = tuple(grid)
    c.model.ssm.dt_min = c.model.ssm.dt_max = s["dt"]
    c.model.ssm.sobolev.c = s["c"]
    c.model.ssm.alpha = s["alpha_raw"]
    return s


def _authors(c: ml_collections.ConfigDict) -> None:
    s = c.model.ssm
    s.real_init = -PAPER_RE
    s.integrator_re = PAPER_INTEGRATOR_RE
    s.c_imag_scale = PAPER_C_SCALE
    s.train_b = False
    c.model.output_map = "affine"
    c.optim.frozen = ("Lambda_re", "Lambda_im", "log_dt")


def _legacy(c: ml_collections.ConfigDict) -> None:
    c.optim.frozen = ("Lambda_re", "B", "log_dt")  # Im λ trained
    c.optim.lr = 1e-2
    c.optim.ssm_lr = 1e-3
    c.train.steps = 960  # 60 epochs of 512 crops at batch 32
    c.train.eval_every = c.train.checkpoint_every = 320


def _smoke(c: ml_collections.ConfigDict) -> None:
    d, t = c.data, c.train
    d.n_train, d.n_val, d.n_test = 32, 8, 8
    d.batch_size = 8
    d.n_examples = 2
    c.model.ssm.state_size = 16
    t.steps = 4
    t.eval_every = 4
    t.log_every = 2
    t.checkpoint_every = 4
    c.log.wandb.mode = "disabled"


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = base_config()
    c.seed = 0
    d = c.data
    d.name = "denoise"
    d.update(data.defaults("denoise"))  # the loader's keys and defaults (skimage, 512 crops, ...)
    d.batch_size = 32
    d.noise_seed = 1234
    d.n_examples = 3  # test images drawn in denoise_examples.png and kept in denoise_arrays.npz

    m = c.model
    m.kind = "linear"
    s = m.ssm
    s.kind = "s4d"
    s.state_size = 128  # 64 complex modes per channel, one at zero frequency
    s.init = "s4d_lin"
    s.discretization = "zoh"
    s.bidirectional = False
    s.d_skip = False
    s.mode = "auto"
    s.sobolev.beta = 0.0
    s.sobolev.learnable = False

    o = c.optim
    o.lr = 3e-2
    o.frozen = ("Lambda_re", "Lambda_im", "B", "log_dt")  # only C is trained
    o.weight_decay = 0.0
    o.warmup_steps = 0
    o.end_lr_factor = 0.0

    t = c.train
    t.steps = 3000
    t.eval_every = 1000
    t.log_every = 50
    t.checkpoint_every = 1000
    t.analysis = False  # the denoising evaluator plots |H| of the trained layer itself
    t.evaluator = "denoise"
    c.log.wandb.group = "denoise"

    names = variant_names(variant, VARIANTS)
    if len([p for p in names if p.startswith("alpha_")]) > 1:
        raise ValueError(f"variant {variant!r}: at most one alpha_* setting")
    # The set-ups first, whatever their place in the list (they change Re λ, from which the grid
    # scaling derives dt, c and the alpha steps), then the grid, then the rest left to right.
    set_ups = [p for p in SET_UPS if p in names and p != "smoke"]
    apply_variants(c, ",".join(set_ups), VARIANTS, FILE)
    _apply_grid(c, (16, 8) if "smoke" in names else (128, 32))
    rest = [p for p in names if p not in set_ups]
    return apply_variants(c, ",".join(rest), VARIANTS, FILE)


def _s5(c: ml_collections.ConfigDict) -> None:
    s = c.model.ssm
    s.kind = "s5"
    s.blocks = 1
    # per-mode FFT convolution: at L = 4096 the sequential scan ran at about 1 step/s here
    s.mode = "conv"


def _alpha(name: str):
    """The paper's eigenvalue step ``name`` at the config's grid and Re λ (``paper_scaling``)."""

    def set_alpha(c: ml_collections.ConfigDict) -> None:
        re = -c.model.ssm.real_init if c.model.ssm.real_init is not None else S4D_LIN_RE
        c.model.ssm.alpha = paper_scaling(c.data.grid, re)[f"alpha_{name}"]

    return set_alpha


VARIANTS = {
    "raw": {},  # the default: the paper's step π, beta = 0
    "authors": _authors,
    "legacy": _legacy,
    "s5": _s5,
    "smoke": _smoke,
    **{f"alpha_{name}": _alpha(name) for name in PAPER_STEPS},
    **{name: {"model": {"ssm": {"sobolev": {"beta": beta}}}} for name, beta in PAPER_BETAS.items()},
}
