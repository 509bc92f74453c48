"""Image (LRA sequential grayscale CIFAR-10): L = 1024 pixels, 10 classes.

Data: ``cifar-10-batches-py/`` under ``data.root`` or tfds ``cifar10`` (``data.source=tfds``).

What differs from the shared LRA model (``freqssm/presets/lra.py``; results/fidelity.md): d_model
512, layer norm after the residual (postnorm), alpha 3, one eigenvalue set per feature, SSM and Δ
lr 0.001, lr 0.01, weight decay 0.01, dropout 0.1 at the three tied sites of each block, batch 50,
180000 steps with 18000 warmup, seed 2222.

Variants (combine with commas): ``smoke``, ``untuned`` (alpha = 1, fixed beta = 0).

Training runs to the schedule's horizon, not to the authors' epoch limit (about 1.08M steps;
``freqssm/presets/lra.py``).
"""

from freqssm.presets import lra as _lra_common

TASK = {
    "seed": 2222,
    "data": {
        "name": "image",
        "batch_size": 50,
    },
    "model": {
        "d_model": 512,
        "norm": "layer",
        "prenorm": False,
        "dropout": 0.1,
        "ssm": {"alpha": 3.0, "n_ssm": None},  # one eigenvalue set per feature
    },
    "optim": {
        "lr": 0.01,
        "ssm_lr": 0.001,
        "dt_lr": 0.001,
        "weight_decay": 0.01,
        "warmup_steps": 18000,
    },
    "train": {"steps": 180000, "eval_every": 900, "checkpoint_every": 900},
    "log": {"wandb": {"group": "lra_image"}},
}


def get_config(variant: str | None = None):
    return _lra_common.get_config(TASK, variant, 1024, None, "lra_image")
