"""LRA Image (CIFAR-10)."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Batch, Dataset, Meta, Source
from freqssm.data.config import DataConfig
from freqssm.data.lra.common import (
    ImageOptions,
    PixelSource,
    _random_split,
    _require,
    _subset,
    _tfds_splits,
    _TfdsSource,
    check_image_length,
    lra_options,
)
from freqssm.errors import DataError
from freqssm.settings import to_dict

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_MEAN, CIFAR_STD = 122.6, 61.0  # on the 0..255 gray scale
LUMA_WEIGHTS = (19595, 38470, 7471)  # PIL convert("L"): (w . rgb + 2**15) >> 16


@dataclasses.dataclass(frozen=True)
class Options(ImageOptions):
    """Image's ``data.*`` keys."""

    source: str = "files"
    """"files" (cifar-10-batches-py) or "tfds" (cifar10, prepared)"""
    tfds_dir: str = ""
    """tfds data_dir; "": tfds' default"""


DEFAULTS: dict[str, Any] = to_dict(Options())


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """PIL's ``convert("L")`` on uint8 RGB: (..., 3) -> (...) uint8."""
    r, g, b = (rgb[..., c].astype(np.uint32) for c in range(3))
    wr, wg, wb = LUMA_WEIGHTS
    return ((wr * r + wg * g + wb * b + (1 << 15)) >> 16).astype(np.uint8)


def _cifar_missing(root: Path) -> str:
    return (
        f"expected {root}/cifar-10-batches-py/{{data_batch_1..5,test_batch}}; download "
        f"{CIFAR_URL} and unpack it with `tar -xzf cifar-10-python.tar.gz -C {root}`, or set "
        "data.source='tfds' after `tfds build cifar10 --file_format=array_record`"
    )


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python pickle -> (gray (n, 1024) uint8, labels (n,) int32)."""
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")
    except Exception as e:
        raise DataError(f"cannot read CIFAR-10 batch {path}: {e}") from e
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DataError(f"{path}: expected a dict with keys b'data' and b'labels'")
    data = np.asarray(d[b"data"])
    labels = np.asarray(d[b"labels"])
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise DataError(f"{path}: b'data' must be (N, 3072) uint8, got {data.shape} {data.dtype}")
    if labels.shape != (len(data),):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if len(bad):
        raise DataError(f"{path}: entry {bad[0]} has label {labels[bad[0]]}, not in 0..9")
    rgb = data.reshape(-1, 3, 1024).transpose(0, 2, 1)  # channel-major planes -> (N, 1024, 3)
    return rgb_to_gray(rgb), labels.astype(np.int32)


def _image_from_example(ex: dict) -> tuple[np.ndarray, int]:
    img = np.asarray(ex["image"], dtype=np.uint8)
    gray = rgb_to_gray(img) if img.ndim == 3 and img.shape[-1] == 3 else img.reshape(img.shape[:2])
    return gray.reshape(-1), int(ex["label"])


def _finish_pixels(scale: float, shift: float) -> Callable[[list[np.ndarray]], Batch]:
    def finish(xs: list[np.ndarray]) -> Batch:
        x = np.stack(xs).astype(np.float32) * np.float32(scale) + np.float32(shift)
        return {"inputs": x[..., None]}

    return finish


def build(cfg: DataConfig) -> Dataset:
    """LRA Image: grayscale CIFAR-10 as (1024, 1) real sequences; see the module docstring."""
    opts = lra_options(cfg, DEFAULTS)
    root, k, seed = opts["root"], opts["max_examples"], int(opts["split_seed"])
    scale, shift = 1.0 / CIFAR_STD, -CIFAR_MEAN / CIFAR_STD
    source = opts["source"]
    if source == "tfds":
        data = _tfds_splits("cifar10", opts["tfds_dir"], ("train", "test"))
        n_train = len(data["train"])
        tr, va = _random_split(n_train, [n_train // 10], seed, k)[::-1]
        te = _subset(len(data["test"]), k, seed, 2)
        fin = _finish_pixels(scale, shift)
        splits: dict[str, Source] = {
            "train": _TfdsSource(data["train"], tr, _image_from_example, fin),
            "val": _TfdsSource(data["train"], va, _image_from_example, fin),
            "test": _TfdsSource(data["test"], te, _image_from_example, fin),
        }
    elif source == "files":
        folder = root / "cifar-10-batches-py"
        _require(folder, "CIFAR-10 data not found", _cifar_missing(root), is_dir=True)
        parts = {}
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            _require(folder / name, "CIFAR-10 batch missing", _cifar_missing(root))
            parts[name] = read_cifar_batch(folder / name)
        train_x = np.concatenate([parts[f"data_batch_{i}"][0] for i in range(1, 6)])
        train_y = np.concatenate([parts[f"data_batch_{i}"][1] for i in range(1, 6)])
        test_x, test_y = parts["test_batch"]
        tr, va = _random_split(len(train_x), [len(train_x) // 10], seed, k)[::-1]
        te = _subset(len(test_x), k, seed, 2)
        splits = {
            "train": PixelSource(train_x, train_y, tr, scale, shift),
            "val": PixelSource(train_x, train_y, va, scale, shift),
            "test": PixelSource(test_x, test_y, te, scale, shift),
        }
    else:
        raise DataError(f"data.source={source!r} for image must be 'files' or 'tfds'")
    check_image_length(opts["seq_len"], 1024)
    meta = Meta(
        seq_len=1024,
        input_kind="real",
        in_features=1,
        output_kind="classification",
        n_outputs=10,
        extra={
            "source": source,
            "grayscale": "PIL convert('L')",
            "mean": CIFAR_MEAN,
            "std": CIFAR_STD,
            "val": "10% of train",
        },
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)
