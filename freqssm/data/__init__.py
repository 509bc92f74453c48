"""Task registry: ``build(config.data)`` -> :class:`~freqssm.data.base.Dataset`.

Builders are imported lazily so that importing freqssm does not pull in every loader's
dependencies (tensorflow-datasets, PIL, scikit-image).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from freqssm.data.base import (
    ArraySource,
    Batch,
    DataError,
    Dataset,
    Meta,
    Source,
    eval_batches,
    steps_per_epoch,
    train_batches,
)

__all__ = [
    "BUILDERS",
    "ArraySource",
    "Batch",
    "DataError",
    "Dataset",
    "Meta",
    "Source",
    "build",
    "eval_batches",
    "steps_per_epoch",
    "train_batches",
]

# name -> "module:function"; each function takes the data ConfigDict and returns a Dataset.
BUILDERS: dict[str, str] = {
    "waves": "freqssm.data.waves:build",
    "denoise": "freqssm.data.denoise:build",
    "listops": "freqssm.data.lra:build_listops",
    "text": "freqssm.data.lra:build_text",
    "retrieval": "freqssm.data.lra:build_retrieval",
    "image": "freqssm.data.lra:build_image",
    "pathfinder": "freqssm.data.lra:build_pathfinder",
    "pathx": "freqssm.data.lra:build_pathx",
}


def get_builder(name: str) -> Callable[[Any], Dataset]:
    if name not in BUILDERS:
        raise DataError(f"data.name={name!r} is not a known task; choose one of {sorted(BUILDERS)}")
    module, fn = BUILDERS[name].split(":")
    return getattr(importlib.import_module(module), fn)


def build(data_config: Any) -> Dataset:
    """Build the task named by ``data_config.name`` from the rest of ``data_config``."""
    return get_builder(data_config.name)(data_config)
