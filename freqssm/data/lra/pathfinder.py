"""LRA Pathfinder and Path-X."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Batch, Dataset, Meta, Source
from freqssm.data.config import DataConfig
from freqssm.data.lra.common import (
    _LRA_RELEASE,
    SPLITS,
    ImageOptions,
    PixelSource,
    _parse_label,
    _random_split,
    _require,
    check_image_length,
    lra_options,
)
from freqssm.errors import DataError
from freqssm.settings import to_dict

PATHFINDER_BLACKLIST = frozenset({"pathfinder32/curv_baseline/imgs/0/sample_172.png"})
CACHE_NAME = ".freqssm_cache_uint8.npy"
CACHE_KEY = ".freqssm_cache_uint8.json"  # what the cache was built from (cache_key)


@dataclasses.dataclass(frozen=True)
class Options(ImageOptions):
    """Pathfinder's ``data.*`` keys."""

    resolution: int = 32
    """image side R; L = R·R (Path-X: 128)"""
    difficulty: str = "curv_contour_length_14"
    """the difficulty's folder under pathfinder<R>/ (the LRA release's curv_baseline,
    curv_contour_length_9, curv_contour_length_14)"""
    cache: bool = False
    """decode the PNGs once into a uint8 memmap next to the data"""
    center: bool = False
    """pixels in [0, 1]; True: [-1, 1]"""


DEFAULTS: dict[str, Any] = to_dict(Options())


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


def cache_key(folder: Path, paths: Sequence[str], rows: np.ndarray, res: int) -> dict[str, Any]:
    """What a pixel cache of ``rows`` was built from: the resolution, the rows, the metadata
    files' bytes and each cached image's size and modification time (``images`` is None when
    none of the PNGs is there any more: a cache may outlive its PNGs)."""
    meta = hashlib.sha256()
    for f in sorted((folder / "metadata").glob("*.npy"), key=_metadata_key):
        meta.update(f.name.encode() + b"\0" + f.read_bytes())
    images = hashlib.sha256()
    missing = 0
    for r in rows:
        try:
            st = os.stat(paths[r])
            images.update(f"{paths[r]}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            missing += 1
            images.update(f"{paths[r]}\0missing\n".encode())
    return {
        "resolution": res,
        "rows": hashlib.sha256(np.asarray(rows, np.int64).tobytes()).hexdigest(),
        "n_rows": len(rows),
        "metadata": meta.hexdigest(),
        "images": None if len(rows) and missing == len(rows) else images.hexdigest(),
    }


def _cache_is_fresh(saved: dict, now: dict) -> bool:
    same = all(saved.get(k) == now[k] for k in ("resolution", "rows", "n_rows", "metadata"))
    return same and (now["images"] is None or saved.get("images") == now["images"])


def _pathfinder_cache(
    folder: Path, paths: Sequence[str], refs: Sequence[str], res: int, rows: np.ndarray
) -> np.ndarray:
    """The (len(rows), R*R) uint8 memmap of images ``rows``, built (atomically) when absent or
    stale: its key file (:func:`cache_key`) must match the metadata and images on disk."""
    cache, key_file = folder / CACHE_NAME, folder / CACHE_KEY
    key = cache_key(folder, paths, rows, res)
    if cache.is_file() and key_file.is_file():
        try:
            arr = np.load(cache, mmap_mode="r")
            fresh = _cache_is_fresh(json.loads(key_file.read_text()), key)
            if fresh and arr.shape == (len(rows), res * res) and arr.dtype == np.uint8:
                return arr
        except Exception:
            pass  # unreadable: rebuild
    if key["images"] is None:
        raise DataError(
            f"the Pathfinder cache {cache} does not match {folder / 'metadata'} and the images "
            f"it lists are gone; {_pathfinder_missing(folder.parent.parent, res, folder.name)}"
        )
    from tqdm import tqdm

    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    try:
        key_file.unlink(missing_ok=True)  # a half-replaced cache never looks fresh
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.uint8, shape=(len(rows), res * res)
        )
        for i, r in enumerate(tqdm(rows, desc=f"caching {folder.name}", unit="img")):
            out[i] = load_png(paths[r], res, refs[r])
        out.flush()
        del out
        os.replace(tmp, cache)
        tmp.write_text(json.dumps(key))
        os.replace(tmp, key_file)
    except OSError as e:
        raise DataError(
            f"cannot write the Pathfinder cache {cache}: {e}; set data.cache=False"
        ) from e
    finally:
        if tmp.exists():
            tmp.unlink()
    return np.load(cache, mmap_mode="r")


def build_images(cfg: DataConfig, defaults: dict[str, Any]) -> Dataset:
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
    if opts["cache"]:  # only the rows this run reads (a smoke run caches a few images)
        rows = np.unique(np.concatenate([tr, va, te]))
        pixels = _pathfinder_cache(folder, paths, refs, res, rows)
        splits: dict[str, Source] = {
            s: PixelSource(pixels, labels[rows], np.searchsorted(rows, idx), scale, shift)
            for s, idx in zip(SPLITS, (tr, va, te), strict=True)
        }
    else:
        splits = {
            s: PngSource(paths, refs, labels, idx, res, scale, shift)
            for s, idx in zip(SPLITS, (tr, va, te), strict=True)
        }
    check_image_length(opts["seq_len"], res * res)
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


def build(cfg: DataConfig) -> Dataset:
    """LRA Pathfinder (32 x 32, L = 1024); see :mod:`freqssm.data.lra`."""
    return build_images(cfg, DEFAULTS)
