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
    Dataset,
    Meta,
    Source,
    eval_batches,
    steps_per_epoch,
    train_batches,
)
from freqssm.errors import DataError

__all__ = [
    "BUILDERS",
    "ArraySource",
    "Batch",
    "DataError",
    "Dataset",
    "Meta",
    "Source",
    "build",
    "defaults",
    "eval_batches",
    "steps_per_epoch",
    "train_batches",
]

# task name -> the module that loads it; each has ``build(data_config) -> Dataset`` and
# ``DEFAULTS``, its data keys with their defaults.
BUILDERS: dict[str, str] = {
    "waves": "freqssm.data.waves",
    "denoise": "freqssm.data.denoise",
    "listops": "freqssm.data.lra.listops",
    "text": "freqssm.data.lra.text",
    "retrieval": "freqssm.data.lra.retrieval",
    "image": "freqssm.data.lra.image",
    "pathfinder": "freqssm.data.lra.pathfinder",
    "pathx": "freqssm.data.lra.pathx",
    "synthetic": "freqssm.data.synthetic",  # random data shaped like an LRA task (timing)
}


def _module(name: str) -> Any:
    if name not in BUILDERS:
        raise DataError(f"data.name={name!r} is not a known task; choose one of {sorted(BUILDERS)}")
    return importlib.import_module(BUILDERS[name])


def get_builder(name: str) -> Callable[[Any], Dataset]:
    """The ``build`` function of task ``name``."""
    return _module(name).build


def defaults(name: str) -> dict[str, Any]:
    """Task ``name``'s data keys with their defaults (where each is declared, once).

    Config files start their ``data`` section from these (keys whose default is None are left
    out: a config sets them where it uses them), so every key can be set on the command line.
    """
    return {k: v for k, v in _module(name).DEFAULTS.items() if v is not None}


def build(data_config: Any) -> Dataset:
    """Build the task named by ``data_config.name`` from the rest of ``data_config``."""
    return get_builder(data_config.name)(data_config)
