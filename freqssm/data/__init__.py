"""Task registry: ``build(data_config)`` -> :class:`~freqssm.data.base.Dataset`.

Builders are imported lazily so that importing freqssm does not pull in every loader's
dependencies (tensorflow-datasets, PIL, scikit-image).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from freqssm.data.base import (
    ArraySource,
    Batch,
    Dataset,
    Meta,
    Source,
    eval_batches,
    options,
    steps_per_epoch,
    train_batches,
)
from freqssm.data.config import DataConfig
from freqssm.data.registry import BUILDERS, loader_build, loader_defaults
from freqssm.errors import DataError

__all__ = [
    "BUILDERS",
    "ArraySource",
    "Batch",
    "DataConfig",
    "DataError",
    "Dataset",
    "Meta",
    "Source",
    "build",
    "defaults",
    "eval_batches",
    "options",
    "steps_per_epoch",
    "train_batches",
]


def get_builder(name: str) -> Callable[[DataConfig], Dataset]:
    """The ``build`` function of task ``name`` (or the function ``"module:function"`` names)."""
    return loader_build(name)


def defaults(name: str) -> dict[str, Any]:
    """Task ``name``'s data keys with their defaults (where each is declared, once).

    Config files start their ``data`` section from these (keys whose default is None are left
    out: a config sets them where it uses them), so every key can be set on the command line.
    """
    return {k: v for k, v in loader_defaults(name).items() if v is not None}


def build(data_config: DataConfig | Mapping[str, Any]) -> Dataset:
    """Build the task named by ``data_config.name`` from the rest of ``data_config`` (a
    :class:`DataConfig`, or the ``data`` section as a mapping, converted here)."""
    if not isinstance(data_config, DataConfig):
        data_config = DataConfig.from_mapping(data_config)
    return get_builder(data_config.name)(data_config)
