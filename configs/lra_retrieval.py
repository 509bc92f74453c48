"""Retrieval (LRA AAN): do two byte-level documents cite each other? L = 4000 per document,
two-tower head.

Data: ``tsv_data/new_aan_pairs.{train,eval,test}.tsv`` from lra_release under ``data.root``.

The authors' settings (paper-notes.md): d_model 128, batch norm, alpha 3,
SSM lr 0.001, lr 0.004, weight decay 0.03, dropout 0, batch 64, 100000 steps with
5000 warmup, dt_min 0.001; 6 bidirectional S4D layers, learnable Sobolev exponent.

Variants: ``smoke`` (tiny model, a few hundred examples, seconds on CPU), ``untuned`` (alpha = 1, no
Sobolev filter).
"""

import ml_collections

from freqssm.config import lra_base, lra_smoke, lra_untuned


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = lra_base()
    c.seed = 3333
    c.data.name = "retrieval"
    c.data.seq_len = 4000
    c.data.batch_size = 64
    c.model.d_model = 128
    c.model.norm = "batch"
    c.model.prenorm = True
    c.model.dropout = 0.0
    c.model.ssm.alpha = 3.0
    c.model.ssm.dt_min = 0.001
    c.optim.lr = 0.004
    c.optim.ssm_lr = 0.001
    c.optim.weight_decay = 0.03
    c.optim.warmup_steps = 5000
    c.train.steps = 100000
    c.train.eval_every = 2000
    c.train.checkpoint_every = 2000
    c.train.log_every = 100
    c.log.wandb.group = "lra_retrieval"
    if variant in (None, "", "default"):
        pass
    elif variant == "smoke":
        lra_smoke(c, seq_len=256)
    elif variant == "untuned":
        lra_untuned(c)
    else:
        raise ValueError(f"unknown variant {variant!r} of configs/lra_retrieval.py")
    return c
