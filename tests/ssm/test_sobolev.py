"""freqssm.ssm.sobolev: the (1 + k/c)^beta filter against a numpy reference, on a pure sinusoid,
and its exponent's gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.ssm.sobolev import sobolev_filter, sobolev_weight

pytestmark = pytest.mark.usefixtures("x64")  # every test in float64


# --- Sobolev filter ----------------------------------------------------------------------------


def test_sobolev_weight_formula():
    w = sobolev_weight(16, 1.5)
    assert w.shape == (9, 1)
    assert np.allclose(w[:, 0], (1 + np.arange(9) / 16) ** 1.5, rtol=1e-14)
    w = sobolev_weight(16, jnp.array([1.0, -1.0]), c=10_000)
    assert w.shape == (9, 2)
    assert np.allclose(w[:, 1], 1 / (1 + np.arange(9) / 10_000), rtol=1e-14)


def test_sobolev_filter_matches_numpy_reference(rel_err):
    rng = np.random.default_rng(11)
    y = rng.standard_normal((2, 30, 3))
    beta = np.array([0.5, -1.0, 2.0])
    n = 60
    spec = np.fft.rfft(y, n=n, axis=1) * (1 + np.arange(31) / n)[:, None] ** beta
    ref = np.fft.irfft(spec, n=n, axis=1)[:, :30]
    assert rel_err(sobolev_filter(y, beta), ref) < 1e-12
    assert rel_err(sobolev_filter(y, 0.0), y) < 1e-12


@pytest.mark.parametrize("beta", [-1.0, 1.0, 2.5])
def test_sobolev_scales_a_pure_sinusoid_by_the_stated_factor(rel_err, beta):
    L, c = 256, 256.0
    t = np.arange(L)
    for k0 in (3, 100):
        y = np.cos(2 * np.pi * k0 * t / L + 0.3)[:, None]
        out = np.asarray(sobolev_filter(y, beta, c=c, n_fft=L))
        factor = (1 + k0 / c) ** beta
        assert rel_err(out, factor * y) < 1e-12
    # higher frequencies gain more (beta > 0) or lose more (beta < 0)
    assert ((1 + 100 / c) ** beta > (1 + 3 / c) ** beta) == (beta > 0)


def test_sobolev_exponent_gradient_matches_finite_difference(rel_err):
    rng = np.random.default_rng(12)
    y = rng.standard_normal((20, 2))
    target = rng.standard_normal((20, 2))

    def loss(beta):
        return jnp.sum((sobolev_filter(jnp.asarray(y), beta) - target) ** 2)

    beta = jnp.array([0.0, 0.7])
    g = jax.grad(loss)(beta)
    eps = 1e-6
    fd = [(loss(beta.at[i].add(eps)) - loss(beta.at[i].add(-eps))) / (2 * eps) for i in range(2)]
    assert np.all(np.abs(g) > 1e-3)
    assert rel_err(g, np.array(fd)) < 1e-6
