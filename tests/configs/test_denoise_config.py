"""configs/denoise.py: the smoke config trains and evaluates, the authors' variant trains only C
and the affine map, variants combine and scale to the grid."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


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
    from freqssm.config import load_module

    mod = load_module(REPO / "configs" / "denoise.py")
    return mod, mod.get_config(variant)


@pytest.mark.slow
def test_authors_variant_trains_only_c_and_the_affine_map(tmp_path):
    import jax

    from freqssm.config import from_config_dict
    from freqssm.model import models
    from freqssm.model.layers import ssm_layer
    from freqssm.train.loop import train_and_evaluate
    from freqssm.train.run import load_run

    _, cfg = _denoise_config("smoke,authors,alpha_flip")
    cfg.train.progress = False
    res = train_and_evaluate(from_config_dict(cfg), tmp_path)
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
    ssm_only = ssm_layer(from_config_dict(cfg).model.ssm)
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
