"""scripts/make_figures.py reads the denoising grid and checks the claimed ordering."""

import json
from pathlib import Path

import ml_collections
import numpy as np
import pytest

from freqssm.analysis.denoise import evaluate
from freqssm.data import build

REPO = Path(__file__).resolve().parents[2]


def _mask_filter(pass_band):
    """Ideal filter keeping the rFFT bins inside ``pass_band`` (fractions of Nyquist)."""

    def f(x):
        L = x.shape[-2]
        spec = np.fft.rfft(np.asarray(x, np.float64), axis=-2)
        frac = np.arange(L // 2 + 1) / (L / 2)
        spec[..., (frac < pass_band[0]) | (frac > pass_band[1]), :] = 0
        return np.fft.irfft(spec, n=L, axis=-2)

    return f


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


def test_make_figures_reads_the_grid_and_checks_the_claimed_ordering(script, tmp_path, dataset):
    """Known filters stand in for trained layers: low-pass at the small spacings, high-pass at
    the flip spacing (alpha reverses the bias), and beta that never changes the band at raw."""
    make_figures = script("make_figures")
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
