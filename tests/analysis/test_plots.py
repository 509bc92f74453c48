"""The frequency plots and report of a parameter tree (freqssm.analysis.plots)."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.analysis import plots
from freqssm.ssm.sobolev import SobolevFilter

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plots_write_png(layer_params, tmp_path):
    params = {
        "b0": {"ssm": layer_params("s4d", state_size=8)},
        "b1": {"ssm": layer_params("s5", state_size=8)},
    }
    for path in (
        plots.plot_eigenvalues(params, tmp_path / "e.png", title="t"),
        plots.plot_transfer(params, tmp_path / "t.png", n_freq=32),
        plots.plot_transfer(params, tmp_path / "c.png", n_freq=32, discrete=False),
    ):
        data = Path(path).read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC)

    report = plots.frequency_report(params, tmp_path / "rep", "init", n_freq=32)
    for key in ("eigs", "transfer"):
        assert Path(report[key]).read_bytes().startswith(PNG_MAGIC)
    assert report["eigs"].endswith("eigs_init.png")
    assert report["transfer"].endswith("transfer_init.png")
    assert "freq/layer1/gain_centroid" in report and "freq/gain_centroid" in report


def test_sobolev_gain_is_the_filter_weight_at_the_fft_bins(x64):
    from freqssm.analysis.spectra import sobolev_gain
    from freqssm.ssm.sobolev import sobolev_weight

    n = 64
    theta = 2 * np.pi * np.arange(n // 2 + 1) / n  # the rfft bins of an n-point FFT
    for beta, c in ((1.0, None), (-0.7, 1e4), (np.array([0.5, -1.0, 2.0]), 10.0)):
        got = sobolev_gain(theta, beta, n, c)
        want = np.asarray(sobolev_weight(n, jnp.asarray(beta, jnp.float64), c))
        np.testing.assert_allclose(got, want, rtol=1e-13)
    # c = n: the gain depends on θ alone, (1 + θ/2π)^β
    np.testing.assert_allclose(sobolev_gain([np.pi], 2.0, 128)[0, 0], 1.5**2, rtol=1e-14)


@pytest.mark.parametrize("kind", ["s4d", "s5"])
def test_filtered_magnitude_is_the_weighted_ssm_path_plus_d(layer_params, kind):
    """|w(θ)·H_ssm(θ) + D| (S5: RMS over inputs), composed from the complex transfer function."""
    from freqssm.analysis.spectra import sobolev_gain, transfer_function, transfer_magnitude

    sub = jax.tree.map(np.asarray, layer_params(kind, state_size=8))
    theta = np.linspace(0.0, np.pi, 40)
    beta = np.array([1.0, -1.0, 0.5])
    got = transfer_magnitude(sub, theta, discrete=True, sobolev=SobolevFilter(beta, 32))
    g = transfer_function(sub, theta, discrete=True, include_d=False)
    w = sobolev_gain(theta, beta, 32)
    d = np.asarray(sub["D"], np.float64)
    if kind == "s5":
        want = np.sqrt(np.mean(np.abs(g * w[:, :, None] + np.diag(d)) ** 2, axis=-1))
    else:
        want = np.abs(g * w + d)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # without D the filter scales each output feature's gain by exactly w(θ) > 0
    path = transfer_magnitude(
        sub, theta, discrete=True, include_d=False, sobolev=SobolevFilter(beta, 32)
    )
    plain = transfer_magnitude(sub, theta, discrete=True, include_d=False)
    np.testing.assert_allclose(path, plain * w, rtol=1e-12)
    assert np.max(w) >= 1.5 and np.min(w) < 0.7  # a filter that really changes the picture
    with pytest.raises(ValueError, match="discrete"):
        transfer_magnitude(sub, theta, discrete=False, sobolev=SobolevFilter(1.0, 32))


def test_a_runs_transfer_plot_shows_the_filter_knobs_and_task_frequencies(tmp_path, smoke):
    """beta = -1 and +1 draw different |H| pictures (the filtered panel); titles name the run and
    both knobs; the waves' frequencies are marked at 2f/L."""
    from freqssm.data import build
    from freqssm.train.run import build_run, init_state
    from freqssm.train.trainlog import report_options

    pictures = {}
    for beta in (-1.0, 1.0):
        cfg = smoke(**{"model.ssm.sobolev.beta": beta, "model.ssm.alpha": 2.0})
        meta = build(cfg.data).meta
        params = init_state(cfg, build_run(cfg, meta)).params
        opts = report_options(cfg.model.ssm, meta, "runA")
        assert opts["title"] == f"runA, alpha=2, beta={beta:g}"
        assert opts["sobolev"] == SobolevFilter(beta, 2 * meta.seq_len, cfg.model.ssm.sobolev.c)
        L, freqs = meta.seq_len, meta.extra["frequencies"]
        assert [m[0] for m in opts["marks"]] == [2 * f / L for f in freqs]
        rep = plots.frequency_report(jax.device_get(params), tmp_path / str(beta), "init", **opts)
        pictures[beta] = Path(rep["transfer"]).read_bytes()
    assert pictures[-1.0] != pictures[1.0]
    cfg = smoke()  # beta = 0: no filter panel
    assert report_options(cfg.model.ssm, build(cfg.data).meta, "r")["sobolev"] is None
