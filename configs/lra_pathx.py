"""Path-X (LRA): Pathfinder at 128x128 pixels, L = 16384.

Data: ``python -m freqssm.datagen.pathfinder --out $FREQSSM_DATA --resolution 128 --n 200000``.

The authors' model (README, "Fidelity to the paper's setup"; the LRA base in
``freqssm.config.lra_base`` holds what all tasks share): d_model 128, batch norm, alpha 5, one
eigenvalue set per feature, SSM and Δ lr 0.001, lr 0.001, weight decay 0.03, dropout 0, batch
20, 1250000 steps with 200000 warmup, dt_min 0.0001, seed 3333.

Variants: ``smoke`` (tiny model, a few hundred examples, seconds on CPU), ``untuned`` (alpha = 1,
fixed beta = 0).

Training length: the run stops at the schedule's horizon (``train.steps``, where the cosine
reaches zero). The authors' trainer counts epochs instead, which implies about 1.2M steps; past
the horizon their cosine rises again, so training exactly to the horizon is our reading.
"""

import ml_collections

from freqssm.config import lra_base, lra_smoke, lra_untuned


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = lra_base()
    c.seed = 3333
    c.data.name = "pathx"
    c.data.seq_len = 16384
    c.data.resolution = 128
    c.data.difficulty = "curv_contour_length_14"
    c.data.cache = True  # decode the PNGs once into a uint8 memmap next to the data
    c.data.center = False  # pixels in [0, 1] (True: [-1, 1])
    c.data.batch_size = 20
    c.model.d_model = 128
    c.model.norm = "batch"
    c.model.prenorm = True
    c.model.dropout = 0.0
    c.model.ssm.alpha = 5.0
    c.model.ssm.dt_min = 0.0001
    c.model.ssm.n_ssm = None  # one eigenvalue set per feature
    c.optim.dt_lr = 0.001
    c.optim.lr = 0.001
    c.optim.ssm_lr = 0.001
    c.optim.weight_decay = 0.03
    c.optim.warmup_steps = 200000
    c.train.steps = 1250000
    c.train.eval_every = 8000
    c.train.checkpoint_every = 8000
    c.train.log_every = 100
    c.log.wandb.group = "lra_pathx"
    if variant in (None, "", "default"):
        pass
    elif variant == "smoke":
        lra_smoke(c, seq_len=16384)
    elif variant == "untuned":
        lra_untuned(c)
    else:
        raise ValueError(f"unknown variant {variant!r} of configs/lra_pathx.py")
    return c
