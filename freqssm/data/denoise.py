"""The image-denoising task: images read as long sequences, a model trained to reproduce them.

An image becomes a sequence like this (the paper's recipe, at a configurable size):

1. center crop to a square (the skimage source first takes random square crops, see below);
2. resize to a *tall* grid of ``rows x cols`` pixels (``grid``; paper: 2048 x 128, default here
   128 x 32 so that a CPU run takes minutes);
3. scale uint8 ``[0, 255]`` to ``[-1, 1]``;
4. flatten row-major per channel: sample ``r * cols + c`` is pixel ``(r, c)``, giving an
   ``(L = rows * cols, C = 3)`` float32 sequence (grayscale images are replicated to RGB).

Along the sequence each row is one fast sweep (horizontal image structure becomes high frequency,
period ``cols`` at most) and the slow drift between rows carries the vertical structure (low
frequency). The task is identity: ``targets = inputs`` (``output_kind="sequence_regression"``).
After training, a (linear) model is used as a filter on noisy images: :mod:`freqssm.data.noise`
adds band-limited noise and measures how much of it passes.

Sources (key ``source``):

* ``"skimage"`` (default): the photographs bundled in the scikit-image wheel, loaded offline via
  ``skimage.data``. Each is cut into many random square crops (side ``U(*crop_scale)`` times the
  short side, uniform position, horizontal flip with probability 1/2 if ``flip``). The split is
  fixed by image, never by crop: see :data:`SKIMAGE_SPLITS` (validation: ``rocket``; test:
  ``chelsea``, ``coffee``; train: the rest). Images that fail to load (e.g. data files that need
  the optional pooch download: ``eagle``, ``lily``, ``kidney``, ``skin``, ...) are left out; the
  ones that loaded are recorded in ``meta.extra["images"]``. ``seed`` drives the crops, with an
  independent stream per split.
* any other string: a tensorflow-datasets image dataset (e.g. ``"celeb_a"``, ``"cifar10"``) read
  lazily with ``tfds.data_source(name, data_dir=tfds_dir, download=False)``; it must already be
  prepared in the array_record format (``tfds build NAME --data_dir=DIR
  --file_format=array_record``), otherwise a :class:`DataError` says so. Splits: ``train``,
  ``validation`` (or, if absent, the tail of ``train``) and ``test``; ``n_*`` random examples of
  each (None: all), center crop, no augmentation.

Config keys (:data:`DEFAULTS`):

=============  ===============  ============================================================
key            default          meaning
=============  ===============  ============================================================
source         "skimage"        "skimage" or a tfds dataset name
grid           (128, 32)        (rows, cols) of the resized image; L = rows * cols
n_train        512              examples per split (tfds: a random subset, None = all;
                                skimage: None = 8 crops per image)
n_val          64
n_test         64
seed           0                crops / subsets; split s uses default_rng([seed, s])
crop_scale     (0.5, 1.0)       skimage: crop side as a fraction of the image's short side
flip           True             skimage: random horizontal flips
tfds_dir       ""               tfds data_dir ("": tfds' default, ~/tensorflow_datasets)
image_key      "image"          tfds feature holding the image
low_band       (0.0, 0.05)      band of "low" noise, fractions of Nyquist
high_band      (0.5, 1.0)       band of "high" noise, fractions of Nyquist
noise_sigma    0.2              std of each noise component, per channel
noise_seed     seed             seed of :func:`~freqssm.data.noise.corrupt` without a generator
=============  ===============  ============================================================

Memory: the skimage splits are materialized, ``4 * L * 3`` bytes per example (48 KiB at the
default grid, 3 MiB at the paper's 2048 x 128); the tfds source decodes on demand.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from freqssm.data import noise
from freqssm.data.base import ArraySource, Batch, Dataset, Meta, options, tfds_prepare_hint
from freqssm.data.config import DataConfig
from freqssm.errors import DataError
from freqssm.settings import to_dict

DEFAULT_GRID = (128, 32)

# scikit-image's bundled photographs (no download needed), by split. `cat` is the same array as
# `chelsea` and is not used; synthetic images (checkerboard, logo, ...) are not used.
SKIMAGE_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "astronaut",
        "camera",
        "motorcycle",
        "hubble_deep_field",
        "immunohistochemistry",
        "retina",
        "coins",
        "moon",
        "grass",
        "gravel",
        "brick",
        "clock",
    ),
    "val": ("rocket",),
    "test": ("chelsea", "coffee"),
}
_SPLIT_STREAM = {"train": 0, "val": 1, "test": 2}


@dataclasses.dataclass(frozen=True)
class Options(noise.NoiseOptions):
    """The denoising task's ``data.*`` keys, its evaluation's noise included."""

    source: str = "skimage"
    """"skimage" (its bundled photographs) or a tfds data set name"""
    grid: tuple[int, int] = DEFAULT_GRID
    """(rows, cols) of the resized image; L = rows · cols"""
    n_train: int | None = 512
    """examples per split (tfds: a random subset, None = all; skimage: None = 8 crops per
    image)"""
    n_val: int | None = 64
    """validation examples"""
    n_test: int | None = 64
    """test examples"""
    seed: int = 0
    """crops and subsets; split s uses default_rng([seed, s])"""
    crop_scale: tuple[float, float] = (0.5, 1.0)
    """skimage: crop side as a fraction of the image's short side"""
    flip: bool = True
    """skimage: random horizontal flips"""
    tfds_dir: str = ""
    """tfds data_dir ("": tfds' default, ~/tensorflow_datasets)"""
    image_key: str = "image"
    """tfds feature holding the image"""
    n_examples: int | None = None
    """test images the evaluation draws and keeps; None: 3"""


DEFAULTS: dict[str, Any] = to_dict(Options())


# ------------------------------------------------------------------ images <-> sequences


def image_to_sequence(img: np.ndarray) -> np.ndarray:
    """(H, W, C) image -> (H * W, C) sequence, row-major: sample ``r * W + c`` is pixel (r, c).

    A 2-D (H, W) image is treated as C = 1.
    """
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3:
        raise ValueError(f"expected an (H, W, C) image, got shape {img.shape}")
    h, w, c = img.shape
    return img.reshape(h * w, c)


def sequence_to_image(seq: np.ndarray, grid: Sequence[int]) -> np.ndarray:
    """(L, C) sequence -> (rows, cols, C) image; the exact inverse of :func:`image_to_sequence`.

    A leading batch axis is allowed: (B, L, C) -> (B, rows, cols, C).
    """
    seq = np.asarray(seq)
    rows, cols = (int(g) for g in grid)
    if seq.ndim < 2 or seq.shape[-2] != rows * cols:
        raise ValueError(f"sequence of shape {seq.shape} does not hold a {rows}x{cols} grid")
    return seq.reshape(*seq.shape[:-2], rows, cols, seq.shape[-1])


def _as_rgb_uint8(img: np.ndarray) -> np.ndarray:
    """Any skimage/tfds image -> (H, W, 3) uint8."""
    img = np.asarray(img)
    if img.dtype != np.uint8:  # bool or float in [0, 1]
        img = np.clip(np.round(img.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    elif img.shape[-1] == 4:
        img = img[..., :3]
    if img.ndim != 3 or img.shape[-1] != 3:
        raise DataError(f"cannot read an image of shape {img.shape} as RGB")
    return img


def _resize_normalize(square: np.ndarray, grid: Sequence[int]) -> np.ndarray:
    """(S, S, 3) uint8 -> (rows, cols, 3) float32 in [-1, 1] (antialiased Lanczos resize)."""
    from PIL import Image

    rows, cols = (int(g) for g in grid)
    out = Image.fromarray(np.ascontiguousarray(square)).resize(
        (cols, rows), resample=Image.Resampling.LANCZOS
    )
    return np.asarray(out, dtype=np.float32) / 127.5 - 1.0


def prepare_image(img: np.ndarray, grid: Sequence[int] = DEFAULT_GRID) -> np.ndarray:
    """Center crop to a square, resize to ``grid`` and scale to [-1, 1].

    Args:
      img: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) image; uint8, or bool/float in [0, 1].
      grid: (rows, cols) of the output.

    Returns:
      (rows, cols, 3) float32 in [-1, 1] (uint8 0 -> -1, 255 -> +1).
    """
    img = _as_rgb_uint8(img)
    h, w, _ = img.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return _resize_normalize(img[top : top + s, left : left + s], grid)


# ------------------------------------------------------------------ skimage source


def _skimage_loaders() -> dict[str, Callable[[], np.ndarray]]:
    import skimage.data as skd

    def motorcycle() -> np.ndarray:
        return skd.stereo_motorcycle()[0]

    names = {n for split in SKIMAGE_SPLITS.values() for n in split} - {"motorcycle"}
    loaders: dict[str, Callable[[], np.ndarray]] = {
        n: getattr(skd, n) for n in names if hasattr(skd, n)
    }
    loaders["motorcycle"] = motorcycle
    return loaders


@functools.lru_cache(maxsize=1)
def load_skimage_images() -> dict[str, np.ndarray]:
    """The skimage photographs that load offline, as read-only (H, W, 3) uint8 arrays."""
    images = {}
    for name, load in sorted(_skimage_loaders().items()):
        try:
            img = _as_rgb_uint8(load())
        except Exception:  # missing optional data file (needs pooch/network), unreadable, ...
            continue
        img.setflags(write=False)
        images[name] = img
    return images


def _random_crops(
    rng: np.random.Generator,
    images: list[np.ndarray],
    n: int,
    grid: Sequence[int],
    crop_scale: Sequence[float],
    flip: bool,
) -> np.ndarray:
    """n random square crops (balanced over ``images``) -> (n, L, 3) float32 sequences."""
    rows, cols = (int(g) for g in grid)
    out = np.empty((n, rows * cols, 3), np.float32)
    lo, hi = (float(s) for s in crop_scale)
    for i in range(n):
        img = images[i % len(images)]
        h, w, _ = img.shape
        side = max(1, min(h, w, round(min(h, w) * rng.uniform(lo, hi))))
        top = int(rng.integers(0, h - side + 1))
        left = int(rng.integers(0, w - side + 1))
        crop = img[top : top + side, left : left + side]
        mirror = rng.random() < 0.5  # drawn even without flips: crops do not depend on `flip`
        if flip and mirror:
            crop = crop[:, ::-1]
        out[i] = image_to_sequence(_resize_normalize(crop, grid))
    return out


def _build_skimage(cfg: DataConfig, grid: tuple[int, int], sizes: dict[str, int | None], seed: int):
    o = options(cfg, DEFAULTS)
    crop_scale = tuple(o["crop_scale"])
    if not 0.0 < crop_scale[0] <= crop_scale[1] <= 1.0:
        raise DataError(f"data.crop_scale={crop_scale} must satisfy 0 < lo <= hi <= 1")
    flip = bool(o["flip"])
    available = load_skimage_images()
    splits, used = {}, {}
    for split, names in SKIMAGE_SPLITS.items():
        names_ok = [n for n in names if n in available]
        if not names_ok:
            raise DataError(
                f"none of the skimage images for the {split} split ({', '.join(names)}) loads; "
                "check the scikit-image installation"
            )
        n = sizes[split]
        n = 8 * len(names_ok) if n is None else n
        rng = np.random.default_rng([seed, _SPLIT_STREAM[split]])
        x = _random_crops(rng, [available[k] for k in names_ok], n, grid, crop_scale, flip)
        splits[split] = ArraySource({"inputs": x, "targets": x})
        used[split] = names_ok
    return splits, {"images": used, "crop_scale": list(crop_scale), "flip": flip}


# ------------------------------------------------------------------ tfds source


@dataclasses.dataclass
class TfdsImageSource:
    """A lazy Source over a tfds random-access split: decodes and resizes on :meth:`get`."""

    data: Any  # a tfds data source: len() and [i] -> feature dict
    index: np.ndarray  # which records of ``data`` this split uses
    grid: tuple[int, int]
    image_key: str = "image"

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        seqs = np.stack(
            [
                image_to_sequence(
                    prepare_image(self.data[int(self.index[i])][self.image_key], self.grid)
                )
                for i in np.asarray(indices).reshape(-1)
            ]
        )
        return {"inputs": seqs, "targets": seqs.copy()}


def _subset(n_total: int, n: int | None, rng: np.random.Generator) -> np.ndarray:
    if n is None or n >= n_total:
        return np.arange(n_total)
    return np.sort(rng.choice(n_total, size=n, replace=False))


def _build_tfds(
    cfg: DataConfig, name: str, grid: tuple[int, int], sizes: dict[str, int | None], seed: int
):
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise DataError(
            "data.source names a tfds dataset but tensorflow-datasets is missing"
        ) from e
    o = options(cfg, DEFAULTS)
    data_dir = o["tfds_dir"] or None
    cmd = tfds_prepare_hint(name, data_dir)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:
        raise DataError(f"data.source={name!r} is not a known tfds dataset ({e})") from e
    if not builder.is_prepared():
        raise DataError(
            f"tfds dataset {name!r} is not prepared under {builder.data_dir}; "
            f"no download happens at training time: {cmd}"
        )
    try:
        sources = tfds.data_source(name, data_dir=data_dir, download=False)
    except Exception as e:
        raise DataError(
            f"cannot open tfds dataset {name!r} for random access ({e}); "
            f"it must be in the array_record format: {cmd}"
        ) from e
    if "train" not in sources or "test" not in sources:
        raise DataError(f"tfds dataset {name!r} has splits {sorted(sources)}; need train and test")
    train_data = sources["train"]
    if "validation" in sources:
        parts = {
            "train": (train_data, np.arange(len(train_data))),
            "val": (sources["validation"], np.arange(len(sources["validation"]))),
        }
    else:  # hold out the tail of train as validation
        n_val = sizes["val"] if sizes["val"] is not None else len(train_data) // 10
        cut = len(train_data) - n_val
        parts = {
            "train": (train_data, np.arange(cut)),
            "val": (train_data, np.arange(cut, len(train_data))),
        }
    parts["test"] = (sources["test"], np.arange(len(sources["test"])))
    image_key = o["image_key"]
    splits = {}
    for split, (data, idx) in parts.items():
        rng = np.random.default_rng([seed, _SPLIT_STREAM[split]])
        chosen = idx[_subset(len(idx), sizes[split], rng)]
        splits[split] = TfdsImageSource(data, chosen, grid, image_key)
    return splits, {"tfds_dir": data_dir, "image_key": image_key}


# ------------------------------------------------------------------ builder


def build(cfg: DataConfig) -> Dataset:
    """Build the denoising task from the ``data`` ConfigDict (keys in the module docstring).

    Splits: inputs = targets, (n, L, 3) float32 in [-1, 1], L = rows * cols.
    """
    o = options(cfg, DEFAULTS)
    grid = tuple(int(g) for g in o["grid"])
    if len(grid) != 2 or min(grid) < 1:
        raise DataError(f"data.grid={grid} must be (rows, cols) with positive entries")
    source, seed = str(o["source"]), int(o["seed"])
    sizes = {}
    for split in _SPLIT_STREAM:
        n = o[f"n_{split}"]
        sizes[split] = None if n is None else int(n)
    if source == "skimage":
        splits, extra = _build_skimage(cfg, grid, sizes, seed)
    else:
        splits, extra = _build_tfds(cfg, source, grid, sizes, seed)
    channels = 3
    meta = Meta(
        seq_len=grid[0] * grid[1],
        input_kind="real",
        in_features=channels,
        output_kind="sequence_regression",
        n_outputs=channels,
        extra={
            "grid": list(grid),
            "source": source,
            "low_band": list(o["low_band"]),
            "high_band": list(o["high_band"]),
            "noise_sigma": float(o["noise_sigma"]),
            **extra,
        },
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)
