"""The paper's synthetic waves experiment (Sec. 6 style): regress the amplitudes of a low, a
moderate and a high frequency wave superposed in one input sequence.

    python -m freqssm.train --config configs/waves.py --workdir runs/waves
    python -m freqssm.train --config configs/waves.py:smoke --workdir /tmp/waves_smoke

Variants: ``smoke`` (seconds, for tests), ``alpha_low``/``alpha_high`` (alpha = 0.1 / 10) and
``beta_low``/``beta_high`` (beta = -2 / +2); any key can also be overridden on the command line.

The step range dt in [1e-3, 1e-2] with S4D-Lin (Im λ_n = alpha·π·n, n < 16) puts the untuned
modes at discrete frequencies θ = Im λ·dt <= 0.47 rad, below the high wave (2.45 rad at
L = 1024), which is what gives the untuned model its low-frequency bias here.
"""

import ml_collections

from freqssm.config import base_config


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = base_config()
    c.seed = 0
    d = c.data
    d.name = "waves"
    d.batch_size = 32
    d.seq_len = 1024
    d.frequencies = (4, 64, 400)  # cycles per sequence: low, moderate, high (Nyquist = 512)
    d.amp_low = 0.0
    d.amp_high = 1.0
    d.noise = 0.0
    d.n_train = 4096
    d.n_val = 512
    d.n_test = 512
    d.seed = 0

    m = c.model
    m.n_layers = 1  # one block keeps the bias visible: deeper stacks mix frequencies more
    m.d_model = 32
    m.norm = "layer"
    m.activation = "half_glu1"
    m.ssm.kind = "s4d"
    m.ssm.state_size = 32
    m.ssm.init = "s4d_lin"
    m.ssm.dt_min = 1e-3
    m.ssm.dt_max = 1e-2
    # The authors' scripts use c = 1e4 for sequences of 262144 samples; at L = 1024 that makes
    # (1 + k/c)^beta nearly flat (1.1 at Nyquist), so we scale c to the rfft grid of 2L = 2048:
    # c = 64 gives factors 1.13 (low wave), 3 (moderate) and 13.5 (high) at beta = 1.
    m.ssm.sobolev.c = 64.0

    c.optim.lr = 3e-3
    c.optim.ssm_lr = 1e-3
    c.optim.dt_lr = 1e-3  # Δ with the SSM parameters (None would put it at the global lr)
    c.optim.weight_decay = 0.0
    c.optim.warmup_steps = 50

    c.train.steps = 500
    c.train.eval_every = 250
    c.train.log_every = 25
    c.train.checkpoint_every = 250
    c.log.wandb.group = "waves"

    if variant in (None, "", "default"):
        pass
    elif variant == "smoke":
        d.seq_len = 128
        d.frequencies = (2, 8, 50)
        d.n_train, d.n_val, d.n_test = 256, 64, 64
        d.batch_size = 16
        m.d_model = 16
        m.ssm.state_size = 8
        c.optim.warmup_steps = 2
        c.train.steps = 20
        c.train.eval_every = 10
        c.train.log_every = 5
        c.train.checkpoint_every = 10
        c.log.wandb.mode = "disabled"
    elif variant == "alpha_low":
        m.ssm.alpha = 0.1
    elif variant == "alpha_high":
        m.ssm.alpha = 10.0
    elif variant == "beta_low":
        m.ssm.sobolev.beta = -2.0
    elif variant == "beta_high":
        m.ssm.sobolev.beta = 2.0
    else:
        raise ValueError(f"unknown variant {variant!r} of configs/waves.py")
    return c
