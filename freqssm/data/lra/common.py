"""What the LRA loaders share: config helpers, token and pixel sources, tfds access."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from freqssm.data.base import Batch, Meta, data_root, options, tfds_prepare_hint
from freqssm.data.config import DataConfig
from freqssm.errors import DataError
from freqssm.settings import Settings, to_dict

LRA_URL = "https://storage.googleapis.com/long-range-arena/lra_release.gz"
_LRA_RELEASE = f"the LRA release (download {LRA_URL}, unpack with `tar -xf lra_release.gz`)"

PAD_ID, UNK_ID = 0, 1
BYTE_EOS, BYTE_OFFSET = 1, 2  # byte b -> id b + 2
BYTE_VOCAB_SIZE = 256 + BYTE_OFFSET
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class LraOptions(Settings):
    """The ``data.*`` keys every LRA task has."""

    PREFIX: ClassVar[str] = "data"

    split_seed: int = 42
    """held-out splits cut from training data and the data.max_examples subsets"""


@dataclasses.dataclass(frozen=True)
class ImageOptions(LraOptions):
    """An image task's keys: its length is the image's, so ``seq_len`` may be given (the shared
    LRA smoke variant sets it for every task) but must be None or that length
    (:func:`check_image_length`)."""

    seq_len: int | None = None
    """None, or the image's pixel count (checked)"""


COMMON_DEFAULTS: dict[str, Any] = to_dict(LraOptions())
IMAGE_DEFAULTS: dict[str, Any] = to_dict(ImageOptions())


def check_image_length(given: Any, length: int) -> None:
    """Refuse a ``data.seq_len`` other than None and the image task's own length."""
    if given is not None and int(given) != length:
        raise DataError(
            f"data.seq_len={given}: the images of this task are {length} pixels long; "
            "leave it unset (None)"
        )


# ----------------------------------------------------------------------------- config helpers


def lra_options(cfg: DataConfig, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`~freqssm.data.base.options` of a task's ``DEFAULTS`` (which include
    :data:`COMMON_DEFAULTS`), with ``root`` resolved (:func:`~freqssm.data.base.data_root`) and
    ``max_examples`` checked."""
    opts = options(cfg, defaults)
    opts["root"] = data_root(cfg)
    opts["max_examples"] = _max_examples(cfg)
    return opts


def _seq_len(value: Any, default: int) -> int:
    """A token task's ``data.seq_len``; None or 0 -> the task's default."""
    seq_len = int(value or default)
    if seq_len < 2:
        raise DataError(f"data.seq_len={seq_len} must be >= 2 (one token and <eos>)")
    return seq_len


def _max_examples(cfg: DataConfig) -> int | None:
    k = cfg.max_examples
    if k is None:
        return None
    k = int(k)
    if k < 1:
        raise DataError(f"data.max_examples={k} must be a positive integer or None")
    return k


def _subset(n: int, k: int | None, seed: int, stream: int) -> np.ndarray:
    """All of ``range(n)``, or ``k`` of them drawn with ``default_rng([seed, stream])``, sorted."""
    if k is None or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, stream]).permutation(n)[:k])


def _random_split(n: int, sizes: Sequence[int], seed: int, k: int | None) -> list[np.ndarray]:
    """Cut ``default_rng(seed).permutation(n)`` into consecutive parts of ``sizes`` (the last
    part takes the rest); each part is capped to its first ``k`` entries and sorted."""
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *sizes])
    parts = [perm[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
    parts.append(perm[bounds[-1] :])
    return [np.sort(p if k is None else p[:k]) for p in parts]


def _parse_label(text: str, n_classes: int, where: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: label {text!r} is not a number") from None
    if not np.isfinite(value) or value != int(value) or not 0 <= value < n_classes:
        raise DataError(f"{where}: label {text!r} is not an integer in 0..{n_classes - 1}")
    return int(value)


def _require(path: Path, what: str, fix: str, is_dir: bool = False) -> None:
    ok = path.is_dir() if is_dir else path.is_file()
    if not ok:
        raise DataError(f"{what}: {path} not found; {fix}")


# ----------------------------------------------------------------------------- token sources


@dataclasses.dataclass
class TokenSource:
    """Ragged token sequences, padded to ``seq_len`` with 0 on :meth:`get`.

    Attributes:
      tokens: flat ids of all sequences (uint8 / uint16), each already truncated and eos-ended.
      offsets: (n + 1,) int64, sequence i is ``tokens[offsets[i]:offsets[i + 1]]``.
      targets: (n,) int32 class labels.
      seq_len: L, the padded length (every sequence has length <= L).
    """

    tokens: np.ndarray
    offsets: np.ndarray
    targets: np.ndarray
    seq_len: int

    def __len__(self) -> int:
        return len(self.targets)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, L) int32, ``lengths`` (B,) int32, ``targets`` (B,) int32."""
        idx = np.asarray(indices, dtype=np.int64)
        start = self.offsets[idx]
        lengths = self.offsets[idx + 1] - start
        steps = np.arange(self.seq_len)
        valid = steps[None, :] < lengths[:, None]
        pos = np.minimum(start[:, None] + steps[None, :], max(len(self.tokens) - 1, 0))
        flat = self.tokens if len(self.tokens) else np.zeros(1, np.int32)
        inputs = np.where(valid, flat[pos], PAD_ID).astype(np.int32)
        return {
            "inputs": inputs,
            "lengths": lengths.astype(np.int32),
            "targets": self.targets[idx].astype(np.int32),
        }


def _pack(
    seqs: Sequence[np.ndarray], targets: Sequence[int], seq_len: int, dtype: Any
) -> TokenSource:
    """TokenSource from eos-ended id arrays."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = np.concatenate(seqs).astype(dtype) if len(seqs) else np.zeros(0, dtype)
    return TokenSource(tokens, offsets, np.asarray(targets, dtype=np.int32), seq_len)


def encode_bytes(data: bytes, seq_len: int) -> np.ndarray:
    """Byte-level ids of ``data``: ``b + 2`` for at most ``seq_len - 1`` bytes, then ``<eos>`` (1).

    Returns a (n,) uint16 array, ``n <= seq_len``.
    """
    raw = np.frombuffer(data[: seq_len - 1], dtype=np.uint8)
    out = np.empty(len(raw) + 1, dtype=np.uint16)
    out[:-1] = raw
    out[:-1] += BYTE_OFFSET
    out[-1] = BYTE_EOS
    return out


def _byte_meta(seq_len: int, output_kind: str, extra: dict) -> Meta:
    return Meta(
        seq_len=seq_len,
        input_kind="tokens",
        in_features=BYTE_VOCAB_SIZE,
        output_kind=output_kind,  # type: ignore[arg-type]
        n_outputs=2,
        pad_id=PAD_ID,
        extra={"vocab": "bytes", "byte_offset": BYTE_OFFSET, "eos_id": BYTE_EOS, **extra},
    )


# ----------------------------------------------------------------------------- tfds helpers


def _tfds_splits(name: str, data_dir: str | None, splits: Sequence[str]) -> dict[str, Any]:
    """Random-access tfds data sources for ``splits`` under ``data_dir`` (None: tfds' default);
    DataError with the build command."""
    data_dir = data_dir or None
    fix = tfds_prepare_hint(name, data_dir)
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise DataError(f"data.source='tfds' needs tensorflow-datasets ({e})") from e
    out = {}
    for split in splits:
        try:
            out[split] = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
        except Exception as e:
            raise DataError(
                f"tfds dataset {name!r} (split {split!r}) is not available for random access "
                f"under data_dir={data_dir or 'tfds default'}: {e}; {fix}"
            ) from e
    return out


@dataclasses.dataclass
class _TfdsSource:
    """A lazy Source over a tfds random-access split: ``convert(example) -> (x, label)``."""

    data: Any
    index: np.ndarray
    convert: Callable[[dict], tuple[np.ndarray, int]]
    finish: Callable[[list[np.ndarray]], Batch]

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        xs, ys = [], []
        for i in np.asarray(indices):
            x, y = self.convert(self.data[int(self.index[int(i)])])
            xs.append(x)
            ys.append(y)
        batch = self.finish(xs)
        batch["targets"] = np.asarray(ys, dtype=np.int32)
        return batch


def _pad_token_batch(seq_len: int) -> Callable[[list[np.ndarray]], Batch]:
    def finish(seqs: list[np.ndarray]) -> Batch:
        inputs = np.zeros((len(seqs), seq_len), dtype=np.int32)
        lengths = np.zeros(len(seqs), dtype=np.int32)
        for r, s in enumerate(seqs):
            inputs[r, : len(s)] = s
            lengths[r] = len(s)
        return {"inputs": inputs, "lengths": lengths}

    return finish


# ----------------------------------------------------------------------------- pixel sources


@dataclasses.dataclass
class PixelSource:
    """uint8 images (in memory or a memmap) normalised on :meth:`get`.

    Attributes:
      pixels: (N, L) uint8, all images of the dataset.
      targets: (N,) int32.
      index: (n,) rows of ``pixels`` in this split.
      scale, shift: ``inputs = pixels * scale + shift``.
    """

    pixels: np.ndarray
    targets: np.ndarray
    index: np.ndarray
    scale: float
    shift: float

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, L, 1) float32, ``targets`` (B,) int32."""
        rows = self.index[np.asarray(indices, dtype=np.int64)]
        x = np.asarray(self.pixels[rows], dtype=np.float32) * np.float32(self.scale)
        x += np.float32(self.shift)
        return {"inputs": x[..., None], "targets": self.targets[rows].astype(np.int32)}
