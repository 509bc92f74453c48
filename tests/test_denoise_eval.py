"""The denoising evaluation and report: |H| from impulses, band survival, the figure script,
and a CPU smoke run of configs/denoise.py."""

import json
import subprocess
import sys
from pathlib import Path

import ml_collections
import numpy as np
import pytest
from scipy import signal

from freqssm.analysis.denoise import band_survival, evaluate, impulse_gain
from freqssm.data import build

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import make_figures  # noqa: E402


def _lfilter(b, a):
    """A causal IIR filter per channel, float64: (B, L, C) -> (B, L, C)."""
    return lambda x: signal.lfilter(b, a, np.asarray(x, np.float64), axis=-2)


def _mask_filter(pass_band):
    """Ideal filter keeping the rFFT bins inside ``pass_band`` (fractions of Nyquist)."""

    def f(x):
        L = x.shape[-2]
        spec = np.fft.rfft(np.asarray(x, np.float64), axis=-2)
        frac = np.arange(L // 2 + 1) / (L / 2)
        spec[..., (frac < pass_band[0]) | (frac > pass_band[1]), :] = 0
        return np.fft.irfft(spec, n=L, axis=-2)

    return f


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


def test_band_survival_separates_the_bands():
    rng = np.random.default_rng(0)
    from freqssm.data.noise import band_noise

    low = band_noise(rng, (2, 1024, 3), (0.0, 0.05), 0.2)
    high = band_noise(rng, (2, 1024, 3), (0.5, 1.0), 0.2)
    noise = low + high
    keep_low = _mask_filter((0.0, 0.25))
    out = keep_low(noise)
    assert band_survival(out, noise, (0.0, 0.05)) == pytest.approx(1.0, abs=1e-9)
    assert band_survival(out, noise, (0.5, 1.0)) == pytest.approx(0.0, abs=1e-9)
    assert band_survival(0.5 * noise, noise, (0.5, 1.0)) == pytest.approx(0.25, rel=1e-9)


def _denoise_cfg():
    return ml_collections.ConfigDict(
        {
            "data": {
                "name": "denoise",
                "grid": (16, 8),
                "n_train": 4,
                "n_val": 2,
                "n_test": 6,
                "batch_size": 4,
                "low_band": (0.0, 0.05),
                "high_band": (0.5, 1.0),
                "noise_sigma": 0.2,
                "noise_seed": 3,
                "n_examples": 2,
            },
            "model": {"ssm": {"kind": "s4d", "alpha": 1.0, "sobolev": {"beta": 0.0}}},
        }
    )


@pytest.fixture(scope="module")
def dataset():
    return build(_denoise_cfg().data)


def test_evaluate_on_known_filters(tmp_path, dataset):
    cfg = _denoise_cfg()
    res = evaluate(cfg, _mask_filter((0.0, 0.25)), dataset, tmp_path / "low")
    assert res["survival_low"] == pytest.approx(1.0, abs=1e-6)
    assert res["survival_high"] == pytest.approx(0.0, abs=1e-6)
    assert res["survival_both_low"] == pytest.approx(1.0, abs=1e-6)
    assert res["survival_both_high"] == pytest.approx(0.0, abs=1e-6)
    ident = evaluate(cfg, lambda x: np.asarray(x, np.float64), dataset, tmp_path / "id")
    assert ident["mse"] < 1e-12 and ident["survival_low"] == pytest.approx(1.0, rel=1e-6)
    assert ident["gain2_low_band"] == pytest.approx(1.0, rel=1e-6)
    half = evaluate(cfg, lambda x: 0.5 * np.asarray(x, np.float64), dataset, tmp_path / "half")
    assert half["survival_high"] == pytest.approx(0.25, rel=1e-6)
    assert half["gain2_high_band"] == pytest.approx(0.25, rel=1e-6)
    # 20 dB noise: sigma 0.2 against peak-to-peak 2 gives 10 log10(4 / 0.04)
    assert res["psnr_noisy_low"] == pytest.approx(20.0, abs=0.5)
    for key in ("examples_png", "transfer_png", "arrays_npz"):
        assert Path(res[key]).stat().st_size > 0
    with np.load(res["arrays_npz"]) as z:
        assert z["clean"].shape == (2, 128, 3) and z["gain"].shape[1] == 3


def test_evaluate_without_workdir_writes_nothing(tmp_path, dataset, monkeypatch):
    """Processes other than 0 of a multi-process run: the same metrics, no files."""
    cfg = _denoise_cfg()
    monkeypatch.chdir(tmp_path)
    half = lambda x: 0.5 * np.asarray(x, np.float64)  # noqa: E731
    res = evaluate(cfg, half, dataset, None)
    ref = evaluate(cfg, half, dataset, tmp_path / "ref")
    assert {k: v for k, v in ref.items() if not k.endswith(("_png", "_npz"))} == res
    assert [p.name for p in tmp_path.iterdir()] == ["ref"]


_EVALUATED: dict = {}


def _fake_run(root, name, predict, dataset, alpha, beta):
    """A workdir shaped like a finished denoising run, evaluated with a known filter.

    Each filter is evaluated once (figures included) and its files copied to the other runs.
    """
    import shutil

    cfg = _denoise_cfg()
    cfg.model.ssm.alpha, cfg.model.ssm.sobolev.beta = alpha, beta
    wd = root / name
    if predict not in _EVALUATED:
        _EVALUATED[predict] = (evaluate(cfg, predict, dataset, wd), wd)
    else:
        task, src = _EVALUATED[predict]
        shutil.copytree(src, wd, dirs_exist_ok=True)
    task = _EVALUATED[predict][0]
    (wd / "results.json").write_text(json.dumps({"task": task}))
    (wd / "config.json").write_text(
        json.dumps({**cfg.to_dict(), "optim": {"lr": 0.03}, "train": {"steps": 3000}})
    )


def test_make_figures_reads_the_grid_and_checks_the_claimed_ordering(tmp_path, dataset):
    """Known filters stand in for trained layers: low-pass at the small spacings, high-pass at
    the flip spacing (alpha reverses the bias), and beta that never changes the band at raw."""
    root = tmp_path / "runs"
    low_pass, high_pass = _mask_filter((0.0, 0.05)), _mask_filter((0.2, 1.0))
    for a, b in [(a, b) for a in make_figures.SPACINGS for b in make_figures.BETAS]:
        f = high_pass if a == "flip" else low_pass
        _fake_run(root, make_figures._point("grid", a, b).name, f, dataset, 1.0, b)
    for s in make_figures.SEEDS:  # the same verdicts with another seed
        _fake_run(root, s.name, high_pass if s.spacing == "flip" else low_pass, dataset, 1.0, 0)
    long = make_figures.STEPS[0]  # enhance at beta 0: a changed verdict must be reported
    _fake_run(root, long.name, high_pass, dataset, 1.0, 0.0)
    legacy = {s.name: s for s in make_figures.LEGACY}
    _fake_run(root, "legacy/alpha_enhance", _mask_filter((0.0, 0.02)), dataset, 0.3, 0.0)
    _fake_run(root, "legacy/raw", low_pass, dataset, 1.0, 0.0)  # keeps more low
    _fake_run(root, "legacy/alpha_middle", _mask_filter((0.03, 0.7)), dataset, 10.0, 0.0)
    _fake_run(root, "legacy/alpha_flip", high_pass, dataset, 150.0, 0.0)
    assert "legacy/alpha_flip" in legacy
    out = tmp_path / "results"
    make_figures.main(["denoise", "--root", str(root), "--out", str(out), "--no-run"])
    md = (out / "denoise.md").read_text()
    assert (out / "denoise.png").stat().st_size > 10_000
    assert "alpha alone reverses the bias" in md
    assert "flip: low" in md and "raw: high" in md
    assert "beta at the raw spacing" in md and "beta never changes the band removed (high)" in md
    assert "beta at the flip spacing" in md
    assert "high → low (CHANGED)" in md and "Some verdicts change" in md
    assert "| flip | " in md and "(low removed)" in md
    rows = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| `")}
    raw = rows["`legacy/raw` (untuned: alpha raw, beta = 0)"]
    assert "no vs legacy/alpha_enhance" in raw and "low does NOT fall" in raw
    middle = next(v for k, v in rows.items() if k.startswith("`legacy/alpha_middle`"))
    assert "yes vs legacy/raw" in middle and "| yes vs legacy/raw (" in middle
    flip = next(v for k, v in rows.items() if k.startswith("`legacy/alpha_flip`"))
    assert "yes vs legacy/alpha_middle" in flip and "IS inverted" in flip
    assert "| legacy/beta_enhance |" in md and "not run" in md


@pytest.mark.slow
def test_denoise_smoke_config_trains_and_evaluates(tmp_path):
    wd = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "freqssm.train",
        f"--config={REPO / 'configs' / 'denoise.py'}:smoke",
        f"--workdir={wd}",
        "--config.train.progress=False",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    task = json.loads((wd / "results.json").read_text())["task"]
    for key in ("mse", "psnr", "survival_low", "survival_high", "gain2_low_band"):
        assert np.isfinite(task[key]), key
    assert (wd / "denoise_examples.png").exists() and (wd / "denoise_transfer.png").exists()


def _denoise_config(variant):
    import importlib.util

    spec = importlib.util.spec_from_file_location("denoise_cfg", REPO / "configs" / "denoise.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, mod.get_config(variant)


@pytest.mark.slow
def test_authors_variant_trains_only_c_and_the_affine_map(tmp_path):
    import jax

    from freqssm.model import models
    from freqssm.train.loop import train_and_evaluate
    from freqssm.train.run import load_run

    _, cfg = _denoise_config("smoke,authors,alpha_flip")
    cfg.train.progress = False
    res = train_and_evaluate(cfg, tmp_path)
    for key in ("stripes_vertical_mse", "stripes_horizontal_mse", "survival_low"):
        assert np.isfinite(res["task"][key]), key
    _, meta, model, trained = load_run(tmp_path)
    init = jax.jit(model.init)(jax.random.key(cfg.seed), *models.example_inputs(meta, 2))["params"]
    p0, p1 = init["ssm"], trained["params"]["ssm"]
    assert "B" not in p1 and "D" not in p1
    for name in ("Lambda_re", "Lambda_im", "log_dt"):  # frozen: bit-identical after training
        assert np.array_equal(np.asarray(p0[name]), np.asarray(p1[name])), name
    assert not np.allclose(p0["C"], p1["C"])
    assert not np.allclose(init["mix"]["kernel"], trained["params"]["mix"]["kernel"])
    # the affine map mixes the channels: output = ssm(x) @ W + b
    x = np.random.default_rng(0).standard_normal((1, meta.seq_len, 3)).astype(np.float32)
    y = np.asarray(model.apply(trained, x))
    ssm_only = models.ssm_factory(cfg.model.ssm)()
    z = np.asarray(ssm_only.apply({"params": p1}, x))
    mix = trained["params"]["mix"]
    np.testing.assert_allclose(y, z @ np.asarray(mix["kernel"]) + np.asarray(mix["bias"]),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    # an input on channel 1 alone reaches output channels 0 and 2
    x1 = np.zeros_like(x)
    x1[..., 1] = x[..., 1]
    dy = np.asarray(model.apply(trained, x1)) - np.asarray(model.apply(trained, 0 * x))
    assert np.abs(dy[..., 0]).max() > 1e-3 and np.abs(dy[..., 2]).max() > 1e-3


def test_denoise_variants_combine_and_scale_to_the_grid():
    mod, cfg = _denoise_config("authors,alpha_flip,beta_enhance")
    s = cfg.model.ssm
    assert s.real_init == -3.0 and s.train_b is False and cfg.model.output_map == "affine"
    # Re -3: dt = 1e-4 · 128/32 and alpha = step/π (Im λ_n·dt = step·n·dt_paper at our grid)
    assert s.dt_min == s.dt_max == pytest.approx(4e-4)
    assert s.alpha == pytest.approx(490.52 / np.pi) and s.sobolev.beta == -1.0
    _, ours = _denoise_config("alpha_flip")
    assert ours.model.ssm.dt_min == pytest.approx(2.4e-3)
    # the same λ·dt in both set-ups
    assert ours.model.ssm.alpha * ours.model.ssm.dt_min == pytest.approx(s.alpha * s.dt_min)
    assert set(ours.optim.frozen) == {"Lambda_re", "Lambda_im", "B", "log_dt"}
    _, legacy = _denoise_config("legacy")
    assert "Lambda_im" not in legacy.optim.frozen and legacy.train.steps == 960
    for bad in ("alpha_flip,alpha_raw", "gamma_flip", "beta_2"):
        with pytest.raises(ValueError, match="variant"):
            mod.get_config(bad)
