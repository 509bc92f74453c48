"""ListOps (LRA): 10-way classification of nested MAX/MIN/MED/SM expressions, L = 2048.

Data: ``python -m freqssm.datagen.listops --out $FREQSSM_DATA`` (or the official lra_release
folder ``listops-1000/``).

The authors' model (README, "Fidelity to the paper's setup"; the LRA base in
``freqssm.config.lra_base`` holds what all tasks share): d_model 128, batch norm, alpha 3, one
eigenvalue set per layer, pooling at the EOS token (``model.pooling = "last"``), SSM lr 0.004,
Δ at the global lr 0.008, weight decay 0.03, dropout 0, batch 32, 150000 steps with 5000
warmup, dt_min 0.001, seed 2222.

Variants: ``smoke`` (tiny model, a few hundred examples, seconds on CPU), ``untuned`` (alpha = 1,
fixed beta = 0), ``reduced`` and ``reduced_untuned`` (the CPU-scale runs of results/lra.md).

Training length: the run stops at the schedule's horizon (``train.steps``, where the cosine
reaches zero). The authors' trainer counts epochs instead, which implies about 480k steps; past
the horizon their cosine rises again, so training exactly to the horizon is our reading.
"""

import ml_collections

from freqssm.config import lra_base, lra_smoke, lra_untuned


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = lra_base()
    c.seed = 2222
    c.data.name = "listops"
    c.data.seq_len = 2048
    c.data.batch_size = 32
    c.model.d_model = 128
    c.model.norm = "batch"
    c.model.prenorm = True
    c.model.dropout = 0.0
    c.model.pooling = "last"  # the output at the EOS token
    c.model.ssm.alpha = 3.0
    c.model.ssm.dt_min = 0.001
    c.optim.lr = 0.008
    c.optim.ssm_lr = 0.004
    c.optim.weight_decay = 0.03
    c.optim.warmup_steps = 5000
    c.train.steps = 150000
    c.train.eval_every = 3000
    c.train.checkpoint_every = 3000
    c.train.log_every = 100
    c.log.wandb.group = "lra_listops"
    if variant in (None, "", "default"):
        pass
    elif variant == "smoke":
        lra_smoke(c, seq_len=512)
    elif variant == "untuned":
        lra_untuned(c)
    elif variant in ("reduced", "reduced_untuned"):
        # CPU-scale run for results/lra.md (about 30 minutes on 2 shared cores); see that file.
        c.data.max_examples = 20000
        c.data.batch_size = 32
        c.model.n_layers = 4
        c.model.d_model = 64
        c.optim.warmup_steps = 80
        c.train.steps = 800
        c.train.eval_every = 200
        c.train.checkpoint_every = 200
        c.train.log_every = 20
        c.train.eval_limit = 1000
        if variant == "reduced_untuned":
            lra_untuned(c)
    else:
        raise ValueError(f"unknown variant {variant!r} of configs/lra_listops.py")
    return c
