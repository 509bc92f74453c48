"""freqssm.ssm.init: eigenvalue initializations against numpy's eigendecomposition and closed
forms; alpha scales only imaginary parts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.ssm import init as ssm_init
from freqssm.ssm.discretize import zoh

pytestmark = pytest.mark.usefixtures("x64")  # every test in float64


# --- initializations ---------------------------------------------------------------------------


def test_hippo_eigenvalues_match_numpy_eig_of_normal_part(rel_err):
    n = 16
    S = ssm_init.hippo_legs_normal(n)
    # independent construction of HiPPO-LegS and its normal part
    A = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i > j:
                A[i, j] = -np.sqrt(2 * i + 1) * np.sqrt(2 * j + 1)
            elif i == j:
                A[i, j] = -(i + 1)
    p = np.sqrt(np.arange(n) + 0.5)
    assert np.allclose(S, A + np.outer(p, p), rtol=0, atol=1e-12)
    ref = np.linalg.eigvals(A + np.outer(p, p))
    lam, V = ssm_init.diagonalize_hippo(n)
    key = lambda z: (round(z.imag, 8), round(z.real, 8))  # noqa: E731
    assert rel_err(np.array(sorted(lam, key=key)), np.array(sorted(ref, key=key))) < 1e-10
    assert np.allclose(V @ np.diag(lam) @ V.conj().T, S, atol=1e-10)
    assert np.allclose(lam.real, -0.5)


@pytest.mark.parametrize("kind", ["hippo", "s4d_lin", "s4d_inv"])
def test_alpha_scales_only_imaginary_parts(kind):
    lam1, V1 = ssm_init.eigensystem(kind, 32, blocks=2, alpha=1.0)
    lam3, V3 = ssm_init.eigensystem(kind, 32, blocks=2, alpha=3.0)
    assert np.array_equal(lam1.real, lam3.real)
    assert np.allclose(lam3.imag, 3.0 * lam1.imag, rtol=1e-15, atol=0)
    assert np.any(lam1.imag != 0)
    if V1 is not None:
        assert np.array_equal(V1, V3)
    with pytest.raises(ValueError, match="alpha"):
        ssm_init.eigensystem(kind, 32, alpha=0.0)


def test_s4d_closed_forms_and_blocks():
    lam = ssm_init.s4d_lin(4, alpha=2.0)
    assert np.allclose(lam, [-0.5, -0.5 + 2j * np.pi, -0.5 + 4j * np.pi, -0.5 + 6j * np.pi])
    inv = ssm_init.s4d_inv(2)
    assert np.allclose(inv.imag, [4 / np.pi * (4 - 1), 4 / np.pi * (4 / 3 - 1)])
    lam, V = ssm_init.eigensystem("hippo", 16, blocks=4)  # 4 blocks of size 4, 2 modes each
    assert lam.shape == (8,) and V.shape == (16, 8)
    assert np.allclose(lam[:2], lam[2:4]) and np.allclose(V[4:8, 2:4], V[:4, :2])
    assert np.all(V[:4, 2:] == 0)
    assert np.all(lam.imag <= 0)  # one of each conjugate pair
    with pytest.raises(ValueError, match="divisible"):
        ssm_init.eigensystem("hippo", 10, blocks=3)


def test_conjugate_halving_of_hippo_reproduces_real_system(ssm_ref, rel_err):
    """The stored half of the eigenbasis, with output 2 Re(C̃x), equals the real HiPPO-N system."""
    rng = np.random.default_rng(4)
    P, H, L, dt = 8, 2, 40, 0.05
    lam, V = ssm_init.eigensystem("hippo", P, conj_sym=True)
    B = rng.standard_normal((P, H))
    C = rng.standard_normal((H, P))
    u = rng.standard_normal((L, H))
    # reference: the real dense normal matrix, discretized and simulated by scipy
    S = ssm_init.hippo_legs_normal(P)
    Ad, Bd, *_ = signal.cont2discrete((S, B, C, np.zeros((H, H))), dt, method="zoh")
    _, y_ref, _ = signal.dlsim((Ad, Bd, C @ Ad, C @ Bd, 1), u)
    # ours: P/2 complex modes
    lam_bar, gamma = zoh(jnp.asarray(lam), dt)
    Bt = V.conj().T @ B
    x = ssm_ref.loop_recurrence(np.asarray(lam_bar), u @ (np.asarray(gamma)[:, None] * Bt).T)
    y = 2 * (x @ (C @ V).T).real
    assert rel_err(y, y_ref) < 1e-10


def test_random_inits_shapes_and_ranges():
    key = jax.random.key(0)
    _, V = ssm_init.eigensystem("hippo", 8)
    B, C = ssm_init.s5_BC(key, V, 4, 3, n_out=2, dtype=jnp.float64)
    assert B.shape == (4, 3) and C.shape == (2, 3, 4) and B.dtype == jnp.complex128
    B, C = ssm_init.s4d_BC(key, 3, 4, 1, jnp.float64)
    assert np.all(B == 1) and C.shape == (1, 3, 4)
    ldt = ssm_init.log_dt(key, (1000,), 1e-3, 1e-1, jnp.float64)
    assert np.all(ldt >= np.log(1e-3)) and np.all(ldt <= np.log(1e-1))
    assert abs(np.mean(ldt) - np.log(1e-2)) < 0.2  # log-uniform: mean of log is the midpoint
    with pytest.raises(ValueError, match="dt_min"):
        ssm_init.log_dt(key, (3,), 0.1, 0.01)
