"""The synthetic waves task: shapes, determinism, spectrum and targets checked independently."""

import ml_collections
import numpy as np
import pytest

from freqssm.data import DataError, build
from freqssm.data.waves import default_frequencies, per_wave_error


def _cfg(**kw):
    base = {"name": "waves", "seq_len": 256, "n_train": 64, "n_val": 16, "n_test": 8}
    base.update(kw)
    return ml_collections.ConfigDict(base)


def test_shapes_dtypes_meta():
    ds = build(_cfg(frequencies=(2, 20, 90)))
    assert (len(ds.train), len(ds.val), len(ds.test)) == (64, 16, 8)
    b = ds.train.get(np.arange(5))
    assert b["inputs"].shape == (5, 256, 1) and b["inputs"].dtype == np.float32
    assert b["targets"].shape == (5, 3) and b["targets"].dtype == np.float32
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features) == (256, "real", 1)
    assert (m.output_kind, m.n_outputs) == ("regression", 3)
    assert m.extra["frequencies"] == [2.0, 20.0, 90.0]
    assert m.extra["names"] == ["low", "moderate", "high"]


def test_defaults():
    assert default_frequencies(1024) == (4, 64, 400)
    ds = build(ml_collections.ConfigDict({"name": "waves", "n_train": 8, "n_val": 8, "n_test": 8}))
    assert ds.meta.seq_len == 1024
    assert ds.meta.extra["frequencies"] == [4.0, 64.0, 400.0]
    assert ds.train.get(np.arange(2))["inputs"].shape == (2, 1024, 1)
    # the default split sizes come from the spec
    assert len(build(ml_collections.ConfigDict({"name": "waves", "seq_len": 32})).train) == 4096


def test_deterministic_and_independent_splits():
    a, b = build(_cfg()), build(_cfg())
    for split in ("train", "val", "test"):
        x, y = a.split(split).get(np.arange(8)), b.split(split).get(np.arange(8))
        np.testing.assert_array_equal(x["inputs"], y["inputs"])
        np.testing.assert_array_equal(x["targets"], y["targets"])
    first = a.train.get(np.arange(8))["targets"]
    assert not np.allclose(first, a.val.get(np.arange(8))["targets"])
    other_seed = build(_cfg(seed=1)).train.get(np.arange(8))["targets"]
    assert not np.allclose(first, other_seed)
    # growing the train split does not change the val/test splits
    bigger = build(_cfg(n_train=128))
    np.testing.assert_array_equal(
        bigger.val.get(np.arange(16))["inputs"], a.val.get(np.arange(16))["inputs"]
    )


def test_spectrum_peaks_exactly_at_configured_frequencies():
    freqs = (3, 24, 101)
    ds = build(_cfg(frequencies=freqs, amp_low=0.2, amp_high=1.0))
    u = ds.train.get(np.arange(64))["inputs"][..., 0].astype(np.float64)
    power = np.abs(np.fft.rfft(u, axis=-1)) ** 2
    top3 = np.sort(np.argsort(power, axis=-1)[:, -3:], axis=-1)
    np.testing.assert_array_equal(top3, np.broadcast_to(freqs, top3.shape))
    # all the energy sits in those bins (integer frequencies: no leakage)
    in_bins = power[:, list(freqs)].sum(-1)
    assert np.all(in_bins / power.sum(-1) > 1 - 1e-8)


def test_targets_are_least_squares_amplitudes():
    freqs = (2, 30, 111)
    L = 256
    ds = build(_cfg(frequencies=freqs, amp_low=0.5, amp_high=2.0))
    b = ds.test.get(np.arange(8))
    t = np.arange(L) / L
    design = np.concatenate(
        [np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)], -1) for f in freqs], -1
    )  # (L, 6): sin and cos per wave
    coef, *_ = np.linalg.lstsq(design, b["inputs"][..., 0].T.astype(np.float64), rcond=None)
    amps = np.sqrt(coef[0::2] ** 2 + coef[1::2] ** 2).T  # (B, 3)
    np.testing.assert_allclose(b["targets"], amps, atol=1e-5)
    assert np.all((b["targets"] >= 0.5) & (b["targets"] <= 2.0))


def test_noise_changes_inputs_not_targets():
    clean = build(_cfg()).train.get(np.arange(16))
    noisy = build(_cfg(noise=0.1)).train.get(np.arange(16))
    np.testing.assert_array_equal(clean["targets"], noisy["targets"])
    resid = noisy["inputs"] - clean["inputs"]
    assert 0.08 < resid.std() < 0.12


@pytest.mark.parametrize(
    "kw", [{"frequencies": (4, 64, 128)}, {"frequencies": (64, 4, 100)}, {"frequencies": (0, 4, 9)}]
)
def test_bad_frequencies_raise(kw):
    with pytest.raises(DataError):
        build(_cfg(**kw))


def test_per_wave_error_known_case():
    target = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 1.0]])
    pred = target + np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 0.0]])
    err = per_wave_error(pred, target)
    assert err["low"] == 0.0
    assert err["moderate"] == pytest.approx(1.0)  # (1 + 1) / 2
    assert err["high"] == pytest.approx(2.0)  # (4 + 0) / 2
    assert err["low_rel"] == 0.0
    assert err["moderate_rel"] == pytest.approx(np.sqrt(2 / 4))
    assert err["high_rel"] == pytest.approx(np.sqrt(4 / 10))
    # a mask drops padded rows
    masked = per_wave_error(pred, target, mask=np.array([1.0, 0.0]))
    assert masked["moderate"] == pytest.approx(1.0) and masked["high"] == pytest.approx(4.0)
    assert masked["high_rel"] == pytest.approx(np.sqrt(4 / 9))


def test_the_authors_set_up_zero_phase_cosines_on_an_amplitude_grid():
    levels = (0.1, 0.5, 1.0)
    ds = build(_cfg(frequencies=(1, 4, 32), phase="zero", train_grid=levels, seq_len=128))
    assert len(ds.train) == 27  # every combination of 3 levels for 3 waves
    b = ds.train.get(np.arange(27))
    assert {tuple(r) for r in np.round(b["targets"].astype(np.float64), 6).tolist()} == {
        (x, y, z) for x in levels for y in levels for z in levels
    }
    t = np.arange(128) / 128
    ref = sum(
        b["targets"][:, k : k + 1] * np.cos(2 * np.pi * f * t) for k, f in enumerate((1, 4, 32))
    )
    np.testing.assert_allclose(b["inputs"][..., 0], ref, atol=1e-5)
    test = ds.test.get(np.arange(len(ds.test)))["targets"]
    assert test.min() >= 0 and test.max() <= 1 and len(np.unique(test)) == test.size
    with pytest.raises(DataError, match="phase"):
        build(_cfg(phase="sine"))
