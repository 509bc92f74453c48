"""freqssm.ssm.discretize: ZOH and bilinear against scipy.signal.cont2discrete, float64."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.ssm.discretize import bilinear, discretize, zoh

pytestmark = pytest.mark.usefixtures("x64")  # every test in float64


# --- discretization ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
def test_discretization_matches_scipy_cont2discrete(ssm_ref, rel_err, method):
    rng = np.random.default_rng(3)
    P, H = 5, 3
    lam = ssm_ref.random_modes(rng, P)
    B = rng.standard_normal((P, H)) + 1j * rng.standard_normal((P, H))
    dt = 0.07
    lam_bar, gamma = discretize(jnp.asarray(lam), dt, method)
    Ad, Bd, *_ = signal.cont2discrete(
        (np.diag(lam), B, np.eye(P), np.zeros((P, H))), dt, method=method
    )
    assert rel_err(np.diag(np.asarray(lam_bar)), Ad) < 1e-10
    assert rel_err(np.asarray(gamma)[:, None] * B, Bd) < 1e-10


def test_discretization_per_mode_steps_and_dispatch():
    lam = np.array([-0.5 + 3j, -1.0 - 2j])
    dt = np.array([0.1, 0.01])
    for fn, name in ((zoh, "zoh"), (bilinear, "bilinear")):
        a, g = discretize(lam, dt, name)
        for p in range(2):
            a1, g1 = fn(lam[p], dt[p])
            assert a[p] == a1 and g[p] == g1
    with pytest.raises(ValueError, match="discretization"):
        discretize(lam, dt, "euler")
