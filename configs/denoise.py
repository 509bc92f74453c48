"""Image denoising (paper Sec. 6 / authors' ``denoising.py``): one linear SSM layer is trained to
reproduce images read as one long sequence, then used as a filter on noisy images.

    python -m freqssm.train --config configs/denoise.py --workdir runs/denoise
    python -m freqssm.train --config configs/denoise.py:alpha_flip --workdir runs/denoise_flip
    python -m freqssm.train --config configs/denoise.py:smoke --workdir /tmp/denoise_smoke

Variants (the paper's settings, each knob on its own; ``default`` = ``raw``):

==================  =============================  =================================================
variant             knob                           paper setting
==================  =============================  =================================================
raw (default)       alpha = 1/6, beta = 0          eigenvalue step pi ("raw"), the untuned layer
alpha_enhance       alpha = 1/18                   step pi/3 ("enhance": stronger low-freq. bias)
alpha_middle        alpha = 5/3                    step 10 pi ("middle": weaker bias)
alpha_flip          alpha = 26.02                  step 490.52 ("flip": reversed bias)
beta_enhance        beta = -1                      Sobolev filter, stronger bias
beta_middle         beta = +0.5                    weaker bias
beta_flip           beta = +1                      the paper's largest beta
s5                  model.ssm.kind = "s5"          the raw setting with one MIMO S5 layer
smoke               tiny grid, a few steps         tests (seconds)
==================  =============================  =================================================

The model is the authors' single linear S4D layer: 3 channels in and out, 64 complex modes per
channel with S4D-Lin imaginary parts (one mode at zero frequency), no D feed-through (else it would
learn D = 1, the identity), no bidirectionality, trained with MSE to reproduce its input (AdamW,
cosine, no weight decay). As in the paper, Δ and Re Λ are fixed and the imaginary parts (and C)
are trained; B is fixed too (``optim.frozen``), so the eigenvalues' imaginary parts and C are
the only trainable parameters. The authors used lr 1e-3 for 20 epochs of CelebA; on our 512 crops
that leaves the layer far from converged (test MSE 0.45 after 320 steps with everything but C
frozen), so we use lr 1e-2 for C and 960 steps (60 epochs).

Scaling the paper's numbers to our grid (see ``paper_scaling``). The paper reads 2048 x 128 images
(L = 262144) with dt = 1e-4, Re λ = -3 and Im λ_n = step·n. The discrete system only depends on
λ·dt, and an image row of ``cols`` pixels puts horizontal structure at the row harmonics
k·2π/cols rad/sample, so we keep λ·dt *relative to the row frequency*: λ·dt = (128 / cols) ·
(-3 + i·step·n)·1e-4. Our S4D-Lin has Re λ = -1/2 and Im λ_n = alpha·π·n, so

* dt = 6 · 1e-4 · 128 / cols (the factor 6 = 3 / (1/2) gives the paper's damping per row),
  = 2.4e-3 at the default 32 columns (dt_min = dt_max, fixed);
* alpha = step / (6π): raw 1/6, enhance 1/18, middle 5/3, flip 490.52 / (6π) = 26.02.

With the flip step the modes sit (almost exactly, 490.52e-4 vs 2π/128) on the row harmonics, so
the flip layer is a comb filter on the harmonics; at 32 columns only 16 harmonics fit below Nyquist
and the 64 modes wrap around the unit circle four times (each harmonic gets about four modes).

The Sobolev constant: the authors multiply the FFT bins k = 0..L of the 2L-padded product by
(1 + k/c)^beta with c = 1e4 at L = 262144. Bin k is the frequency k/L of Nyquist in both cases,
so c = 1e4 · L / 262144 (= 156.25 at L = 4096) gives the same factor at every fraction of Nyquist
(27.2^beta at Nyquist, 2.3^beta at 5%).

The data (``freqssm.data.denoise``): scikit-image's bundled photographs, random square crops,
resized to ``grid`` = (rows, cols) = (128, 32) by default, RGB in [-1, 1]. Noise for evaluation:
``low_band`` (0, 0.05) and ``high_band`` (0.5, 1) of Nyquist, std 0.2 each. Changing
``data.grid`` on the command line does not rescale dt and c; use ``paper_scaling`` in a variant.
"""

import math

import ml_collections

from freqssm.config import base_config

PAPER_GRID = (2048, 128)
PAPER_DT = 1e-4
PAPER_RE = 3.0  # |Re λ| of the authors' modes (all but the zero-frequency one)
PAPER_C = 1e4
# The authors' eigenvalue steps (their ``alpha``: Im λ_n = step · n).
PAPER_STEPS = {
    "raw": math.pi,
    "enhance": math.pi / 3,
    "middle": 10 * math.pi,
    "flip": 490.52,
}
S4D_LIN_RE = 0.5  # |Re λ| of our S4D-Lin initialization


def paper_scaling(grid: tuple[int, int]) -> dict[str, float]:
    """dt, Sobolev c and alpha per paper setting for an image grid (rows, cols).

    Keeps λ·dt relative to the row frequency 2π/cols and the Sobolev factor per fraction of
    Nyquist (module docstring). Returns {"dt", "c", "alpha_raw", "alpha_enhance", ...}.
    """
    rows, cols = (int(g) for g in grid)
    dt_paper_scaled = PAPER_DT * PAPER_GRID[1] / cols  # paper's dt at our row frequency
    dt = dt_paper_scaled * PAPER_RE / S4D_LIN_RE  # our Re λ = -1/2 -> same Re λ·dt
    out = {"dt": dt, "c": PAPER_C * rows * cols / (PAPER_GRID[0] * PAPER_GRID[1])}
    for name, step in PAPER_STEPS.items():
        # Im λ_n·dt: alpha·π·n·dt = step·n·dt_paper_scaled
        out[f"alpha_{name}"] = step * dt_paper_scaled / (math.pi * dt)
    return out


def _apply_grid(c: ml_collections.ConfigDict, grid: tuple[int, int]) -> dict[str, float]:
    s = paper_scaling(grid)
    c.data.grid = tuple(grid)
    c.model.ssm.dt_min = c.model.ssm.dt_max = s["dt"]
    c.model.ssm.sobolev.c = s["c"]
    c.model.ssm.alpha = s["alpha_raw"]
    return s


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = base_config()
    c.seed = 0
    d = c.data
    d.name = "denoise"
    d.source = "skimage"
    d.batch_size = 32
    d.n_train = 512
    d.n_val = 64
    d.n_test = 64
    d.seed = 0
    d.crop_scale = (0.5, 1.0)
    d.flip = True
    d.low_band = (0.0, 0.05)
    d.high_band = (0.5, 1.0)
    d.noise_sigma = 0.2
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
    scaling = _apply_grid(c, (128, 32))

    o = c.optim
    o.lr = 1e-2
    o.ssm_lr = 1e-3  # the paper's lr, for Im Λ (the only SSM parameter not frozen)
    o.frozen = ("Lambda_re", "B", "log_dt")
    o.weight_decay = 0.0
    o.warmup_steps = 0
    o.end_lr_factor = 0.0

    t = c.train
    t.steps = 960  # 60 epochs of 512 crops at batch 32
    t.eval_every = 320
    t.log_every = 20
    t.checkpoint_every = 320
    t.analysis = False  # the denoising evaluator plots |H| of the trained layer itself
    c.log.wandb.group = "denoise"

    if variant in (None, "", "default", "raw"):
        pass
    elif variant == "smoke":
        _apply_grid(c, (16, 8))
        d.n_train, d.n_val, d.n_test = 32, 8, 8
        d.batch_size = 8
        d.n_examples = 2
        s.state_size = 16
        t.steps = 4
        t.eval_every = 4
        t.log_every = 2
        t.checkpoint_every = 4
        c.log.wandb.mode = "disabled"
    elif variant.startswith("alpha_") and variant[6:] in PAPER_STEPS:
        s.alpha = scaling[variant]
    elif variant == "beta_enhance":
        s.sobolev.beta = -1.0
    elif variant == "beta_middle":
        s.sobolev.beta = 0.5
    elif variant == "beta_flip":
        s.sobolev.beta = 1.0
    elif variant == "s5":
        s.kind = "s5"
        s.blocks = 1
        # per-mode FFT convolution: at L = 4096 the sequential scan ran at about 1 step/s here
        s.mode = "conv"
    else:
        raise ValueError(f"unknown variant {variant!r} of configs/denoise.py")
    return c
