"""The frequency plots and report of a parameter tree (freqssm.plots)."""

from pathlib import Path

import jax
import jax.numpy as jnp

from freqssm import plots
from freqssm.layers import S4D, S5

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _params(kind, **kw):
    module = {"s4d": S4D, "s5": S5}[kind](**kw)
    return jax.jit(module.init)(jax.random.key(0), jnp.ones((1, 16, 3)))["params"]


def test_plots_write_png(tmp_path):
    params = {
        "b0": {"ssm": _params("s4d", state_size=8)},
        "b1": {"ssm": _params("s5", state_size=8)},
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
