"""freqssm.ssm.kernel: Vandermonde kernels, FFT convolution and transfer functions against direct
powers, numpy.convolve and scipy.signal, float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.ssm.discretize import zoh
from freqssm.ssm.kernel import (
    fft_conv,
    powers,
    transfer_continuous,
    transfer_discrete,
    two_sided_kernel,
    vandermonde_kernel,
)

pytestmark = pytest.mark.usefixtures("x64")  # every test in float64


# --- kernels and convolution -------------------------------------------------------------------


def test_vandermonde_kernel_matches_direct_powers(ssm_ref, rel_err):
    rng = np.random.default_rng(5)
    lam_bar = np.exp(ssm_ref.random_modes(rng, 6) * 0.1)
    cb = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    L = 50
    ref = np.array([2 * np.sum(cb * lam_bar**l).real for l in range(L)])
    assert rel_err(vandermonde_kernel(lam_bar, cb, L), ref) < 1e-10
    assert rel_err(vandermonde_kernel(lam_bar, cb, L, conj_sym=False), ref / 2) < 1e-10
    # the chunked (outer x inner power table) evaluation, for any chunk size T
    for chunk in (1, 7, 8, 49, 50, 64):
        got = jax.jit(vandermonde_kernel, static_argnums=2, static_argnames="chunk")(
            lam_bar, cb, L, chunk=chunk
        )
        assert rel_err(got, ref) < 1e-10, chunk


@pytest.mark.parametrize("count", [1, 2, 7, 64, 1000])
def test_powers_by_doubling_match_numpy(ssm_ref, rel_err, count):
    rng = np.random.default_rng(16)
    z = np.exp(ssm_ref.random_modes(rng, 6).reshape(2, 3) * 0.01)
    got = powers(jnp.asarray(z), count)
    assert got.shape == (2, 3, count)
    assert rel_err(got, z[..., None] ** np.arange(count)) < 1e-12


def test_vandermonde_kernel_batched_shapes_match_direct_powers(ssm_ref, rel_err):
    """(n_dir, H, N) products against (H, N) eigenvalues, as in a bidirectional S4D layer."""
    rng = np.random.default_rng(14)
    H, N, L = 3, 4, 1000
    lam_bar = np.exp(ssm_ref.random_modes(rng, H * N).reshape(H, N) * 0.01)
    cb = rng.standard_normal((2, H, N)) + 1j * rng.standard_normal((2, H, N))
    ref = 2 * np.einsum("dhn,hnl->dhl", cb, lam_bar[..., None] ** np.arange(L)).real
    got = vandermonde_kernel(jnp.asarray(lam_bar), jnp.asarray(cb), L)
    assert got.shape == (2, H, L)
    assert rel_err(got, ref) < 1e-10


def test_fft_conv_matches_numpy_convolve(rel_err):
    rng = np.random.default_rng(6)
    L, H = 64, 3
    u = rng.standard_normal((2, L, H))
    k = rng.standard_normal((L, H))
    ref = np.stack(
        [np.stack([np.convolve(u[b, :, h], k[:, h])[:L] for h in range(H)], -1) for b in range(2)]
    )
    assert rel_err(fft_conv(u, k), ref) < 1e-10


def test_two_sided_kernel_is_forward_plus_reverse_recurrence(ssm_ref, rel_err):
    rng = np.random.default_rng(7)
    L, N = 80, 4
    lam_bar = np.exp(ssm_ref.random_modes(rng, N) * 0.1)
    cb_f = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    cb_b = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    u = rng.standard_normal(L)
    # reference: states of both directions by loops, read out with 2 Re(c x)
    xf = ssm_ref.loop_recurrence(lam_bar, u[:, None] * np.ones(N))
    xb = ssm_ref.loop_recurrence(lam_bar, u[:, None] * np.ones(N), reverse=True)
    want = 2 * (xf @ cb_f).real + 2 * (xb @ cb_b).real
    kf = vandermonde_kernel(lam_bar, cb_f, L)[:, None]
    kb = vandermonde_kernel(lam_bar, cb_b, L)[:, None]
    got = fft_conv(u[None, :, None], two_sided_kernel(kf, kb))[0, :, 0]
    assert rel_err(got, want) < 1e-10


# --- transfer functions ------------------------------------------------------------------------


def _random_mimo(ssm_ref, rng, P=4, I=2, O=3):
    lam = ssm_ref.random_modes(rng, P)
    b = rng.standard_normal((P, I)) + 1j * rng.standard_normal((P, I))
    c = rng.standard_normal((O, P)) + 1j * rng.standard_normal((O, P))
    d = rng.standard_normal((O, I))
    return lam, b, c, d


def test_continuous_transfer_matches_scipy_freqresp(ssm_ref, rel_err):
    rng = np.random.default_rng(8)
    lam, b, c, d = _random_mimo(ssm_ref, rng)
    A, B, C, D = ssm_ref.real_block_system(lam, b, c, d)
    omega = np.linspace(-40, 40, 301)
    got = np.asarray(transfer_continuous(lam, b, c, d, omega))
    for i in range(b.shape[1]):
        for o in range(c.shape[0]):
            sys = signal.StateSpace(A, B[:, i : i + 1], C[o : o + 1], D[o : o + 1, i : i + 1])
            _, h = signal.freqresp(sys, w=omega)
            assert rel_err(got[:, o, i], h) < 1e-9


def test_discrete_transfer_matches_scipy_dfreqresp(ssm_ref, rel_err):
    rng = np.random.default_rng(9)
    lam, b, c, d = _random_mimo(ssm_ref, rng, I=1, O=1)
    dt = 0.05
    A, B, C, D = ssm_ref.real_block_system(lam, b, c, d)
    Ad, Bd, *_ = signal.cont2discrete((A, B, C, D), dt, method="zoh")
    theta = np.linspace(0, np.pi, 200)
    # our readout y_k = C x_k sees u_k, i.e. scipy's realization (Ad, Bd, C Ad, D + C Bd)
    _, h = signal.dfreqresp(signal.dlti(Ad, Bd, C @ Ad, D + C @ Bd, dt=dt), w=theta)
    lam_bar, gamma = zoh(jnp.asarray(lam), dt)
    got = transfer_discrete(lam_bar, gamma[:, None] * b, c, d, theta)[:, 0, 0]
    assert rel_err(got, h) < 1e-9


def test_fft_of_long_kernel_is_discrete_transfer_on_fft_grid(rel_err):
    rng = np.random.default_rng(10)
    N, L, dt = 4, 4096, 0.1
    lam = -rng.uniform(0.5, 2.0, N) + 1j * rng.uniform(-20, 20, N)  # decays to ~1e-80 by L
    cb = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    lam_bar, gamma = zoh(jnp.asarray(lam), dt)
    K = vandermonde_kernel(lam_bar, cb * gamma, L)
    theta = 2 * np.pi * np.arange(L) / L
    H = transfer_discrete(lam_bar, (cb * gamma)[:, None], np.ones((1, N)), 0.0, theta)[:, 0, 0]
    assert rel_err(np.fft.fft(np.asarray(K)), H) < 1e-10
