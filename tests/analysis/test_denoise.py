"""freqssm.analysis.denoise: impulse gains against scipy.signal.freqz, band survival, and the
evaluation on known filters."""

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from freqssm.analysis.denoise import band_survival, evaluate, impulse_gain


def _lfilter(b, a):
    """A causal IIR filter per channel, float64: (B, L, C) -> (B, L, C)."""
    return lambda x: signal.lfilter(b, a, np.asarray(x, np.float64), axis=-2)


def test_impulse_gain_matches_freqz_of_a_known_filter():
    b, a = [0.3, -0.2], [1.0, -0.85]  # pole at 0.85: the response has died out by lag L/2
    theta, gain = impulse_gain(_lfilter(b, a), seq_len=512, channels=2, n_freq=257)
    _, h = signal.freqz(b, a, worN=theta)
    assert gain.shape == (257, 2)
    # one input channel feeds each output channel, so the per-output gain is |H|
    np.testing.assert_allclose(gain[:, 0], np.abs(h), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gain[:, 1], np.abs(h), rtol=1e-9, atol=1e-12)


def test_impulse_gain_sees_the_non_causal_part():
    """A centered moving average (non-causal) has |H| = |sin(3θ/2) / (3 sin(θ/2))|."""

    def centered(x):
        x = np.asarray(x, np.float64)
        return (np.roll(x, 1, axis=-2) + x + np.roll(x, -1, axis=-2)) / 3.0

    theta, gain = impulse_gain(centered, seq_len=256, channels=1, n_freq=129)
    t = theta[1:]
    expected = np.abs(np.sin(1.5 * t) / (3.0 * np.sin(0.5 * t)))
    np.testing.assert_allclose(gain[1:, 0], expected, atol=1e-12)


def test_band_survival_separates_the_bands(denoise_case):
    rng = np.random.default_rng(0)
    from freqssm.data.noise import band_noise

    low = band_noise(rng, (2, 1024, 3), (0.0, 0.05), 0.2)
    high = band_noise(rng, (2, 1024, 3), (0.5, 1.0), 0.2)
    noise = low + high
    keep_low = denoise_case.mask_filter((0.0, 0.25))
    out = keep_low(noise)
    assert band_survival(out, noise, (0.0, 0.05)) == pytest.approx(1.0, abs=1e-9)
    assert band_survival(out, noise, (0.5, 1.0)) == pytest.approx(0.0, abs=1e-9)
    assert band_survival(0.5 * noise, noise, (0.5, 1.0)) == pytest.approx(0.25, rel=1e-9)


def test_evaluate_on_known_filters(tmp_path, denoise_case):
    cfg = denoise_case.cfg()
    res = evaluate(
        cfg.data,
        cfg.model.ssm,
        denoise_case.mask_filter((0.0, 0.25)),
        denoise_case.dataset,
        tmp_path / "low",
    )
    assert res["survival_low"] == pytest.approx(1.0, abs=1e-6)
    assert res["survival_high"] == pytest.approx(0.0, abs=1e-6)
    assert res["survival_both_low"] == pytest.approx(1.0, abs=1e-6)
    assert res["survival_both_high"] == pytest.approx(0.0, abs=1e-6)
    ident = evaluate(
        cfg.data,
        cfg.model.ssm,
        lambda x: np.asarray(x, np.float64),
        denoise_case.dataset,
        tmp_path / "id",
    )
    assert ident["mse"] < 1e-12 and ident["survival_low"] == pytest.approx(1.0, rel=1e-6)
    assert ident["gain2_low_band"] == pytest.approx(1.0, rel=1e-6)
    half = evaluate(
        cfg.data,
        cfg.model.ssm,
        lambda x: 0.5 * np.asarray(x, np.float64),
        denoise_case.dataset,
        tmp_path / "half",
    )
    assert half["survival_high"] == pytest.approx(0.25, rel=1e-6)
    assert half["gain2_high_band"] == pytest.approx(0.25, rel=1e-6)
    # 20 dB noise: sigma 0.2 against peak-to-peak 2 gives 10 log10(4 / 0.04)
    assert res["psnr_noisy_low"] == pytest.approx(20.0, abs=0.5)
    for key in ("examples_png", "transfer_png", "arrays_npz"):
        assert Path(res[key]).stat().st_size > 0
    with np.load(res["arrays_npz"]) as z:
        assert z["clean"].shape == (2, 128, 3) and z["gain"].shape[1] == 3


def test_evaluate_without_workdir_writes_nothing(tmp_path, denoise_case, monkeypatch):
    """Processes other than 0 of a multi-process run: the same metrics, no files."""
    cfg = denoise_case.cfg()
    monkeypatch.chdir(tmp_path)
    half = lambda x: 0.5 * np.asarray(x, np.float64)  # noqa: E731
    res = evaluate(cfg.data, cfg.model.ssm, half, denoise_case.dataset, None)
    ref = evaluate(cfg.data, cfg.model.ssm, half, denoise_case.dataset, tmp_path / "ref")
    assert {k: v for k, v in ref.items() if not k.endswith(("_png", "_npz"))} == res
    assert [p.name for p in tmp_path.iterdir()] == ["ref"]
