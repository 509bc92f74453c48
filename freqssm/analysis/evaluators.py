"""Task-specific evaluations run once at the end of training, chosen by ``train.evaluator``.

An evaluator is ``fn(cfg, predict, dataset, workdir) -> dict``: ``predict`` maps a numpy batch of
inputs to the trained model's outputs (eval mode), and the evaluator may write files (images,
tables) under ``workdir``; ``workdir=None`` asks for the metrics alone (every process of a
multi-process run evaluates, because the model's calls are collective; only process 0 writes).
Its metrics land in ``results.json`` under ``"task"`` and in the logs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Dataset

Predict = Callable[[np.ndarray], np.ndarray]

EVALUATORS: dict[str, str] = {
    "denoise": "freqssm.analysis.denoise:evaluate",
}


def run(cfg: Any, predict: Predict, dataset: Dataset, workdir: Path | None) -> dict:
    """The output of the evaluator named by ``train.evaluator``, or {} when it is "" (none)."""
    name = cfg.train.get("evaluator", "")
    if not name:
        return {}
    target = EVALUATORS[name]
    module, fn = target.split(":")
    return getattr(importlib.import_module(module), fn)(cfg, predict, dataset, workdir)
