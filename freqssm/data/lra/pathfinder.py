"""LRA Pathfinder and Path-X."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Batch, DataError, Dataset, Meta, Source
from freqssm.data.lra.common import (
    _LRA_RELEASE,
    COMMON_DEFAULTS,
    SPLITS,
    PixelSource,
    _parse_label,
    _random_split,
    _require,
    lra_options,
)

PATHFINDER_BLACKLIST = frozenset({"pathfinder32/curv_baseline/imgs/0/sample_172.png"})
CACHE_NAME = ".freqssm_cache_uint8.npy"
DEFAULTS: dict[str, Any] = {
    **COMMON_DEFAULTS,
    "resolution": 32,  # image side R; L = R * R (Path-X: freqssm.data.lra.pathx, 128)
    "difficulty": "curv_contour_length_14",
    "cache": False,  # decode the PNGs once into a uint8 memmap next to the data
    "center": False,  # pixels in [0, 1] (True: [-1, 1])
}


def _pathfinder_missing(root: Path, resolution: int, difficulty: str) -> str:
    return (
        f"expected {root}/pathfinder{resolution}/{difficulty}/metadata/<k>.npy and "
        f".../imgs/<k>/sample_<i>.png; create it with `python -m freqssm.datagen.pathfinder "
        f"--out {root} --resolution {resolution}` or copy "
        f"lra_release/lra_release/pathfinder{resolution} to {root}/ from {_LRA_RELEASE}"
    )


def _metadata_key(p: Path) -> tuple[int, int | str]:
    return (0, int(p.stem)) if p.stem.isdigit() else (1, p.stem)


def read_pathfinder_metadata(folder: Path, root: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Rows of every ``folder/metadata/*.npy`` (numeric order), blacklisted images skipped.

    Returns:
      paths: image paths, one per example.
      labels: (n,) int32 in {0, 1}.
      refs: "metadata file:line" of each example (for error messages).
    """
    meta_files = sorted((folder / "metadata").glob("*.npy"), key=_metadata_key)
    if not meta_files:
        raise DataError(f"Pathfinder metadata folder {folder / 'metadata'} holds no *.npy files")
    paths: list[str] = []
    labels: list[int] = []
    refs: list[str] = []
    for mf in meta_files:
        try:
            lines = mf.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read Pathfinder metadata {mf} as text lines: {e}") from e
        n_rows = 0
        for lineno, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{mf} line {lineno}"
            if len(fields) < 4:
                raise DataError(
                    f"{where}: expected >= 4 whitespace-separated fields, got {len(fields)}"
                )
            img = folder / fields[0] / fields[1]
            n_rows += 1
            try:
                rel = img.relative_to(root).as_posix()
            except ValueError:
                rel = ""
            if rel in PATHFINDER_BLACKLIST:
                continue
            labels.append(_parse_label(fields[3], 2, where))
            paths.append(str(img))
            refs.append(where)
        if n_rows == 0:
            raise DataError(f"Pathfinder metadata {mf} is empty")
    return paths, np.asarray(labels, dtype=np.int32), refs


def load_png(path: str, resolution: int, ref: str = "") -> np.ndarray:
    """A Pathfinder PNG as (resolution**2,) uint8 gray pixels (PIL ``convert("L")``)."""
    from PIL import Image

    where = f" (listed in {ref})" if ref else ""
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("L"), dtype=np.uint8)
    except Exception as e:
        raise DataError(f"cannot read Pathfinder image {path}{where}: {e}") from e
    if arr.shape != (resolution, resolution):
        raise DataError(
            f"Pathfinder image {path}{where} is {arr.shape[1]}x{arr.shape[0]}, "
            f"expected {resolution}x{resolution}"
        )
    return arr.reshape(-1)


@dataclasses.dataclass
class PngSource:
    """Pathfinder images decoded lazily, one PNG per example, on :meth:`get`.

    Attributes:
      paths, refs: per example of the whole dataset (N,).
      targets: (N,) int32.
      index: (n,) examples of this split.
      resolution: R, images are R x R.
      scale, shift: ``inputs = pixels * scale + shift``.
    """

    paths: Sequence[str]
    refs: Sequence[str]
    targets: np.ndarray
    index: np.ndarray
    resolution: int
    scale: float
    shift: float

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, R*R, 1) float32, ``targets`` (B,) int32."""
        rows = self.index[np.asarray(indices, dtype=np.int64)]
        px = np.stack([load_png(self.paths[r], self.resolution, self.refs[r]) for r in rows])
        x = px.astype(np.float32) * np.float32(self.scale) + np.float32(self.shift)
        return {"inputs": x[..., None], "targets": self.targets[rows].astype(np.int32)}


def _pathfinder_cache(
    folder: Path, paths: Sequence[str], refs: Sequence[str], res: int
) -> np.ndarray:
    """The (N, R*R) uint8 memmap of every image, built once (atomically) if absent or stale."""
    cache = folder / CACHE_NAME
    shape = (len(paths), res * res)
    if cache.is_file():
        try:
            arr = np.load(cache, mmap_mode="r")
            if arr.shape == shape and arr.dtype == np.uint8:
                return arr
        except Exception:
            pass  # unreadable or stale: rebuild
    from tqdm import tqdm

    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        for i in tqdm(range(len(paths)), desc=f"caching {folder.name}", unit="img"):
            out[i] = load_png(paths[i], res, refs[i])
        out.flush()
        del out
        os.replace(tmp, cache)
    except OSError as e:
        raise DataError(
            f"cannot write the Pathfinder cache {cache}: {e}; set data.cache=False"
        ) from e
    finally:
        if tmp.exists():
            tmp.unlink()
    return np.load(cache, mmap_mode="r")


def build_images(cfg: Any, defaults: dict[str, Any]) -> Dataset:
    """Pathfinder-style images with the given ``DEFAULTS`` (this module's, or Path-X's)."""
    opts = lra_options(cfg, defaults)
    root, k, seed = opts["root"], opts["max_examples"], int(opts["split_seed"])
    res, difficulty = int(opts["resolution"]), str(opts["difficulty"])
    center = bool(opts["center"])
    scale, shift = (2.0 / 255.0, -1.0) if center else (1.0 / 255.0, 0.0)
    folder = root / f"pathfinder{res}" / difficulty
    missing = _pathfinder_missing(root, res, difficulty)
    _require(folder / "metadata", "Pathfinder data not found", missing, is_dir=True)
    paths, labels, refs = read_pathfinder_metadata(folder, root)
    n = len(paths)
    n_train, n_val = int(0.8 * n), int(0.1 * n)
    tr, va, te = _random_split(n, [n_train, n_val], seed, k)
    if opts["cache"]:
        pixels = _pathfinder_cache(folder, paths, refs, res)
        splits: dict[str, Source] = {
            s: PixelSource(pixels, labels, idx, scale, shift)
            for s, idx in zip(SPLITS, (tr, va, te), strict=True)
        }
    else:
        splits = {
            s: PngSource(paths, refs, labels, idx, res, scale, shift)
            for s, idx in zip(SPLITS, (tr, va, te), strict=True)
        }
    meta = Meta(
        seq_len=res * res,
        input_kind="real",
        in_features=1,
        output_kind="classification",
        n_outputs=2,
        extra={
            "resolution": res,
            "difficulty": difficulty,
            "center": center,
            "split": "random 80/10/10",
        },
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


def build(cfg: Any) -> Dataset:
    """LRA Pathfinder (32 x 32, L = 1024); see :mod:`freqssm.data.lra`."""
    return build_images(cfg, DEFAULTS)
