"""The denoising task: image <-> sequence layout, band-limited noise, noise survival, builders."""

import ml_collections
import numpy as np
import pytest

from freqssm.data import DataError, build
from freqssm.data.denoise import image_to_sequence, prepare_image, sequence_to_image
from freqssm.data.noise import band_noise, corrupt, noise_options, noise_survival, survival


def _band_fraction(x, band):
    """Fraction of the spectral energy (time axis -2) in band, computed from scratch."""
    L = x.shape[-2]
    power = np.abs(np.fft.rfft(np.asarray(x, np.float64), axis=-2)) ** 2
    f = np.arange(L // 2 + 1) / (L / 2)  # bin frequency as a fraction of Nyquist
    inside = (f >= band[0] - 1e-12) & (f <= band[1] + 1e-12)
    return power[..., inside, :].sum() / power.sum()


def _ideal_lowpass(cut):
    def f(x):
        L = x.shape[-2]
        spec = np.fft.rfft(x, axis=-2)
        spec[..., np.arange(L // 2 + 1) / (L / 2) > cut, :] = 0
        return np.fft.irfft(spec, n=L, axis=-2)

    return f


# ------------------------------------------------------------------ layout


def test_round_trip_and_row_major_order():
    rng = np.random.default_rng(0)
    img = rng.standard_normal((6, 4, 3)).astype(np.float32)
    seq = image_to_sequence(img)
    assert seq.shape == (24, 3)
    np.testing.assert_array_equal(seq[1 * 4 + 2], img[1, 2])  # sample r*cols + c = pixel (r, c)
    np.testing.assert_array_equal(seq[:4], img[0])  # a row is a contiguous sweep
    np.testing.assert_array_equal(sequence_to_image(seq, (6, 4)), img)
    batch = np.stack([seq, 2 * seq])
    np.testing.assert_array_equal(sequence_to_image(batch, (6, 4))[1], 2 * img)
    with pytest.raises(ValueError):
        sequence_to_image(seq, (5, 4))


def test_prepare_image_orientation_and_range():
    # left half black, right half white, on a wide (non-square) canvas
    img = np.zeros((60, 100), np.uint8)
    img[:, 50:] = 255
    out = prepare_image(img, (16, 8))
    assert out.shape == (16, 8, 3) and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    np.testing.assert_allclose(out[:, 0], -1.0, atol=1e-6)  # black -> -1, left side
    np.testing.assert_allclose(out[:, -1], 1.0, atol=1e-6)  # white -> +1, right side
    np.testing.assert_array_equal(out, np.broadcast_to(out[:1], out.shape))  # rows all equal
    np.testing.assert_array_equal(out[..., 0], out[..., 2])  # gray replicated to RGB


# ------------------------------------------------------------------ noise


@pytest.mark.parametrize("band", [(0.0, 0.05), (0.5, 1.0), (0.2, 0.3)])
def test_band_noise_lies_in_band_with_std_sigma(band):
    rng = np.random.default_rng(1)
    n = band_noise(rng, (3, 2048, 2), band, 0.3)
    assert n.shape == (3, 2048, 2) and n.dtype == np.float32
    assert _band_fraction(n, band) > 1 - 1e-9
    np.testing.assert_allclose(n.std(axis=-2), 0.3, rtol=1e-5)
    np.testing.assert_allclose(n.mean(axis=-2), 0.0, atol=1e-5)
    # the noise fills the band rather than sitting on one bin: each half of it holds energy
    mid = (band[0] + band[1]) / 2
    assert 0.2 < _band_fraction(n, (band[0], mid)) < 0.8
    # channels and examples are separate draws
    assert not np.allclose(n[0, :, 0], n[0, :, 1], atol=0.05)
    assert not np.allclose(n[0], n[1], atol=0.05)


def test_band_noise_rejects_bad_bands():
    rng = np.random.default_rng(0)
    for band in [(0.5, 0.2), (-0.1, 0.5), (0.0, 1.5)]:
        with pytest.raises(ValueError):
            band_noise(rng, (64, 1), band, 1.0)
    with pytest.raises(ValueError):  # no bin between DC and 0.01 * Nyquist for L = 64
        band_noise(rng, (64, 1), (0.0, 0.01), 1.0)


def test_corrupt_kinds():
    cfg = ml_collections.ConfigDict(
        {"low_band": (0.0, 0.1), "high_band": (0.6, 1.0), "noise_sigma": 0.25}
    )
    rng = np.random.default_rng(2)
    clean = np.tanh(rng.standard_normal((4, 1024, 3))).astype(np.float32)
    low = corrupt(clean, "low", cfg, np.random.default_rng(3)) - clean
    high = corrupt(clean, "high", cfg, np.random.default_rng(3)) - clean
    both = corrupt(clean, "both", cfg, np.random.default_rng(3)) - clean
    assert _band_fraction(low, (0.0, 0.1)) > 1 - 1e-6
    assert _band_fraction(high, (0.6, 1.0)) > 1 - 1e-6
    assert _band_fraction(both, (0.0, 0.1)) + _band_fraction(both, (0.6, 1.0)) > 1 - 1e-6
    assert 0.3 < _band_fraction(both, (0.0, 0.1)) < 0.7
    np.testing.assert_allclose(low.std(axis=1), 0.25, rtol=1e-3)
    np.testing.assert_allclose(both.std(), 0.25 * np.sqrt(2), rtol=0.05)
    # defaults (cfg=None) and determinism of the default generator
    a, b = corrupt(clean[0], "high"), corrupt(clean[0], "high")
    np.testing.assert_array_equal(a, b)
    assert _band_fraction(a - clean[0], (0.5, 1.0)) > 1 - 1e-6
    np.testing.assert_allclose((a - clean[0]).std(axis=0), 0.2, rtol=1e-3)
    with pytest.raises(ValueError):
        corrupt(clean, "white", cfg)


def test_noise_seed_defaults_to_the_data_seed():
    """noise_seed None (the loader default) means data.seed; the evaluator reads it the same way."""
    clean = np.zeros((64, 1), np.float32)
    by_data_seed = corrupt(clean, "low", {"seed": 7, "noise_seed": None})
    np.testing.assert_array_equal(by_data_seed, corrupt(clean, "low", {"noise_seed": 7}))
    assert not np.array_equal(by_data_seed, corrupt(clean, "low", {"seed": 8}))
    o = noise_options(ml_collections.ConfigDict({"seed": 7, "noise_seed": None}))
    assert o["noise_seed"] == 7 and o["low_band"] == (0.0, 0.05)
    assert noise_options(None)["noise_seed"] == 0


# ------------------------------------------------------------------ survival


def test_survival_of_ideal_lowpass_and_gain():
    rng = np.random.default_rng(4)
    lowpass = _ideal_lowpass(0.25)
    low = band_noise(rng, (2, 1024, 3), (0.0, 0.05), 0.2)
    high = band_noise(rng, (2, 1024, 3), (0.5, 1.0), 0.2)
    assert survival(lowpass, low) == pytest.approx(1.0, abs=1e-6)
    assert survival(lowpass, high) == pytest.approx(0.0, abs=1e-6)
    high64 = high.astype(np.float64)
    assert survival(lambda x: 0.7 * x, high64) == pytest.approx(0.49, rel=1e-12)
    # noise_survival agrees with survival for a linear map, with a clean signal underneath
    clean = rng.uniform(-1, 1, (2, 1024, 3))
    noisy = clean + high
    assert noise_survival(lowpass, clean, noisy) == pytest.approx(0.0, abs=1e-6)
    assert noise_survival(lambda x: -3.0 * x + 1.0, clean, noisy) == pytest.approx(9.0, rel=1e-9)
    mixed = clean + low + high  # equal energies: half survives
    assert noise_survival(lowpass, clean, mixed) == pytest.approx(0.5, abs=0.02)


# ------------------------------------------------------------------ builders


def _skimage_cfg(**kw):
    base = {"name": "denoise", "grid": (32, 8), "n_train": 24, "n_val": 4, "n_test": 6}
    base.update(kw)
    return ml_collections.ConfigDict(base)


def test_skimage_builder_shapes_range_meta():
    ds = build(_skimage_cfg())
    assert (len(ds.train), len(ds.val), len(ds.test)) == (24, 4, 6)
    b = ds.train.get(np.arange(24))
    assert b["inputs"].shape == (24, 256, 3) and b["inputs"].dtype == np.float32
    np.testing.assert_array_equal(b["inputs"], b["targets"])
    assert b["inputs"].min() >= -1.0 and b["inputs"].max() <= 1.0
    assert b["inputs"].std() > 0.1  # real image content, not a constant
    assert len({x.tobytes() for x in b["inputs"]}) == 24  # every crop differs
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features) == (256, "real", 3)
    assert (m.output_kind, m.n_outputs) == ("sequence_regression", 3)
    assert m.extra["grid"] == [32, 8] and m.extra["source"] == "skimage"
    imgs = m.extra["images"]
    assert len(imgs["train"]) >= 5 and imgs["test"] and imgs["val"]
    assert not set(imgs["train"]) & (set(imgs["test"]) | set(imgs["val"]))  # split by image


def test_skimage_builder_deterministic_by_seed():
    a = build(_skimage_cfg()).test.get(np.arange(6))["inputs"]
    b = build(_skimage_cfg()).test.get(np.arange(6))["inputs"]
    c = build(_skimage_cfg(seed=5)).test.get(np.arange(6))["inputs"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_skimage_builder_flips():
    grid = (32, 8)
    plain = sequence_to_image(
        build(_skimage_cfg(flip=False)).train.get(np.arange(24))["inputs"], grid
    )
    flipped = sequence_to_image(build(_skimage_cfg()).train.get(np.arange(24))["inputs"], grid)
    same = np.abs(flipped - plain).max(axis=(1, 2, 3)) < 1e-6
    mirrored = np.abs(flipped - plain[:, :, ::-1]).max(axis=(1, 2, 3)) < 0.02
    assert np.all(same | mirrored)  # same crops; some of them mirrored left-right
    assert 3 <= mirrored.sum() <= 21 and 3 <= same.sum() <= 21


def test_missing_tfds_dataset_names_build_command(tmp_path):
    cfg = ml_collections.ConfigDict(
        {"name": "denoise", "source": "cifar10", "tfds_dir": str(tmp_path), "grid": (32, 32)}
    )
    with pytest.raises(DataError, match=r"tfds build cifar10") as info:
        build(cfg)
    msg = str(info.value)
    assert str(tmp_path) in msg and "--file_format=array_record" in msg
    # data prepared as tfrecord cannot be converted in place: the hint builds into a new folder
    assert "--data_dir=NEW" in msg and "--config.data.tfds_dir=NEW" in msg
    with pytest.raises(DataError):
        build(ml_collections.ConfigDict({**cfg.to_dict(), "source": "no_such_dataset_xyz"}))


# ------------------------------------------------------------------ the authors' stripes


@pytest.mark.parametrize("orientation", ["vertical", "horizontal"])
def test_stripes_have_their_stated_frequency_and_amplitudes(orientation):
    from freqssm.data.noise import STRIPE_FREQ, stripes

    rows, cols = 64, 32
    rng = np.random.default_rng(0)
    noise = stripes((5, rows * cols, 3), (rows, cols), orientation, rng)
    img = noise.reshape(5, rows, cols, 3)  # row-major, as image_to_sequence lays it out
    along, across = (2, 1) if orientation == "vertical" else (1, 2)
    n = img.shape[along]
    # constant across the other image axis
    assert np.allclose(np.diff(img, axis=across), 0.0)
    spec = np.abs(np.fft.rfft(img.astype(np.float64), axis=along))
    peak = np.argmax(spec, axis=along)
    # the stated frequency, 2.99433 rad per pixel, falls on rFFT bin n·f/(2π) of that axis
    assert np.all(np.abs(peak - n * STRIPE_FREQ / (2 * np.pi)) < 1.0)
    # amplitudes U(0, 1), one per image and channel: the maximum of |a cos| over the axis
    amp = np.abs(img).max(axis=(1, 2))
    assert amp.shape == (5, 3) and np.all((amp > 0) & (amp <= 1.0))
    assert len(np.unique(np.round(amp, 6))) == 15
    # along the sequence: vertical is near Nyquist (0.953; periodic per row, so on the row
    # harmonic next to it), horizontal far below it
    seq = np.abs(np.fft.rfft(noise[0, :, 0].astype(np.float64)))
    frac = np.argmax(seq) / (rows * cols / 2)
    if orientation == "vertical":
        assert abs(frac - STRIPE_FREQ / np.pi) < 1 / cols
    else:
        assert frac < 2 / cols
    with pytest.raises(ValueError, match="orientation"):
        stripes((rows * cols, 3), (rows, cols), "diagonal", rng)
