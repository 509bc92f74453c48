"""ListOps (LRA): 10-way classification of nested MAX/MIN/MED/SM expressions, L = 2048.

Data: ``python -m freqssm.datagen.listops --out $FREQSSM_DATA`` (or the official lra_release
folder ``listops-1000/``).

What differs from the shared LRA model (``freqssm/presets/lra.py``; results/fidelity.md): d_model
128, alpha 3, pooling at the EOS token, SSM lr 0.004, Δ at the global lr 0.008, weight decay 0.03,
batch 32, 150000 steps with 5000 warmup, seed 2222; each block masks the padding
(``model.mask_padding``).

Variants (combine with commas): ``smoke``, ``untuned`` (alpha = 1, fixed beta = 0), ``reduced``
(the CPU-scale runs of results/lra.md; ``reduced_untuned`` = ``reduced,untuned``).

Training runs to the schedule's horizon, not to the authors' epoch limit (about 480k steps;
``freqssm/presets/lra.py``).
"""

from freqssm.presets import lra as _lra_common

TASK = {
    "seed": 2222,
    "data": {"name": "listops", "batch_size": 32},
    "model": {"d_model": 128, "pooling": "last", "mask_padding": True, "ssm": {"alpha": 3.0}},
    "optim": {"lr": 0.008, "ssm_lr": 0.004, "weight_decay": 0.03, "warmup_steps": 5000},
    "train": {"steps": 150000, "eval_every": 3000, "checkpoint_every": 3000},
    "log": {"wandb": {"group": "lra_listops"}},
}
VARIANTS = {
    # CPU-scale run for results/lra.md (about 40 minutes on 2 cores); see that file.
    "reduced": _lra_common.reduced(steps=800, warmup=80, eval_every=200),
    "reduced_untuned": "reduced,untuned",
    # The CPU learning study (results/lra.md, "A run that learns"): sequences of at most 600
    # tokens (data generated with --max_length 600), 4000 steps of 32 from 20k examples.
    "cpu": _lra_common.deep_merge(
        _lra_common.reduced(steps=4000, warmup=200, eval_every=400), {"data": {"seq_len": 600}}
    ),
    "cpu_untuned": "cpu,untuned",
    "cpu_ours": "cpu,ours",
}


def get_config(variant: str | None = None):
    return _lra_common.get_config(TASK, variant, 512, VARIANTS, "lra_listops")
