"""Text (LRA IMDb): character-level binary sentiment classification, L = 4096.

Data: the standard ``aclImdb/`` folder under ``data.root``, or tfds ``imdb_reviews`` prepared
locally (``data.source=tfds``).

The authors' model (README, "Fidelity to the paper's setup"; the LRA base in
``freqssm.config.lra_base`` holds what all tasks share): d_model 256, batch norm, alpha 5, one
eigenvalue set per layer, masked mean pooling, SSM lr 0.001, Δ at the global lr 0.01, weight
decay 0.05, dropout 0, batch 32, 20000 steps with 2000 warmup, dt_min 0.001, seed 3333.
Characters seen at least 15 times in the training text form the vocabulary (with
``<pad>``, ``<unk>``, ``<eos>``); as in LRA there is no validation split: all 25k training
reviews train and the test split is reported as validation (``results.json`` says so).

Variants: ``smoke`` (tiny model, a few hundred examples, seconds on CPU), ``untuned`` (alpha = 1,
fixed beta = 0).

Training length: the run stops at the schedule's horizon (``train.steps``, where the cosine
reaches zero). The authors' trainer counts epochs instead, which implies about 156k steps; past
the horizon their cosine rises again, so training exactly to the horizon is our reading.
"""

import ml_collections

from freqssm.config import lra_base, lra_smoke, lra_untuned


def get_config(variant: str | None = None) -> ml_collections.ConfigDict:
    c = lra_base()
    c.seed = 3333
    c.data.name = "text"
    c.data.seq_len = 4096
    c.data.source = "files"  # "files" (the standard folder) or "tfds" (prepared locally)
    c.data.tfds_dir = ""  # tfds data_dir; "" means tfds' default
    c.data.tokenizer = "chars"  # characters seen >= min_freq times in the training text
    c.data.min_freq = 15
    c.data.val_split = "test"  # LRA convention: no validation split, test reported as val
    c.data.batch_size = 32
    c.model.d_model = 256
    c.model.norm = "batch"
    c.model.prenorm = True
    c.model.dropout = 0.0
    c.model.ssm.alpha = 5.0
    c.model.ssm.dt_min = 0.001
    c.optim.lr = 0.01
    c.optim.ssm_lr = 0.001
    c.optim.weight_decay = 0.05
    c.optim.warmup_steps = 2000
    c.train.steps = 20000
    c.train.eval_every = 1000
    c.train.checkpoint_every = 1000
    c.train.log_every = 100
    c.log.wandb.group = "lra_text"
    if variant in (None, "", "default"):
        pass
    elif variant == "smoke":
        lra_smoke(c, seq_len=256)
    elif variant == "untuned":
        lra_untuned(c)
    else:
        raise ValueError(f"unknown variant {variant!r} of configs/lra_text.py")
    return c
