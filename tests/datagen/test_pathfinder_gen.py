"""The Pathfinder generator: official layout, labels, determinism, and label correctness."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from freqssm.data.lra.pathfinder import read_pathfinder_metadata
from freqssm.datagen import pathfinder as pf

DIFF = "curv_contour_length_14"


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def batch32():
    """200 Pathfinder-32 images with the debug layers."""
    return pf.render_batch(np.random.default_rng(123), pf.PathfinderParams.lra(32), 200, debug=True)


def test_lra_parameters():
    p32, p128 = pf.PathfinderParams.lra(32), pf.PathfinderParams.lra(128)
    assert (p32.contour_length, p32.distractor_length, p32.num_distractor_snakes) == (14, 4, 5)
    assert (p32.paddle_length, p32.paddle_thickness, p32.paddle_margin_list) == (2, 0.5, (1,))
    assert (p32.seed_distance, p32.marker_radius, p32.continuity) == (7, 1.5, 1.0)
    assert (p32.snake_contrast_list, p32.paddle_contrast_list, p32.antialias_scale) == (
        (2.0,),
        (0.75,),
        2,
    )
    # Path-X: Python 2 integer division gives 14/3 = 4 and 35/4 = 8.
    assert (p128.contour_length, p128.distractor_length, p128.num_distractor_snakes) == (14, 4, 8)
    assert (p128.paddle_length, p128.paddle_thickness, p128.paddle_margin_list) == (5, 1.5, (2, 3))
    assert (p128.seed_distance, p128.marker_radius, p128.continuity) == (20, 3.0, 1.8)
    assert (p128.snake_contrast_list, p128.paddle_contrast_list) == ((0.9,), (1.0,))
    assert pf.PathfinderParams.lra(32, "curv_baseline").contour_length == 6
    with pytest.raises(ValueError, match="resolution"):
        pf.PathfinderParams.lra(64)
    with pytest.raises(ValueError, match="difficulty"):
        pf.PathfinderParams.lra(32, "curv_contour_length_15")


def test_official_layout_and_metadata(tmp_path):
    pf.main(["--out", str(tmp_path), "--n", "25", "--per-dir", "10", "--workers", "1"])
    folder = tmp_path / "pathfinder32" / DIFF
    assert sorted(p.name for p in (folder / "metadata").iterdir()) == ["0.npy", "1.npy", "2.npy"]
    sizes = {"0": 10, "1": 10, "2": 5}
    assert {p.name: len(list(p.iterdir())) for p in (folder / "imgs").iterdir()} == sizes
    labels = []
    for k, size in sizes.items():
        text = (folder / "metadata" / f"{k}.npy").read_text()
        assert text.endswith("\n") and "  " not in text and "\t" not in text
        lines = text.split("\n")[:-1]  # how LRA's TFDS builder reads it
        assert len(lines) == size
        for i, line in enumerate(lines):
            f = line.split(" ")
            assert f[:3] == [f"imgs/{k}", f"sample_{i}.png", str(i)]
            assert f[3] in ("0", "1")
            assert f[4:] == ["1.0", "14", "4", "2", "0.5", "1", "1"]
            labels.append(int(f[3]))
            with Image.open(folder / f[0] / f[1]) as im:
                assert im.mode == "L" and im.size == (32, 32) and im.format == "PNG"
                arr = np.asarray(im)
            assert arr.dtype == np.uint8 and arr.max() == 255 and arr.min() == 0
    # The project's loader reads what the generator writes.
    paths, got, _ = read_pathfinder_metadata(folder, tmp_path)
    assert len(paths) == 25 and got.tolist() == labels


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    pf.generate(tmp_path, n=3, workers=1, progress=False)
    with pytest.raises(FileExistsError, match="overwrite"):
        pf.generate(tmp_path, n=3, workers=1, progress=False)
    folder = pf.generate(tmp_path, n=2, workers=1, progress=False, overwrite=True)
    assert len(list((folder / "imgs" / "0").iterdir())) == 2
    assert len((folder / "metadata" / "0.npy").read_text().splitlines()) == 2


def test_deterministic_and_independent_of_workers(tmp_path):
    kw = {"n": 18, "per_dir": 7, "progress": False}
    one = _files(pf.generate(tmp_path / "a", seed=5, workers=1, **kw))
    two = _files(pf.generate(tmp_path / "b", seed=5, workers=2, **kw))
    other = _files(pf.generate(tmp_path / "c", seed=6, workers=1, **kw))
    assert len(one) == 18 + 3 and one == two
    pngs = [k for k in one if k.endswith(".png")]
    assert sum(one[k] != other[k] for k in pngs) >= 16

    p = pf.PathfinderParams.lra(32)
    a, la = pf.render(np.random.default_rng(1), p)
    b, lb = pf.render(np.random.default_rng(1), p)
    c, _ = pf.render(np.random.default_rng(2), p)
    assert a.shape == (32, 32) and a.dtype == np.uint8
    assert np.array_equal(a, b) and la == lb and not np.array_equal(a, c)
    d = pf.render_debug(np.random.default_rng(1), p)
    assert np.array_equal(d.image, a) and d.label == la


def test_label_balance_and_ink_statistics(batch32):
    assert 0.35 <= batch32.labels.mean() <= 0.65
    # Regression against the reference implementation (transcribed snakes2.py, 120 images):
    # 34.3% of the pixels are nonzero and the mean intensity is 20.2.
    ink = (batch32.images > 0).mean()
    assert 0.31 <= ink <= 0.38, ink
    assert 17.0 <= batch32.images.mean() <= 23.5
    assert len({im.tobytes() for im in batch32.images}) == 200


def _geodesic(region, start):
    """8-connected geodesic distance from ``start`` inside ``region`` (-1: unreachable)."""
    dist = np.full(region.shape, -1)
    front = np.zeros_like(region)
    front[tuple(start)] = True
    step = 0
    while True:
        dist[front & (dist < 0)] = step
        grown = ndimage.binary_dilation(front, structure=np.ones((3, 3), bool)) & region
        if (grown == front).all():
            return dist
        front, step = grown, step + 1


def _check_labels(batch, params, gap):
    """Independent check of the labels from the per-snake layers and the marker positions.

    A marker belongs to the target snake whose paddle starts (strongest ink) under its centre;
    label 1 iff both markers belong to the same snake. As in the original algorithm, snakes can
    touch, so a marker can also sit on the other snake's ink; markers centred outside the image
    or on two equally strong snakes are not checked. Returns (images checked, for each label-1
    image the geodesic distance between the markers along the snake over the largest distance
    from the first marker: 1 when they are the snake's two ends; a snake that passes close to
    itself can shorten it, so callers test the distribution).
    """
    R, checked, ends = params.resolution, 0, []
    yy, xx = np.mgrid[:R, :R]
    for i in range(len(batch.labels)):
        layers = batch.layers[i, :2] / batch.layers[i, :2].max()
        # Nothing is drawn where no layer and no marker is.
        ink = batch.layers[i].max(axis=0) > 0
        for y, x in batch.markers[i]:
            ink |= (yy - y) ** 2 + (xx - x) ** 2 <= (params.marker_radius + 4) ** 2
        assert not batch.images[i][~ink].any()
        snakes = layers > 0.02
        for s in (0, 1):  # each target snake is one contour once its dash gaps are closed
            closed = ndimage.binary_dilation(snakes[s], iterations=gap)
            assert ndimage.label(closed, structure=np.ones((3, 3)))[1] == 1
        if not ((batch.markers[i] >= 0) & (batch.markers[i] < R)).all():
            continue
        values = np.array([layers[:, y, x] for y, x in batch.markers[i]])  # (marker, snake)
        if (values.min(axis=1) > 0.9 * values.max(axis=1)).any():
            continue
        checked += 1
        assert (values.max(axis=1) >= 0.3).all()  # a paddle starts under each marker
        owners = values.argmax(axis=1)
        for y, x in batch.markers[i]:
            assert batch.images[i, y, x] >= 100  # the marker is drawn there
        assert int(batch.labels[i]) == int(owners[0] == owners[1])
        if owners[0] == owners[1]:
            o, t = batch.markers[i]
            geo = _geodesic(ndimage.binary_dilation(snakes[owners[0]], iterations=gap), o)
            ends.append(geo[tuple(t)] / geo[snakes[owners[0]]].max())
    return checked, np.array(ends)


def test_labels_match_snake_connectivity_32(batch32):
    sub = pf.RenderedBatch(
        *(getattr(batch32, f.name)[:60] for f in dataclasses.fields(pf.RenderedBatch))
    )
    checked, ends = _check_labels(sub, pf.PathfinderParams.lra(32), gap=1)
    assert checked >= 55 and len(ends) >= 15 and checked - len(ends) >= 15  # both labels
    # The markers sit at the snake's two ends (a marker on the middle paddle gives ~0.55).
    assert np.median(ends) >= 0.95 and (ends >= 0.85).mean() >= 0.6


def test_labels_match_snake_connectivity_128():
    params = pf.PathfinderParams.lra(128)
    batch = pf.render_batch(np.random.default_rng(7), params, 6, debug=True)
    assert batch.images.shape == (6, 128, 128) and set(batch.margins.tolist()) <= {2, 3}
    checked, ends = _check_labels(batch, params, gap=3)
    assert checked >= 5 and len(ends) >= 1 and np.median(ends) >= 0.95


def test_single_paddles_add_clutter():
    base = pf.PathfinderParams.lra(32)
    more = pf.PathfinderParams.lra(32, use_single_paddles=True)
    a = pf.render_batch(np.random.default_rng(3), base, 20).images
    b = pf.render_batch(np.random.default_rng(3), more, 20).images
    assert (b > 0).mean() > (a > 0).mean() + 0.1
