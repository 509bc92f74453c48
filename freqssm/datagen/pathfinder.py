"""The LRA Pathfinder / Path-X generator (the snake algorithm of Linsley et al. 2018), vectorised.

Usage::

    python -m freqssm.datagen.pathfinder --out DIR --resolution 32|128 --n N [--seed 0]
                                      [--workers 2] [--difficulty curv_contour_length_14]

writes the official layout ``DIR/pathfinder{R}/{difficulty}/metadata/<k>.npy`` and
``.../imgs/<k>/sample_<i>.png`` (``per_dir`` = 1000 images per ``k``, ``i`` restarting at 0 in
each ``k``). Each metadata file is a *text* file despite its suffix (that is how the LRA and S4
loaders read it): one line per image, single spaces, ``\\n`` after every line, fields ::

    imgs/<k> sample_<i>.png <i> <label> <continuity> <contour_length> <distractor_length>
    <paddle_length> <paddle_thickness> <margin> <number of paddle contrasts>

(field 3 is the label, 1 when both markers lie on the same snake). PNGs are 8-bit gray (mode L).

The algorithm is ``snakes2.from_wrapper`` of ``drewlinsley/pathfinder`` with LRA's parameters
(``lra_benchmarks/data/pathfinder.py``), re-implemented with precomputed paddle stamps and run for
many images at once (numpy over "lanes"):

* label ~ Bernoulli(1/2); a paddle margin ``m`` is drawn from ``paddle_margin_list`` per image;
* a paddle is a line of ``paddle_length`` pixels, drawn with PIL at ``antialias_scale`` times the
  resolution with width ``paddle_thickness * antialias_scale`` and Lanczos-resized; its mask (the
  occupancy it leaves) is the same line dilated by a disk of radius ``m * antialias_scale`` and
  resized. A paddle's pixels depend only on its integer start pixel and on the integer end pixel
  of the enlarged line, so each distinct stamp is drawn once per process and then pasted;
* seeding (``seed_snake``): a whole-degree orientation, then a tail pixel drawn uniformly among
  those where the paddle's core (its mask where it equals 1) avoids occupancy > 0.3 -- for the
  first target snake also a border band of ``2 * seed_distance``; the head and the pivot (one
  margin behind the tail) must lie in the image (``max_paddle_retrial + 1`` tries). The original
  computes this with ``cv2.dilate`` on a float64 image, which pads with -DBL_MAX: for the
  orientations whose struct leaves some edge pixel with no tap inside the image, the dilated
  mask has a negative entry and ``find_available_coordinates`` reports no free pixel, so the
  seed fails whatever the canvas (at 32x32 this rules out 330 of the 360 orientations, for
  target and distractor seeds alike). This is reproduced (``opencv_border=True``): without it,
  the images hold ~30% more ink than the reference code produces;
* two target snakes: snake 2 starts ``seed_distance`` pixels from snake 1's tail in a random
  whole-degree direction (no occupancy test). Both are then extended alternately to
  ``contour_length`` paddles: the next pivot lies ``paddle_length + 2m`` ahead, candidate heads
  are the distinct integer pixels on the circle of radius ``paddle_length + m`` around it,
  weighted by ``cos^2(min(continuity * |turn|, pi/2)) * (1 - occupancy dilated by a disk of
  radius m)``; a sampled paddle is rejected when ``occupancy + its mask`` reaches 1.8 anywhere
  (up to ``max_paddle_retrial + 1`` draws); any failure resamples the pair from scratch. A
  snake's newest paddle only enters the occupancy when that snake grows again (and snake 1's last
  paddle never does), so the other target snake and the distractors can touch or cross it: the
  two target snakes overlap in about a quarter of the 32x32 images, as with the reference code;
* ``num_distractor_snakes`` distractor snakes of ``distractor_length`` paddles (same rules, each
  retried up to ``max_distractor_contour_retrial + 1`` times, then skipped; seeding stops when
  fewer than 1% of the pixels are free); optionally single-paddle distractors;
* markers: a disk of radius ``marker_radius`` (drawn at the antialias scale, Lanczos-resized) at
  the seed tail of a random target snake and at the far end of the same snake (label 1) or of the
  other one (label 0); the image is the pixel-wise max of paddles (target paddles at
  ``paddle_contrast * snake_contrast``, distractors at ``snake_contrast``) and markers (1.0),
  scaled so that its maximum is 255 (``scipy.misc.imsave``'s ``bytescale``).

Values that the original computed with Python 2 integer division are kept as such: distractor
length ``contour_length / 3`` = 4 and, for Path-X, ``35 / 4`` = 8 distractor snakes.

Target pairs fail often (at 32x32 about 350 attempts per finished pair, at 128x128 several
hundred), so attempts run in rounds of independent lanes; every successful attempt takes the same
number of steps, so taking successes in lane order keeps the pairs i.i.d. Checked against a
transcription of the original code (with ``cv2.dilate`` / ``scipy.misc.imresize`` stand-ins):
identical paddle stamps; at 32x32 (600 vs 120 images) and 128x128 (200 vs 12) the same mean
intensity, ink fraction and intensity histogram, attempts per pair and (32x32, 600 vs 200 pairs)
target-snake overlap rate, all to within sampling error.

Deliberate differences: randomness is numpy's ``Generator``, one per task of ``_CHUNK[R]`` images
seeded from ``SeedSequence(seed, spawn_key=(k, i0))`` (so the output depends on ``seed`` and
``per_dir`` but not on the number of workers); markers are resized from a local window rather
than the whole canvas (identical except for marker pixels within 3 pixels of the image border).
Single-paddle distractors are off by default: the generator repo's wrapper script disables them
and LRA's docstrings do not mention them (``use_single_paddles=True`` turns them on).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import multiprocessing as mp
import os
import shutil
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DIFFICULTIES: dict[str, int] = {
    "curv_baseline": 6,
    "curv_contour_length_9": 9,
    "curv_contour_length_14": 14,
}
RESOLUTIONS: tuple[int, ...] = (32, 128)
PER_DIR = 1000  # images per imgs/<k> folder and metadata/<k>.npy file
_CHUNK = {32: 250, 128: 50}  # images per worker task (and per random generator)
_OCCUPIED = 0.3  # occupancy above this blocks a seed (np.ceil(mask - 0.3) in the original)
_OVERLAP = 1.8  # occupancy + new paddle mask reaching this rejects the paddle


@dataclasses.dataclass(frozen=True)
class PathfinderParams:
    """Generator parameters (names of ``snakes2_wrapper.Args``); see :meth:`lra`."""

    resolution: int
    contour_length: int
    distractor_length: int
    num_distractor_snakes: int
    paddle_length: int
    paddle_thickness: float
    paddle_margin_list: tuple[int, ...]
    marker_radius: float
    seed_distance: int
    continuity: float
    snake_contrast_list: tuple[float, ...]
    paddle_contrast_list: tuple[float, ...]
    antialias_scale: int
    padding: int = 1
    max_paddle_retrial: int = 2
    max_distractor_contour_retrial: int = 4
    use_single_paddles: bool = False
    opencv_border: bool = True

    @classmethod
    def lra(
        cls,
        resolution: int,
        difficulty: str = "curv_contour_length_14",
        use_single_paddles: bool = False,
    ) -> PathfinderParams:
        """LRA's parameters for Pathfinder-32 or Path-X (128) at a difficulty level."""
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty {difficulty!r} is not one of {sorted(DIFFICULTIES)}")
        cl = DIFFICULTIES[difficulty]
        dl = cl // 3  # Python 2 integer division in the original scripts
        if resolution == 32:
            return cls(
                resolution=32,
                contour_length=cl,
                distractor_length=dl,
                num_distractor_snakes=20 // dl,
                paddle_length=2,
                paddle_thickness=0.5,
                paddle_margin_list=(1,),
                marker_radius=1.5,
                seed_distance=7,
                continuity=1.0,
                snake_contrast_list=(2.0,),
                paddle_contrast_list=(0.75,),
                antialias_scale=2,
                use_single_paddles=use_single_paddles,
            )
        if resolution == 128:
            return cls(
                resolution=128,
                contour_length=cl,
                distractor_length=dl,
                num_distractor_snakes=35 // dl,
                paddle_length=5,
                paddle_thickness=1.5,
                paddle_margin_list=(2, 3),
                marker_radius=3.0,
                seed_distance=20,
                continuity=1.8,
                snake_contrast_list=(0.9,),
                paddle_contrast_list=(1.0,),
                antialias_scale=2,
                use_single_paddles=use_single_paddles,
            )
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {resolution}")

    def metadata_fields(self, margin: int) -> str:
        """Metadata fields 4.. of one image (continuity ... number of paddle contrasts)."""
        return (
            f"{self.continuity!r} {self.contour_length} {self.distractor_length} "
            f"{self.paddle_length} {self.paddle_thickness!r} {margin} "
            f"{len(self.paddle_contrast_list)}"
        )


@dataclasses.dataclass
class Rendering:
    """Everything :func:`render_debug` knows about one image.

    Attributes:
      image: (R, R) uint8, the saved picture.
      label: 1 when both markers lie on the same target snake.
      margin: the paddle margin of this image.
      snakes: the two target snakes' paddle layers, (2, R, R) float32 in [0, contrast].
      distractors: all distractor paddles, (R, R) float32.
      markers: (2, 2) int, (row, col) of the origin and the terminal marker centres.
      marker_snakes: (origin snake, terminal snake) indices into ``snakes``.
      paddles: (2, contour_length, 2) int, per target snake the (row, col) of each paddle's
        start pixel in drawing order (the seed's tail first, then each new head).
    """

    image: np.ndarray
    label: int
    margin: int
    snakes: np.ndarray
    distractors: np.ndarray
    markers: np.ndarray
    marker_snakes: tuple[int, int]
    paddles: np.ndarray


# ----------------------------------------------------------------------------- geometry


def _flip(theta: float) -> float:
    """``snakes.flip_by_pi``."""
    return theta + math.pi if theta < 0 else theta - math.pi


def _disk(radius: int) -> np.ndarray:
    """(K, 2) offsets of ``generate_dilation_struct(radius)`` (y^2 + x^2 <= r^2)."""
    r = np.arange(-radius, radius + 1)
    yy, xx = np.meshgrid(r, r, indexing="ij")
    keep = yy**2 + xx**2 <= radius**2
    return np.stack([yy[keep], xx[keep]], axis=1)


def _dilate(img: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Grey dilation ``out[p] = max_d img[p + d]`` (``cv2.dilate``); outside counts as 0."""
    q = int(np.abs(offsets).max()) if len(offsets) else 0
    h, w = img.shape
    padded = np.zeros((h + 2 * q, w + 2 * q), dtype=img.dtype)
    padded[q : q + h, q : q + w] = img
    out = np.zeros_like(img)
    for dy, dx in offsets:
        np.maximum(out, padded[q + dy : q + dy + h, q + dx : q + dx + w], out=out)
    return out


def _sparse(stamps: np.ndarray, offsets: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Entries ``> floor`` of each stamp row as (offsets, values), padded to a common length.

    Rows are padded by repeating their first entry, so a fancy-indexed max-update that contains
    the repeats writes the same value twice (harmless).
    """
    keep = [np.flatnonzero(row > floor) for row in stamps]
    width = max(1, *(len(k) for k in keep))
    off = np.zeros((len(stamps), width), np.int64)
    val = np.zeros((len(stamps), width), np.float32)
    for i, k in enumerate(keep):
        if len(k):
            off[i], val[i] = np.resize(offsets[k], width), np.resize(stamps[i][k], width)
    return off, val


def _ceil(v: np.ndarray) -> np.ndarray:
    return np.ceil(v).astype(np.int64)


class _Geometry:
    """Stamps, offset tables and canvas layout for one (params, margin).

    A batch of canvases is a flat float32 array, lane after lane; each lane is the image padded by
    ``P`` pixels on every side (``Wp`` = R + 2P columns, ``A`` = Wp^2 values), so that stamps and
    candidate look-ups never need clipping. Positions are kept as lane-local flat indices
    ``loc = (y + P) * Wp + (x + P)``.
    """

    def __init__(self, p: PathfinderParams, margin: int) -> None:
        L, aa, m, R = p.paddle_length, p.antialias_scale, margin, p.resolution
        if round(p.paddle_thickness * aa) != p.paddle_thickness * aa:
            raise ValueError("paddle_thickness * antialias_scale must be an integer")
        if p.padding < 1:
            raise ValueError("padding must be >= 1")
        self.R, self.L, self.m, self.aa = R, L, m, aa
        self.h = h = L + math.ceil(p.paddle_thickness) + m  # stamp half-size
        self.S = 2 * h + 1
        self.width = round(p.paddle_thickness * aa)
        self.r = r = L + m  # radius of the candidate circle
        self.step = L + 2 * m  # pivot to next pivot
        self.mk = mk = math.ceil(p.marker_radius) + 4  # marker stamp half-size
        # Pivots are clipped to [-(r+1), R+r] for look-ups (further out, every candidate is
        # outside anyway); the second seed's tail can lie up to L+1 pixels outside the image.
        self.P = P = max(2 * r + 2, L + 2 + max(h, mk), L + m + 2)
        self.Wp = Wp = R + 2 * P
        self.A = Wp * Wp
        self.max_lanes = max(16, int(40e6 // (self.A * 8)))
        self.buffer: tuple[np.ndarray, np.ndarray] | None = None  # reused by _Canvas.empty
        self._stamp_tables(p)
        self._offset_tables(p)
        self._canvas_tables(p)

    def _flat(self, offsets: np.ndarray) -> np.ndarray:
        """(n, 2) (dy, dx) offsets -> lane-local flat offsets (n,) int64."""
        return (offsets[:, 0] * self.Wp + offsets[:, 1]).astype(np.int64)

    def _stamp_tables(self, p: PathfinderParams) -> None:
        """The paddle stamps (line and mask, drawn once per distinct pixel offset), extension
        candidates with their stamps and turn weights, and the seeds' stamps and dilation
        structs."""
        L, aa, m, h, S, r = p.paddle_length, self.aa, self.m, self.h, self.S, self.r
        flat = self._flat
        self._keys: dict[tuple[int, int], int] = {}
        lines: list[np.ndarray] = []
        masks: list[np.ndarray] = []
        big_disk = _disk(m * aa)

        def stamp(theta: float) -> int:
            cb = h * aa
            d = float(L * aa)
            key = (
                math.ceil(cb + d * math.sin(theta)) - cb,
                math.ceil(cb + d * math.cos(theta)) - cb,
            )
            if key not in self._keys:
                line, mask = self._draw(key, big_disk)
                self._keys[key] = len(lines)
                lines.append(line)
                masks.append(mask)
            return self._keys[key]

        # Extension candidates: the distinct integer pixels on the circle of radius r (sorted as
        # np.unique sorts them), their orientation, and the stamp of a paddle drawn back from them.
        angles = np.arange(0.0, 360.0, 360.0 / (2 * r * np.pi)) * np.pi / 180
        offs = np.stack([np.floor(r * np.sin(angles)), np.floor(r * np.cos(angles))], 1)
        self.cand = np.unique(offs.astype(np.int64), axis=0)
        self.K = len(self.cand)
        self.cand_flat = flat(self.cand)
        self.cand_theta = np.arctan2(self.cand[:, 0], self.cand[:, 1])
        self.cand_stamp = np.array([stamp(_flip(float(t))) for t in self.cand_theta])

        # Orientation ids: 0..359 are whole degrees -180..179 (seeds), 360 + k is candidate k.
        deg_theta = np.arange(-180, 180) * np.pi / 180
        theta = np.concatenate([deg_theta, self.cand_theta])
        self.sin, self.cos = np.sin(theta), np.cos(theta)
        flipped = np.array([_flip(float(t)) for t in deg_theta])
        self.sin_flip, self.cos_flip = np.sin(flipped), np.cos(flipped)
        turn = np.abs(self.cand_theta[None, :] - theta[:, None])
        turn = np.minimum(np.minimum(turn, 2 * np.pi - turn) * p.continuity, 0.5 * np.pi)
        self.turn_weight = np.maximum(np.cos(turn), 0.0) ** 2  # (360 + K, K)

        # Seeds: a stamp per degree, and the dilation struct of seed_snake (the paddle mask drawn
        # from the head of a (r*2+1)^2 struct, thresholded at 1.0, anchored at the struct centre).
        self.seed_stamp = np.array([stamp(float(t)) for t in deg_theta])
        self.lines = np.stack(lines).astype(np.float32).reshape(len(lines), S * S)
        self.masks = np.stack(masks).astype(np.float32).reshape(len(masks), S * S)
        self.kernels: list[np.ndarray] = []
        for sid in self.seed_stamp:
            ii, jj = np.nonzero(self.masks[sid].reshape(S, S) >= 1.0)
            oy, ox = ii - h + 1, jj - h + 1  # the struct's head is its centre + 1
            keep = (np.abs(oy) <= r) & (np.abs(ox) <= r)
            if not keep.any():
                raise ValueError("empty seed dilation struct")
            self.kernels.append(np.stack([oy[keep], ox[keep]], 1))
        kmax = max(len(k) for k in self.kernels)
        self.kernel_flat = np.stack(
            [np.resize(flat(k), kmax) for k in self.kernels]
        )  # (360, kmax), short kernels repeat their offsets

    def _offset_tables(self, p: PathfinderParams) -> None:
        """Lane-local offsets of the stamps and their sparse tables (mask, high, occupancy) and
        the marker stamp."""
        m, h, S, Wp, mk = self.m, self.h, self.S, self.Wp, self.mk

        # Lane-local offsets of the stamps (dense, for drawing ink) and sparse tables: the nonzero
        # entries of each mask stamp, of its dilation by the small disk (what candidate weights
        # read), and its entries >= 0.79 (the only ones that can reach 1.8 on an occupancy <= 1).
        ii, jj = np.meshgrid(np.arange(S) - h, np.arange(S) - h, indexing="ij")
        self.stamp_off = (ii * Wp + jj).reshape(-1)
        small = _disk(m)
        So = S + 2 * m
        ii, jj = np.meshgrid(np.arange(So) - h - m, np.arange(So) - h - m, indexing="ij")
        occ_off = (ii * Wp + jj).reshape(-1)
        occs = []
        for msk in self.masks:
            padded = np.zeros((So, So), np.float32)
            padded[m : m + S, m : m + S] = msk.reshape(S, S)
            occs.append(_dilate(padded, small).reshape(-1))
        self.mask_off, self.mask_val = _sparse(self.masks, self.stamp_off, 0.0)
        self.high_off, self.high_val = _sparse(self.masks, self.stamp_off, 0.79)
        self.occ_off, self.occ_val = _sparse(np.stack(occs), occ_off, 0.0)
        marker = _marker_stamp(p.marker_radius, self.aa, mk)
        ii, jj = np.meshgrid(np.arange(2 * mk + 1) - mk, np.arange(2 * mk + 1) - mk, indexing="ij")
        self.marker_off = (ii * Wp + jj).reshape(-1)
        self.marker = marker.reshape(-1)

    def _canvas_tables(self, p: PathfinderParams) -> None:
        """The empty canvases (mask, dilated occupancy, inside) and the first seed's free pixels
        per degree."""
        R, P, Wp = self.R, self.P, self.Wp
        small = _disk(self.m)

        # Empty canvas: occupancy 1 on the padding border; the dilated occupancy ("occ", what
        # candidate weights see) is additionally 1 everywhere outside the image.
        inner = np.zeros((R, R), np.float32)
        pad = p.padding
        inner[:pad, :] = inner[-pad:, :] = inner[:, :pad] = inner[:, -pad:] = 1.0
        canvas = np.zeros((Wp, Wp), np.float32)
        canvas[P : P + R, P : P + R] = inner
        self.mask0 = canvas.reshape(-1).copy()
        canvas[:] = 1.0
        canvas[P : P + R, P : P + R] = _dilate(inner, small)
        self.occ0 = canvas.reshape(-1).copy()
        canvas[:] = 0.0
        canvas[P : P + R, P : P + R] = 1.0
        self.inside = canvas.reshape(-1).copy()

        # The first target seed always lands on an empty canvas: free pixels per degree.
        band = max(2 * p.seed_distance, pad)
        occupied = inner > _OCCUPIED
        occupied[:band, :] = occupied[R - band :, :] = True
        occupied[:, :band] = occupied[:, R - band :] = True
        free = [np.flatnonzero(~_dilate(occupied, k)) for k in self.kernels]
        # OpenCV's dilate pads a float64 image with -DBL_MAX: where every tap of the struct
        # falls outside the image the result is negative, and find_available_coordinates then
        # reports no free pixel at all (the original's "mystery" branch), whatever the canvas.
        ones = np.ones((R, R), bool)
        self.seed_void = np.array([not _dilate(ones, k).all() for k in self.kernels])
        if not p.opencv_border:
            self.seed_void[:] = False
        free = [
            np.zeros(0, np.int64) if v else f for f, v in zip(free, self.seed_void, strict=True)
        ]
        self.first_count = np.array([len(f) for f in free])
        self.first_free = np.zeros((360, max(1, self.first_count.max())), np.int64)
        for d, f in enumerate(free):
            self.first_free[d, : len(f)] = f

    def _draw(self, key: tuple[int, int], big_disk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``snakes.draw_line_n_mask`` for one stamp: (line, mask) in [0, 1], (S, S)."""
        big = 2 * self.h * self.aa + 1
        cb = self.h * self.aa
        im = Image.new("L", (big, big), 0)
        ImageDraw.Draw(im).line([(cb, cb), (cb + key[1], cb + key[0])], fill=255, width=self.width)
        dilated = _dilate(np.asarray(im), big_disk)
        size = (self.S, self.S)
        lanczos = Image.Resampling.LANCZOS
        line = np.asarray(im.resize(size, lanczos), dtype=np.float64) / 255
        mask = np.asarray(Image.fromarray(dilated).resize(size, lanczos), dtype=np.float64) / 255
        return line, mask

    def loc(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (y + self.P) * self.Wp + (x + self.P)

    def yx(self, loc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, x = np.divmod(loc, self.Wp)
        return y - self.P, x - self.P


@lru_cache(maxsize=16)
def _geometry(p: PathfinderParams, margin: int) -> _Geometry:
    return _Geometry(p, margin)


def _marker_stamp(radius: float, aa: int, k: int) -> np.ndarray:
    """``snakes2.draw_circle`` centred on a pixel, on a local (2k+1)^2 window, in [0, 1]."""
    n = (2 * k + 1) * aa
    yy, xx = np.ogrid[-k * aa : n - k * aa, -k * aa : n - k * aa]
    disk = ((xx**2 + yy**2) <= (radius * aa) ** 2).astype(np.uint8) * 255
    small = Image.fromarray(disk).resize((2 * k + 1, 2 * k + 1), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float32) / 255


# ----------------------------------------------------------------------------- batched snakes


class _Canvas:
    """Occupancy ``mask`` and dilated occupancy ``occ`` of ``n`` lanes (flat float32)."""

    def __init__(self, g: _Geometry, mask: np.ndarray, occ: np.ndarray) -> None:
        self.g, self.n = g, len(mask) // g.A
        self.mask, self.occ = mask, occ

    @classmethod
    def empty(cls, g: _Geometry, n: int) -> _Canvas:
        """``n`` empty canvases in a buffer that the geometry keeps (valid until the next call)."""
        if g.buffer is None or len(g.buffer[0]) < n * g.A:
            size = max(n, g.max_lanes) * g.A
            g.buffer = (np.empty(size, np.float32), np.empty(size, np.float32))
        mask, occ = g.buffer[0][: n * g.A], g.buffer[1][: n * g.A]
        np.copyto(mask.reshape(n, g.A), g.mask0)
        np.copyto(occ.reshape(n, g.A), g.occ0)
        return cls(g, mask, occ)

    def paste(self, lanes: np.ndarray, loc: np.ndarray, sid: np.ndarray) -> None:
        """Add paddles' masks to the occupancy (clipped to the image, as the original clips)."""
        g = self.g
        local = loc[:, None] + g.mask_off[sid]
        idx = (lanes * g.A)[:, None] + local
        vals = g.mask_val[sid] * g.inside[local]
        self.mask[idx] = np.maximum(self.mask[idx], vals)
        idx = (lanes * g.A + loc)[:, None] + g.occ_off[sid]
        self.occ[idx] = np.maximum(self.occ[idx], g.occ_val[sid])

    def overlaps(self, lanes: np.ndarray, loc: np.ndarray, sid: np.ndarray) -> np.ndarray:
        """Would a paddle push occupancy + its mask to 1.8 anywhere?"""
        g = self.g
        idx = (lanes * g.A + loc)[:, None] + g.high_off[sid]
        return (self.mask[idx] + g.high_val[sid]).max(axis=1) >= _OVERLAP

    def rows(self, lanes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        A = self.g.A
        return self.mask.reshape(-1, A)[lanes].copy(), self.occ.reshape(-1, A)[lanes].copy()

    def restore(self, lanes: np.ndarray, rows: tuple[np.ndarray, np.ndarray]) -> None:
        A = self.g.A
        self.mask.reshape(-1, A)[lanes] = rows[0]
        self.occ.reshape(-1, A)[lanes] = rows[1]


class _Snakes:
    """Per-lane state of one growing snake: pivot, orientation id, pending paddle, last head."""

    def __init__(self, n: int) -> None:
        self.py = np.zeros(n, np.int64)
        self.px = np.zeros(n, np.int64)
        self.oid = np.zeros(n, np.int64)
        self.pend_loc = np.zeros(n, np.int64)
        self.pend_sid = np.zeros(n, np.int64)

    def start(self, lanes: np.ndarray, seed: _Seed) -> None:
        self.py[lanes], self.px[lanes] = seed.py, seed.px
        self.oid[lanes] = seed.deg
        self.pend_loc[lanes], self.pend_sid[lanes] = seed.loc, seed.sid


@dataclasses.dataclass
class _Seed:
    """Seed paddles of some lanes: tail ``loc``, pivot, orientation (degree id), stamp."""

    ok: np.ndarray
    loc: np.ndarray
    py: np.ndarray
    px: np.ndarray
    deg: np.ndarray
    sid: np.ndarray

    def __getitem__(self, sel: np.ndarray) -> _Seed:
        return _Seed(*(getattr(self, f.name)[sel] for f in dataclasses.fields(self)))


def _seed_finish(
    g: _Geometry, ty: np.ndarray, tx: np.ndarray, deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head and pivot of seed paddles; returns (in bounds, pivot y, pivot x)."""
    hy, hx = _ceil(ty + g.L * g.sin[deg]), _ceil(tx + g.L * g.cos[deg])
    py, px = _ceil(hy + g.r * g.sin_flip[deg]), _ceil(hx + g.r * g.cos_flip[deg])
    R = g.R
    ok = (hy >= 0) & (hy < R) & (hx >= 0) & (hx < R) & (py >= 0) & (py < R) & (px >= 0) & (px < R)
    return ok, py, px


def _seed(
    rng: np.random.Generator,
    p: PathfinderParams,
    g: _Geometry,
    cv: _Canvas | None,
    lanes: np.ndarray,
) -> _Seed:
    """``seed_snake`` / the first seed of ``initialize_two_seeds``, vectorised over lanes.

    With ``cv=None`` the canvas is empty and the 2*seed_distance border band applies (the
    precomputed table); otherwise the tail is uniform over the pixels where the paddle avoids the
    dilated occupancy (rejection sampling, exact fallback when 32 draws all miss). A lane fails
    when no pixel is free, or when its head or pivot leaves the image in all
    ``max_paddle_retrial + 1`` tries.
    """
    n, R = len(lanes), g.R
    out = _Seed(*(np.zeros(n, t) for t in (bool, np.int64, np.int64, np.int64, np.int64, np.int64)))
    todo = np.arange(n)
    for _ in range(p.max_paddle_retrial + 1):
        if not len(todo):
            break
        deg = rng.integers(0, 360, len(todo))
        if cv is None:
            count = g.first_count[deg]
            pick = np.minimum((rng.random(len(todo)) * count).astype(np.int64), count - 1)
            tail = g.first_free[deg, np.maximum(pick, 0)]
            found = count > 0
        else:
            tries = 32
            cand = rng.integers(0, R * R, (len(todo), tries))
            cy, cx = np.divmod(cand, R)
            base = (lanes[todo] * g.A)[:, None] + g.loc(cy, cx)
            blocked = (cv.mask[base[:, :, None] + g.kernel_flat[deg][:, None, :]] > _OCCUPIED).any(
                2
            )
            first = np.argmin(blocked, axis=1)
            void = g.seed_void[deg]
            found = ~blocked[np.arange(len(todo)), first] & ~void
            tail = cand[np.arange(len(todo)), first]
            for i in np.flatnonzero(~found & ~void):  # all draws hit occupied pixels: exact
                inner = cv.mask.reshape(-1, g.Wp, g.Wp)[
                    lanes[todo[i]], g.P : g.P + R, g.P : g.P + R
                ]
                free = np.flatnonzero(~_dilate(inner > _OCCUPIED, g.kernels[deg[i]]))
                if len(free):
                    tail[i] = free[min(int(rng.random() * len(free)), len(free) - 1)]
                    found[i] = True
        ty, tx = np.divmod(tail, R)
        inb, py, px = _seed_finish(g, ty, tx, deg)
        good = found & inb
        sel = todo[good]
        out.ok[sel] = True
        out.loc[sel], out.py[sel], out.px[sel] = g.loc(ty[good], tx[good]), py[good], px[good]
        out.deg[sel], out.sid[sel] = deg[good], g.seed_stamp[deg[good]]
        todo = todo[found & ~inb]  # no free pixel ends the snake at once
    return out


def _extend(
    rng: np.random.Generator,
    p: PathfinderParams,
    g: _Geometry,
    cv: _Canvas,
    lanes: np.ndarray,
    sn: _Snakes,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``extend_snake`` for snake ``sn`` in ``lanes``: returns (ok mask, new head loc, stamp)."""
    n, R, K = len(lanes), g.R, g.K
    o = sn.oid[lanes]
    py = _ceil(sn.py[lanes] + g.step * g.sin[o])
    px = _ceil(sn.px[lanes] + g.step * g.cos[o])
    centre = g.loc(np.clip(py, -g.r - 1, R + g.r), np.clip(px, -g.r - 1, R + g.r))
    weight = (1.0 - cv.occ[(lanes * g.A + centre)[:, None] + g.cand_flat]) * g.turn_weight[o]
    cmf = np.cumsum(weight, axis=1)
    total = cmf[:, -1]
    chosen = np.full(n, -1, np.int64)
    todo = np.flatnonzero(total >= 1e-4)
    for _ in range(p.max_paddle_retrial + 1):
        if not len(todo):
            break
        u = rng.random(len(todo)) * total[todo]
        j = np.minimum((cmf[todo] <= u[:, None]).sum(axis=1), K - 1)
        bad = cv.overlaps(lanes[todo], centre[todo] + g.cand_flat[j], g.cand_stamp[j])
        chosen[todo[~bad]] = j[~bad]
        todo = todo[bad]
    ok = chosen >= 0
    sel, j = np.flatnonzero(ok), chosen[ok]
    moved = lanes[sel]
    cv.paste(moved, sn.pend_loc[moved], sn.pend_sid[moved])
    head, sid = centre[sel] + g.cand_flat[j], g.cand_stamp[j]
    sn.pend_loc[moved], sn.pend_sid[moved] = head, sid
    sn.py[moved], sn.px[moved], sn.oid[moved] = py[sel], px[sel], 360 + j
    return ok, head, sid


def _choice(
    rng: np.random.Generator, values: Sequence[float], shape: tuple[int, ...]
) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    if len(v) == 1:
        return np.full(shape, v[0], np.float32)
    return v[rng.integers(0, len(v), shape)]


@dataclasses.dataclass
class _Pairs:
    """``need`` finished target-snake pairs: paddles (need, 2, contour_length) and canvases."""

    loc: np.ndarray
    sid: np.ndarray
    con: np.ndarray
    mask: np.ndarray
    occ: np.ndarray
    attempts: int


def _pairs(rng: np.random.Generator, p: PathfinderParams, g: _Geometry, need: int) -> _Pairs:
    """``two_snakes`` until ``need`` pairs exist: rounds of independent attempts in lockstep.

    Every attempt either fails or completes after the same number of steps, so taking the
    successful lanes in lane order keeps the pairs i.i.d. from the original's distribution.
    """
    cl = p.contour_length
    shape = (need, 2, cl)
    res = _Pairs(
        np.zeros(shape, np.int64),
        np.zeros(shape, np.int64),
        np.zeros(shape, np.float32),
        np.zeros((need, g.A), np.float32),
        np.zeros((need, g.A), np.float32),
        0,
    )
    have, rate = 0, 0.02
    while have < need:
        M = int(min(g.max_lanes, max(16, math.ceil((need - have) / rate * 1.3))))
        res.attempts += M
        mus = np.asarray(list(p.snake_contrast_list) * 2, np.float32)
        mus = mus[np.argsort(rng.random((M, len(mus))), axis=1)[:, :2]]  # shuffled, first two
        con = _choice(rng, p.paddle_contrast_list, (M, cl))[:, None, :] * mus[:, :, None]
        first = _seed(rng, p, g, None, np.arange(M))
        con, first = con[first.ok], first[first.ok]
        # The second seed: seed_distance away from the first tail, no occupancy test.
        ty1, tx1 = g.yx(first.loc)
        second = _Seed(*(np.zeros(len(first.loc), t) for t in (bool, *[np.int64] * 5)))
        todo = np.arange(len(first.loc))
        for _ in range(p.max_paddle_retrial + 1):
            if not len(todo):
                break
            deg = rng.integers(0, 360, len(todo))
            away = rng.integers(0, 360, len(todo)) * np.pi / 180
            ty = np.round(ty1[todo] + p.seed_distance * np.sin(away)).astype(np.int64)
            tx = np.round(tx1[todo] + p.seed_distance * np.cos(away)).astype(np.int64)
            inb, py, px = _seed_finish(g, ty, tx, deg)
            sel = todo[inb]
            second.ok[sel] = True
            second.loc[sel], second.py[sel], second.px[sel] = (
                g.loc(ty[inb], tx[inb]),
                py[inb],
                px[inb],
            )
            second.deg[sel], second.sid[sel] = deg[inb], g.seed_stamp[deg[inb]]
            todo = todo[~inb]
        con, first, second = con[second.ok], first[second.ok], second[second.ok]
        # Canvases only for the lanes whose seeds both succeeded.
        n = len(con)
        alive = np.arange(n)
        cv = _Canvas.empty(g, n)
        loc = np.zeros((n, 2, cl), np.int64)
        sid = np.zeros((n, 2, cl), np.int64)
        snakes = (_Snakes(n), _Snakes(n))
        for s, seed in enumerate((first, second)):
            snakes[s].start(alive, seed)
            loc[alive, s, 0], sid[alive, s, 0] = seed.loc, seed.sid
        for k in range(1, cl):
            for s in (0, 1):
                ok, head, stamp = _extend(rng, p, g, cv, alive, snakes[s])
                alive = alive[ok]
                loc[alive, s, k], sid[alive, s, k] = head, stamp
        # As in the original, only the second snake's last paddle joins the occupancy.
        cv.paste(alive, snakes[1].pend_loc[alive], snakes[1].pend_sid[alive])
        rate = max((have + len(alive)) / res.attempts, 1e-3)
        take = alive[: need - have]
        dst = slice(have, have + len(take))
        res.loc[dst], res.sid[dst], res.con[dst] = loc[take], sid[take], con[take]
        res.mask[dst], res.occ[dst] = cv.rows(take)
        have += len(take)
    return res


def _distractors(
    rng: np.random.Generator,
    p: PathfinderParams,
    g: _Geometry,
    cv: _Canvas,
    count: int,
    length: int,
    retries: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``make_many_snakes(allow_incomplete=True)``: ``count`` snakes of ``length`` per lane.

    Returns paddles loc, sid, contrast (n, count, length) and ok (n, count).
    """
    n = cv.n
    loc = np.zeros((n, count, length), np.int64)
    sid = np.zeros((n, count, length), np.int64)
    con = np.zeros((n, count, length), np.float32)
    done = np.zeros((n, count), bool)
    R, P = g.R, g.P
    for d in range(count):
        todo = np.arange(n)
        for _ in range(retries + 1):
            if not len(todo):
                break
            inner = cv.mask.reshape(n, g.Wp, g.Wp)[todo, P : P + R, P : P + R]
            todo = todo[(inner <= _OCCUPIED).mean(axis=(1, 2)) >= 0.01]  # stop_with_availability
            contrast = _choice(rng, p.snake_contrast_list, (len(todo), length))
            seed = _seed(rng, p, g, cv, todo)
            lanes, contrast, seed = todo[seed.ok], contrast[seed.ok], seed[seed.ok]
            saved = cv.rows(lanes)
            sn = _Snakes(n)
            sn.start(lanes, seed)
            loc[lanes, d, 0], sid[lanes, d, 0], con[lanes, d, :] = seed.loc, seed.sid, contrast
            alive = np.arange(len(lanes))
            for k in range(1, length):
                ok, head, stamp = _extend(rng, p, g, cv, lanes[alive], sn)
                alive = alive[ok]
                loc[lanes[alive], d, k], sid[lanes[alive], d, k] = head, stamp
            failed = np.ones(len(lanes), bool)
            failed[alive] = False
            cv.restore(lanes[failed], (saved[0][failed], saved[1][failed]))
            won = lanes[alive]
            cv.paste(won, sn.pend_loc[won], sn.pend_sid[won])
            done[won, d] = True
            todo = np.setdiff1d(todo, won, assume_unique=True)
    return loc, sid, con, done


@dataclasses.dataclass
class RenderedBatch:
    """What :func:`render_batch` returns.

    Attributes:
      images: (n, R, R) uint8.
      labels: (n,) int64, 1 when both markers lie on the same target snake.
      margins: (n,) int64 paddle margin of each image.
      layers, markers, marker_snakes, paddles: only with ``debug=True``, per image as in
        :class:`Rendering` (``layers`` stacks snake 0, snake 1 and the distractors).
    """

    images: np.ndarray
    labels: np.ndarray
    margins: np.ndarray
    layers: np.ndarray | None = None  # (n, 3, R, R): snake 0, snake 1, distractors
    markers: np.ndarray | None = None  # (n, 2, 2)
    marker_snakes: np.ndarray | None = None  # (n, 2)
    paddles: np.ndarray | None = None  # (n, 2, contour_length, 2) paddle start pixels


def _paint(
    g: _Geometry,
    ink: np.ndarray,
    lanes: np.ndarray,
    loc: np.ndarray,
    sid: np.ndarray,
    con: np.ndarray,
) -> None:
    idx = (lanes * g.A + loc)[:, None] + g.stamp_off
    ink[idx] = np.maximum(ink[idx], g.lines[sid] * con[:, None])


def _render_group(
    rng: np.random.Generator,
    p: PathfinderParams,
    g: _Geometry,
    labels: np.ndarray,
    origins: np.ndarray,
    debug: bool,
) -> dict[str, np.ndarray]:
    n, cl, R, P = len(labels), p.contour_length, g.R, g.P
    pairs = _pairs(rng, p, g, n)
    cv = _Canvas(g, pairs.mask.reshape(-1), pairs.occ.reshape(-1))
    extra = [
        _distractors(
            rng,
            p,
            g,
            cv,
            p.num_distractor_snakes,
            p.distractor_length,
            p.max_distractor_contour_retrial,
        )
    ]
    if p.use_single_paddles:
        total = int(150 / ((7.5 + 13 * g.m + 4 * g.m * g.m) / 123.5))
        count = total - 2 * cl - p.num_distractor_snakes * p.distractor_length
        if count > 0:
            extra.append(_distractors(rng, p, g, cv, count, 1, p.max_paddle_retrial))
    lanes = np.arange(n)
    terminals = np.where(labels == 1, origins, 1 - origins)
    marks = np.stack([pairs.loc[lanes, origins, 0], pairs.loc[lanes, terminals, cl - 1]], 1)

    def layer(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
        ink = np.zeros(n * g.A, np.float32)
        for sel, loc, sid, con in parts:
            _paint(g, ink, lanes[sel], loc[sel], sid[sel], con[sel])
        return ink

    target = [
        [(lanes, pairs.loc[:, s, k], pairs.sid[:, s, k], pairs.con[:, s, k]) for k in range(cl)]
        for s in (0, 1)
    ]
    others = [
        (ok[:, d], loc[:, d, k], sid[:, d, k], con[:, d, k])
        for loc, sid, con, ok in extra
        for d in range(ok.shape[1])
        for k in range(loc.shape[2])
    ]
    ink = layer(target[0] + target[1] + others)
    for col in (0, 1):
        idx = (lanes * g.A + marks[:, col])[:, None] + g.marker_off
        ink[idx] = np.maximum(ink[idx], g.marker)
    v = ink.reshape(n, g.Wp, g.Wp)[:, P : P + R, P : P + R]
    lo = v.min(axis=(1, 2), keepdims=True)
    span = v.max(axis=(1, 2), keepdims=True) - lo
    scale = 255.0 / np.where(span > 0, span, 1.0)
    out = {"images": (((v - lo) * scale).clip(0, 255) + 0.5).astype(np.uint8)}
    if debug:
        crop = [
            layer(part).reshape(n, g.Wp, g.Wp)[:, P : P + R, P : P + R]
            for part in (target[0], target[1], others)
        ]
        out["layers"] = np.stack(crop, 1)
        out["markers"] = np.stack(g.yx(marks), -1)
        out["marker_snakes"] = np.stack([origins, terminals], 1)
        out["paddles"] = np.stack(g.yx(pairs.loc), -1)
    return out


def render_batch(
    rng: np.random.Generator, params: PathfinderParams, n: int, debug: bool = False
) -> RenderedBatch:
    """``n`` Pathfinder images from one generator: images (n, R, R) uint8, labels (n,) int64.

    Labels, paddle margins and the marked snake are drawn first, then each margin's images are
    grown together (numpy over lanes). ``debug`` adds per-snake layers and marker positions.
    """
    labels = rng.integers(0, 2, n)
    margins = np.asarray(params.paddle_margin_list)[
        rng.integers(0, len(params.paddle_margin_list), n)
    ]
    origins = rng.integers(0, 2, n)
    R = params.resolution
    batch = RenderedBatch(np.zeros((n, R, R), np.uint8), labels, margins)
    for m in sorted(set(margins.tolist())):
        sel = np.flatnonzero(margins == m)
        got = _render_group(rng, params, _geometry(params, m), labels[sel], origins[sel], debug)
        for key, value in got.items():
            if getattr(batch, key) is None:
                setattr(batch, key, np.zeros((n, *value.shape[1:]), value.dtype))
            getattr(batch, key)[sel] = value
    return batch


def render(rng: np.random.Generator, params: PathfinderParams) -> tuple[np.ndarray, int]:
    """One Pathfinder image: ``(image (R, R) uint8, label)``; consumes ``rng``."""
    b = render_batch(rng, params, 1)
    return b.images[0], int(b.labels[0])


def render_debug(rng: np.random.Generator, params: PathfinderParams) -> Rendering:
    """:func:`render` (the same image for the same ``rng`` state) plus what the tests inspect."""
    b = render_batch(rng, params, 1, debug=True)
    assert b.layers is not None and b.markers is not None and b.marker_snakes is not None
    assert b.paddles is not None
    return Rendering(
        image=b.images[0],
        label=int(b.labels[0]),
        margin=int(b.margins[0]),
        snakes=b.layers[0, :2],
        distractors=b.layers[0, 2],
        markers=b.markers[0],
        marker_snakes=(int(b.marker_snakes[0, 0]), int(b.marker_snakes[0, 1])),
        paddles=b.paddles[0],
    )


# ----------------------------------------------------------------------------- writing


def chunk_rng(seed: int, k: int, i0: int) -> np.random.Generator:
    """The generator of the images ``i0, i0 + 1, ...`` of folder ``k`` (one worker task)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, i0)))


def _work(
    task: tuple[str, PathfinderParams, int, int, int, int, int],
) -> tuple[int, int, list[tuple[int, int]]]:
    """Render and save images ``i0..i1-1`` of folder ``k``; returns (k, i0, [(label, margin)])."""
    folder, params, seed, k, i0, i1, compress = task
    out = Path(folder) / "imgs" / str(k)
    batch = render_batch(chunk_rng(seed, k, i0), params, i1 - i0)
    for i, img in enumerate(batch.images):
        Image.fromarray(img, "L").save(out / f"sample_{i0 + i}.png", compress_level=compress)
    return k, i0, [(int(a), int(b)) for a, b in zip(batch.labels, batch.margins, strict=True)]


def _tasks(
    folder: Path, params: PathfinderParams, n: int, seed: int, per_dir: int, compress: int
) -> Iterator[tuple[str, PathfinderParams, int, int, int, int, int]]:
    for k in range((n + per_dir - 1) // per_dir):
        size = min(per_dir, n - k * per_dir)
        step = _CHUNK[params.resolution]
        for i0 in range(0, size, step):
            yield str(folder), params, seed, k, i0, min(i0 + step, size), compress


def generate(
    out: str | os.PathLike,
    resolution: int = 32,
    n: int = 200_000,
    seed: int = 0,
    workers: int = 2,
    difficulty: str = "curv_contour_length_14",
    per_dir: int = PER_DIR,
    use_single_paddles: bool = False,
    compress_level: int = 1,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Write ``n`` images to ``out/pathfinder{resolution}/{difficulty}`` (official layout).

    The pixels of image ``k * per_dir + i`` depend only on ``(seed, k * per_dir + i)`` and the
    parameters, never on ``workers``. Returns the difficulty folder.

    Raises:
      FileExistsError: the folder already holds metadata and ``overwrite`` is False.
      ValueError: unknown resolution or difficulty, ``n < 1`` or ``per_dir < 1``.
    """
    from tqdm import tqdm

    params = PathfinderParams.lra(resolution, difficulty, use_single_paddles)
    if n < 1 or per_dir < 1:
        raise ValueError(f"n and per_dir must be >= 1, got n={n}, per_dir={per_dir}")
    folder = Path(out) / f"pathfinder{resolution}" / difficulty
    if (folder / "metadata").exists() and any((folder / "metadata").iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{folder / 'metadata'} is not empty; choose another --out or pass --overwrite"
            )
        shutil.rmtree(folder / "metadata")
        shutil.rmtree(folder / "imgs", ignore_errors=True)
        for cache in folder.glob(".freqssm_cache*"):  # the loader's pixel cache of the old images
            cache.unlink()
    n_dirs = (n + per_dir - 1) // per_dir
    (folder / "metadata").mkdir(parents=True, exist_ok=True)
    for k in range(n_dirs):
        (folder / "imgs" / str(k)).mkdir(parents=True, exist_ok=True)

    tasks = list(_tasks(folder, params, n, seed, per_dir, compress_level))
    rows: dict[int, dict[int, list[tuple[int, int]]]] = {k: {} for k in range(n_dirs)}
    done = dict.fromkeys(range(n_dirs), 0)
    bar = tqdm(total=n, unit="img", desc=f"pathfinder{resolution}", disable=not progress)

    def collect(result: tuple[int, int, list[tuple[int, int]]]) -> None:
        k, i0, chunk = result
        rows[k][i0] = chunk
        done[k] += len(chunk)
        bar.update(len(chunk))
        if done[k] == min(per_dir, n - k * per_dir):
            lines = []
            for start in sorted(rows[k]):
                for off, (label, margin) in enumerate(rows[k][start]):
                    i = start + off
                    lines.append(
                        f"imgs/{k} sample_{i}.png {i} {label} {params.metadata_fields(margin)}\n"
                    )
            (folder / "metadata" / f"{k}.npy").write_text("".join(lines), encoding="utf-8")
            del rows[k]

    try:
        if workers <= 1:
            for task in tasks:
                collect(_work(task))
        else:
            with mp.get_context("spawn").Pool(workers) as pool:
                for result in pool.imap_unordered(_work, tasks, chunksize=1):
                    collect(result)
    finally:
        bar.close()
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point (``python -m freqssm.datagen.pathfinder --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m freqssm.datagen.pathfinder",
        description="Generate LRA Pathfinder / Path-X into OUT/pathfinder{R}/{difficulty}/",
    )
    parser.add_argument("--out", required=True, help="data root (the loaders' data_dir)")
    parser.add_argument("--resolution", type=int, choices=RESOLUTIONS, default=32)
    parser.add_argument("--n", type=int, default=200_000, help="number of images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes (1: in-process)")
    parser.add_argument(
        "--difficulty", choices=sorted(DIFFICULTIES), default="curv_contour_length_14"
    )
    parser.add_argument("--per-dir", type=int, default=PER_DIR, help="images per imgs/<k>")
    parser.add_argument("--single-paddles", action="store_true", help="add single paddles")
    parser.add_argument("--compress-level", type=int, default=1, help="PNG zlib level 0-9")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output")
    args = parser.parse_args(argv)
    folder = generate(
        args.out,
        resolution=args.resolution,
        n=args.n,
        seed=args.seed,
        workers=args.workers,
        difficulty=args.difficulty,
        per_dir=args.per_dir,
        use_single_paddles=args.single_paddles,
        compress_level=args.compress_level,
        overwrite=args.overwrite,
    )
    print(f"wrote {args.n} images to {folder}")


if __name__ == "__main__":
    main()
