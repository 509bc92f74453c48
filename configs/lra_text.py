"""Text (LRA IMDb): character-level binary sentiment classification, L = 4096.

Data: the standard ``aclImdb/`` folder under ``data.root``, or tfds ``imdb_reviews`` prepared
locally (``data.source=tfds``).

What differs from the shared LRA model (``freqssm/presets/lra.py``; results/fidelity.md): d_model
256, alpha 5, SSM lr 0.001, Δ at the global lr 0.01, weight decay 0.05, batch 32, 20000 steps with
2000 warmup, seed 3333. Characters seen at least 15 times in the training text form the vocabulary
(with ``<pad>``, ``<unk>``, ``<eos>``); as in LRA there is no validation split: all 25k training
reviews train and the test split is reported as validation (``results.json`` says so). Each block
masks the padding (``model.mask_padding``).

Variants (combine with commas): ``smoke``, ``untuned`` (alpha = 1, fixed beta = 0).

Training runs to the schedule's horizon, not to the authors' epoch limit (about 156k steps;
``freqssm/presets/lra.py``).
"""

from freqssm.presets import lra as _lra_common

TASK = {
    "seed": 3333,
    "data": {
        "name": "text",
        "batch_size": 32,
        "tokenizer": "chars",  # characters seen >= data.min_freq times in the training text
        "val_split": "test",  # LRA convention: no validation split, test reported as val
    },
    "model": {"d_model": 256, "mask_padding": True, "ssm": {"alpha": 5.0}},
    "optim": {"lr": 0.01, "ssm_lr": 0.001, "weight_decay": 0.05, "warmup_steps": 2000},
    "train": {"steps": 20000, "eval_every": 1000, "checkpoint_every": 1000},
    "log": {"wandb": {"group": "lra_text"}},
}


def get_config(variant: str | None = None):
    return _lra_common.get_config(TASK, variant, 256, None, "lra_text")
