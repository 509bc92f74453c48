"""Retrieval (LRA AAN): do two byte-level documents cite each other? L = 4000 per document,
two-tower head.

Data: ``tsv_data/new_aan_pairs.{train,eval,test}.tsv`` from lra_release under ``data.root``.

What differs from the shared LRA model (``freqssm/presets/lra.py``; results/fidelity.md): d_model
128, alpha 3, SSM lr 0.001, Δ at the global lr 0.004, weight decay 0.03, batch 64, 100000 steps
with 5000 warmup, seed 3333; each block masks each document's padding (``model.mask_padding``).

Variants (combine with commas): ``smoke``, ``untuned`` (alpha = 1, fixed beta = 0).

Training runs to the schedule's horizon, not to the authors' epoch limit (about 92k steps;
``freqssm/presets/lra.py``).
"""

from freqssm.presets import lra as _lra_common

TASK = {
    "seed": 3333,
    "data": {"name": "retrieval", "batch_size": 64},
    "model": {"d_model": 128, "mask_padding": True, "ssm": {"alpha": 3.0}},
    "optim": {"lr": 0.004, "ssm_lr": 0.001, "weight_decay": 0.03, "warmup_steps": 5000},
    "train": {"steps": 100000, "eval_every": 2000, "checkpoint_every": 2000},
    "log": {"wandb": {"group": "lra_retrieval"}},
}


def get_config(variant: str | None = None):
    return _lra_common.get_config(TASK, variant, 256, None, "lra_retrieval")
