"""Random data shaped like an LRA task: time a config's training loop without its data set.

``data.name = "synthetic"`` with ``data.like = "listops"`` (or text, retrieval, image, pathfinder,
pathx) gives batches of that task's shapes, dtypes and vocabulary (:func:`lra_meta`): uniform
random tokens (full length, ``<eos>`` not marked) or N(0, 1) pixels, uniform random labels.
Nothing can be learned from it; ``scripts/gpu_check.py`` uses it to time steps. Examples are
drawn from a pool of ``pool`` random examples (``get`` is a gather, like a cached loader).

Config keys (:data:`DEFAULTS`): ``like``, ``seq_len`` (None: the task's), ``n_train`` /
``n_val`` / ``n_test`` (nominal split sizes), ``pool``, ``seed``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from freqssm.data.base import ArraySource, Dataset, Meta, options
from freqssm.data.config import DataConfig
from freqssm.errors import DataError
from freqssm.settings import Settings, to_dict


@dataclasses.dataclass(frozen=True)
class Options(Settings):
    """The synthetic task's ``data.*`` keys."""

    PREFIX: ClassVar[str] = "data"

    like: str = "listops"
    """the LRA task whose shapes, dtypes and vocabulary the batches take"""
    seq_len: int | None = None
    """None: the task's length; else this L (tiny smoke checks)"""
    n_train: int = 160000
    """nominal training split size"""
    n_val: int = 1024
    """nominal validation split size"""
    n_test: int = 1024
    """nominal test split size"""
    pool: int = 256
    """random examples drawn once; the splits index into them"""
    seed: int = 0
    """the pool's generator"""


DEFAULTS: dict[str, Any] = to_dict(Options())


class PoolSource:
    """``n`` nominal examples, example ``i`` being row ``i % pool`` of the arrays."""

    def __init__(self, arrays: dict[str, np.ndarray], n: int) -> None:
        self.pool, self.n = ArraySource(arrays), int(n)

    def __len__(self) -> int:
        return self.n

    def get(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        return self.pool.get(np.asarray(indices) % len(self.pool))


def random_examples(meta: Meta, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random examples with the batch layout of a task with ``meta``."""
    L = meta.seq_len
    if meta.output_kind == "retrieval":
        inputs = rng.integers(1, meta.in_features, (n, 2, L), dtype=np.int32)
        lengths = np.full((n, 2), L, np.int32)
    elif meta.input_kind == "tokens":
        inputs = rng.integers(1, meta.in_features, (n, L), dtype=np.int32)
        lengths = np.full((n,), L, np.int32)
    else:
        inputs = rng.standard_normal((n, L, meta.in_features), dtype=np.float32)
        lengths = None
    out = {"inputs": inputs, "targets": rng.integers(0, meta.n_outputs, n, dtype=np.int32)}
    if lengths is not None:
        out["lengths"] = lengths
    return out


def build(cfg: DataConfig) -> Dataset:
    """Random splits shaped like LRA task ``data.like``."""
    from freqssm.data.lra import lra_meta

    o = options(cfg, DEFAULTS)
    tasks = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
    if o["like"] not in tasks:
        raise DataError(f"data.like={o['like']!r}: one of {tasks}")
    meta = lra_meta(o["like"])
    if o["seq_len"]:
        meta = dataclasses.replace(meta, seq_len=int(o["seq_len"]))
    pool = int(o["pool"])
    rng = np.random.default_rng(int(o["seed"]))
    splits = [
        PoolSource(random_examples(meta, pool, rng), int(o[f"n_{split}"]))
        for split in ("train", "val", "test")
    ]
    return Dataset(*splits, dataclasses.replace(meta, extra={"synthetic": o["like"]}))
