"""Path-X (LRA): Pathfinder at 128x128 pixels, L = 16384.

Data: ``python -m freqssm.datagen.pathfinder --out $FREQSSM_DATA --resolution 128 --n 200000``.

What differs from the shared LRA model (``freqssm/presets/lra.py``; results/fidelity.md): d_model
128, alpha 5, one eigenvalue set per feature, dt_min 1e-4, SSM, Δ and global lr 0.001, weight
decay 0.03, batch 20, 1250000 steps with 200000 warmup, seed 3333.

Variants (combine with commas): ``smoke``, ``untuned`` (alpha = 1, fixed beta = 0).

Training runs to the schedule's horizon, not to the authors' epoch limit (about 1.2M steps;
``freqssm/presets/lra.py``).
"""

from freqssm.presets import lra as _lra_common

TASK = {
    "seed": 3333,
    "data": {
        "name": "pathx",
        "batch_size": 20,
        "cache": True,  # decode the PNGs once into a uint8 memmap next to the data
    },
    "model": {"d_model": 128, "ssm": {"alpha": 5.0, "dt_min": 0.0001, "n_ssm": None}},
    "optim": {
        "lr": 0.001,
        "ssm_lr": 0.001,
        "dt_lr": 0.001,
        "weight_decay": 0.03,
        "warmup_steps": 200000,
    },
    "train": {"steps": 1250000, "eval_every": 8000, "checkpoint_every": 8000},
    "log": {"wandb": {"group": "lra_pathx"}},
}


def get_config(variant: str | None = None):
    return _lra_common.get_config(TASK, variant, 16384, None, "lra_pathx")
