"""The data interface every task implements, and deterministic, resumable batching.

A task builder returns a :class:`Dataset`: three random-access :class:`Source` splits plus
:class:`Meta`. Batching lives here, once, so that every task gets the same guarantees:

* training batches are a pure function of ``(seed, step)``: epoch ``e`` uses the permutation
  ``default_rng([seed, e])``; resuming at step ``s`` needs nothing but ``s``;
* evaluation batches cover every example exactly once; the last batch is padded to full size and
  carries ``mask`` (1 for real rows, 0 for padding) so that jitted eval steps see one shape.

Batch layout (numpy arrays, batch axis first):

==============  ==========================================  ==================================
key             shape / dtype                               when
==============  ==========================================  ==================================
``inputs``      (B, L) int32 tokens, or (B, L, C) float32    always
                (B, 2, L) int32 for two-document retrieval
``lengths``     (B,) int32, or (B, 2) for retrieval          token tasks with padding
``targets``     (B,) int32 class, or float32 regression      always
                targets of shape (B, K) or (B, L, C)
``mask``        (B,) float32                                 eval batches only
==============  ==========================================  ==================================
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from freqssm.errors import DataError
from freqssm.settings import to_dict

Batch = dict[str, np.ndarray]

InputKind = Literal["tokens", "real"]
OutputKind = Literal["classification", "retrieval", "regression", "sequence_regression"]


def default_data_root() -> str:
    """``$FREQSSM_DATA`` if set, else ``~/.cache/freqssm`` (the default of ``data.root``)."""
    return os.environ.get("FREQSSM_DATA") or os.path.join(
        os.path.expanduser("~"), ".cache", "freqssm"
    )


def tfds_prepare_hint(name: str, data_dir: str | None) -> str:
    """How to prepare tfds data set ``name`` so that it can be read without TensorFlow.

    Our readers need the array_record format. A data_dir that already holds ``name`` in tfds'
    default tfrecord format cannot be converted in place (tfds refuses: "File format is already
    set"), so the hint builds into a fresh folder and points ``data.tfds_dir`` at it.
    """
    where = data_dir or "~/tensorflow_datasets"
    return (
        f"prepare it once (network needed) with `pip install 'freqssm[tfds-prepare]'` and "
        f"`tfds build {name} --data_dir={where} --file_format=array_record`; if {where} already "
        f"holds {name} as tfrecord, build into a fresh folder instead (`--data_dir=NEW`) and run "
        "with --config.data.tfds_dir=NEW (README, 'Data sets')"
    )


def data_root(cfg: Any) -> Path:
    """``cfg.root`` (``~`` expanded; ``cfg`` a :class:`~freqssm.data.config.DataConfig`), else
    :func:`default_data_root`."""
    return Path(os.path.expanduser(str(getattr(cfg, "root", None) or default_data_root())))


def options(cfg: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The task's data options: each key of ``defaults`` from ``cfg`` (a
    :class:`~freqssm.data.config.DataConfig`, whose ``options`` are read; a mapping of the
    loader's keys, e.g. the noise settings alone; or None), or its default where it lacks it.

    Each loader declares its keys and defaults once, in a ``DEFAULTS`` dict; the config files
    start their ``data`` section from it (:func:`freqssm.data.defaults`).
    """
    given = {} if cfg is None else getattr(cfg, "options", cfg)
    if dataclasses.is_dataclass(given):  # a loader's typed Options
        given = to_dict(given)
    return {k: given.get(k, d) for k, d in defaults.items()}


class Source(Protocol):
    """A random-access split: ``len(src)`` examples, ``src.get(indices)`` a batch dict."""

    def __len__(self) -> int: ...

    def get(self, indices: np.ndarray) -> Batch:
        """Gather the examples at ``indices`` (1-D int array) into one batch dict."""
        ...


@dataclasses.dataclass(frozen=True)
class Meta:
    """What a model needs to know about a task.

    Attributes:
      seq_len: L, the (maximum) sequence length of ``inputs``.
      input_kind: "tokens" (int ids, needs an embedding) or "real" (float features).
      in_features: vocabulary size for tokens, C for real inputs.
      output_kind: what ``targets`` is (see module docstring).
      n_outputs: number of classes, or regression dimension K (or C for sequence regression).
      pad_id: token id used for padding (token tasks).
      extra: task-specific facts (vocabulary, band edges, ...), JSON-serialisable.
    """

    seq_len: int
    input_kind: InputKind
    in_features: int
    output_kind: OutputKind
    n_outputs: int
    pad_id: int = 0
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ArraySource:
    """A Source over in-memory arrays that share their first axis."""

    arrays: dict[str, np.ndarray]

    def __post_init__(self) -> None:
        sizes = {k: len(v) for k, v in self.arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"arrays disagree on their first axis: {sizes}")

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    def get(self, indices: np.ndarray) -> Batch:
        return {k: v[indices] for k, v in self.arrays.items()}


@dataclasses.dataclass
class Dataset:
    """Three splits and the task's metadata."""

    train: Source
    val: Source
    test: Source
    meta: Meta

    def split(self, name: str) -> Source:
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}; expected train, val or test")
        return getattr(self, name)


def steps_per_epoch(source: Source, batch_size: int) -> int:
    """Training batches per epoch (the incomplete last batch is dropped)."""
    n = len(source) // batch_size
    if n == 0:
        raise DataError(
            f"split has {len(source)} examples, fewer than one batch of {batch_size}; "
            "lower data.batch_size"
        )
    return n


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of examples in ``epoch``: a pure function of (n, seed, epoch)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


ALL_ROWS = slice(None)


def train_batches(
    source: Source, batch_size: int, seed: int, start_step: int = 0, rows: slice = ALL_ROWS
) -> Iterator[Batch]:
    """Endless training batches, reshuffled each epoch, starting at global step ``start_step``.

    Batch ``s`` is the same whether the iterator started at 0 or at ``s``, which is what makes
    resuming mid-epoch exact. ``rows``: the rows of each global batch (of ``batch_size``) to
    build, e.g. one process's share in a multi-process run; only those examples are read.
    """
    per_epoch = steps_per_epoch(source, batch_size)
    step = start_step
    while True:
        epoch, within = divmod(step, per_epoch)
        order = epoch_permutation(len(source), seed, epoch)
        for b in range(within, per_epoch):
            yield source.get(np.sort(order[b * batch_size : (b + 1) * batch_size])[rows])
            step += 1


def eval_batches(
    source: Source, batch_size: int, limit: int | None = None, rows: slice = ALL_ROWS
) -> Iterator[Batch]:
    """Every example once (or the first ``limit``), in order, in fixed-size padded batches;
    ``rows`` as in :func:`train_batches`."""
    n = len(source) if limit is None else min(limit, len(source))
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(start + batch_size, n))
        real = len(idx)
        if real < batch_size:  # pad by repeating the last example; mask removes it
            idx = np.concatenate([idx, np.full(batch_size - real, idx[-1])])
        mask = np.zeros(batch_size, np.float32)
        mask[:real] = 1.0
        batch = source.get(idx[rows])
        batch["mask"] = mask[rows]
        yield batch
