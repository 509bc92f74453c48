"""Task-specific evaluations run once at the end of training, chosen by ``train.evaluator``.

An evaluator is ``fn(data, ssm, predict, dataset, workdir) -> dict`` (``data``: the run's
:class:`~freqssm.data.config.DataConfig`, ``ssm``: its :class:`~freqssm.model.config.SSMConfig`,
for titles): ``predict`` maps a numpy batch of
inputs to the trained model's outputs (eval mode), and the evaluator may write files (images,
tables) under ``workdir``; ``workdir=None`` asks for the metrics alone (every process of a
multi-process run evaluates, because the model's calls are collective; only process 0 writes).
Its metrics land in ``results.json`` under ``"task"`` and in the logs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from freqssm.data.base import Dataset
from freqssm.data.config import DataConfig
from freqssm.model.config import SSMConfig

Predict = Callable[[np.ndarray], np.ndarray]

EVALUATORS: dict[str, str] = {
    "denoise": "freqssm.analysis.denoise:evaluate",
}


def run(
    name: str,
    data: DataConfig,
    ssm: SSMConfig,
    predict: Predict,
    dataset: Dataset,
    workdir: Path | None,
) -> dict:
    """The output of evaluator ``name`` (``train.evaluator``), or {} when it is "" (none)."""
    if not name:
        return {}
    module, fn = EVALUATORS[name].split(":")
    return getattr(importlib.import_module(module), fn)(data, ssm, predict, dataset, workdir)
