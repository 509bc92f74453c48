"""The pure SSM math against independent float64 references (numpy loops, scipy.signal)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.ssm import init as ssm_init
from freqssm.ssm.discretize import bilinear, discretize, zoh
from freqssm.ssm.kernel import (
    fft_conv,
    powers,
    state_fft_conv,
    transfer_continuous,
    transfer_discrete,
    two_sided_kernel,
    vandermonde_kernel,
)
from freqssm.ssm.scan import chunked_scan, linear_recurrence, parallel_scan, sequential_scan
from freqssm.ssm.sobolev import sobolev_filter, sobolev_weight

pytestmark = pytest.mark.usefixtures("x64")


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def random_modes(rng, n, re_range=(0.05, 2.0), im_scale=20.0):
    return -rng.uniform(*re_range, n) + 1j * rng.uniform(-im_scale, im_scale, n)


def loop_recurrence(a, b, reverse=False):
    """x_k = a x_{k-1} + b_k by a plain loop; b (L, P)."""
    x = np.zeros(b.shape[1:], np.complex128)
    out = np.zeros_like(b, dtype=np.complex128)
    order = range(len(b) - 1, -1, -1) if reverse else range(len(b))
    for k in order:
        x = a * x + b[k]
        out[k] = x
    return out


def real_block_system(lam, b, c, d):
    """The real system equal to the conjugate-symmetric diagonal one (state [Re z, Im z]).

    lam (P,), b (P, I), c (O, P) complex; d (O, I). Output 2 Re(c z) + d u.
    """
    P = len(lam)
    A = np.zeros((2 * P, 2 * P))
    A[:P, :P] = np.diag(lam.real)
    A[:P, P:] = -np.diag(lam.imag)
    A[P:, :P] = np.diag(lam.imag)
    A[P:, P:] = np.diag(lam.real)
    B = np.concatenate([b.real, b.imag], axis=0)
    C = np.concatenate([2 * c.real, -2 * c.imag], axis=1)
    return A, B, C, np.asarray(d, float)


# --- scans -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reverse", [False, True])
def test_scans_match_python_loop(reverse):
    rng = np.random.default_rng(0)
    L, P = 257, 6  # odd length exercises the associative scan's uneven split
    lam_bar = np.exp(random_modes(rng, P) * 0.05)
    b = rng.standard_normal((L, P)) + 1j * rng.standard_normal((L, P))
    ref = loop_recurrence(lam_bar, b, reverse)
    for fn in (parallel_scan, sequential_scan, chunked_scan):
        got = jax.jit(fn, static_argnums=2)(jnp.asarray(lam_bar), jnp.asarray(b), reverse)
        assert got.dtype == jnp.complex128
        assert rel_err(got, ref) < 1e-10, fn.__name__
    for impl in ("auto", "sequential", "parallel", "chunked"):
        got = jax.jit(linear_recurrence, static_argnums=(2, 3))(lam_bar, b, reverse, impl)
        assert rel_err(got, ref) < 1e-10


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("L,chunk", [(257, 16), (257, 1), (257, 257), (256, 16), (7, 3), (1, None)])
def test_chunked_scan_any_chunk_size_matches_loop(L, chunk, reverse):
    """Uneven last chunks, T = 1 (all carry) and T = L (no carry) give the loop's states."""
    rng = np.random.default_rng(13)
    lam_bar = np.exp(random_modes(rng, 5) * 0.05)
    b = rng.standard_normal((L, 2, 5)) + 1j * rng.standard_normal((L, 2, 5))
    ref = np.stack([loop_recurrence(lam_bar, b[:, i], reverse) for i in range(2)], axis=1)
    got = jax.jit(chunked_scan, static_argnums=(2, 3))(
        jnp.asarray(lam_bar), jnp.asarray(b), reverse, chunk
    )
    assert got.shape == b.shape
    assert rel_err(got, ref) < 1e-10


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("impl", ["sequential", "parallel", "chunked"])
def test_recurrence_derivatives_match_differentiating_the_loop(impl, reverse):
    """Reverse mode (also under vmap) and forward mode of every implementation, including the
    custom JVP of the parallel scan, equal autodiff through a plain ``lax.scan``."""
    rng = np.random.default_rng(15)
    L, B, P = 37, 3, 5
    lam = jnp.asarray(np.exp(random_modes(rng, P) * 0.05))
    b = jnp.asarray(rng.standard_normal((L, B, P)) + 1j * rng.standard_normal((L, B, P)))
    w = jnp.asarray(rng.standard_normal((L, B, P)) + 1j * rng.standard_normal((L, B, P)))

    def loss(fn):
        return lambda lam, b: jnp.sum(jnp.abs(fn(lam, b) * w) ** 2 + (fn(lam, b) * w).real)

    def per_example(lam, b):  # vmap over the batch axis, as the layers do
        fn = lambda x: linear_recurrence(lam, x, reverse, impl)  # noqa: E731
        return jnp.swapaxes(jax.vmap(fn, in_axes=1)(b), 0, 1)

    ref = jax.grad(loss(lambda l_, x: sequential_scan(l_, x, reverse)), argnums=(0, 1))(lam, b)
    direct = loss(lambda l_, x: linear_recurrence(l_, x, reverse, impl))
    for fn in (direct, loss(per_example)):
        got = jax.jit(jax.grad(fn, argnums=(0, 1)))(lam, b)
        for g, r in zip(got, ref, strict=True):
            assert rel_err(g, r) < 1e-10
    tangents = (0.3j * lam, 0.7 * b)
    _, t_ref = jax.jvp(lambda l_, x: sequential_scan(l_, x, reverse), (lam, b), tangents)
    _, t_got = jax.jvp(lambda l_, x: linear_recurrence(l_, x, reverse, impl), (lam, b), tangents)
    assert rel_err(t_got, t_ref) < 1e-10


def test_scan_broadcasts_batch_like_dims():
    rng = np.random.default_rng(1)
    lam_bar = np.exp(random_modes(rng, 4) * 0.1)
    b = rng.standard_normal((50, 3, 4)) + 0j
    ref = np.stack([loop_recurrence(lam_bar, b[:, i]) for i in range(3)], axis=1)
    for fn in (parallel_scan, sequential_scan, chunked_scan):
        assert rel_err(jax.jit(fn)(lam_bar, b), ref) < 1e-10, fn.__name__


def test_state_fft_conv_matches_recurrence():
    rng = np.random.default_rng(2)
    lam_bar = np.exp(random_modes(rng, 5) * 0.1)
    bu = rng.standard_normal((2, 100, 5)) + 1j * rng.standard_normal((2, 100, 5))
    for reverse in (False, True):
        ref = np.stack([loop_recurrence(lam_bar, x, reverse) for x in bu])
        assert rel_err(state_fft_conv(lam_bar, bu, reverse), ref) < 1e-10


# --- discretization ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
def test_discretization_matches_scipy_cont2discrete(method):
    rng = np.random.default_rng(3)
    P, H = 5, 3
    lam = random_modes(rng, P)
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


# --- initializations ---------------------------------------------------------------------------


def test_hippo_eigenvalues_match_numpy_eig_of_normal_part():
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


def test_conjugate_halving_of_hippo_reproduces_real_system():
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
    x = loop_recurrence(np.asarray(lam_bar), u @ (np.asarray(gamma)[:, None] * Bt).T)
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


# --- kernels and convolution -------------------------------------------------------------------


def test_vandermonde_kernel_matches_direct_powers():
    rng = np.random.default_rng(5)
    lam_bar = np.exp(random_modes(rng, 6) * 0.1)
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
def test_powers_by_doubling_match_numpy(count):
    rng = np.random.default_rng(16)
    z = np.exp(random_modes(rng, 6).reshape(2, 3) * 0.01)
    got = powers(jnp.asarray(z), count)
    assert got.shape == (2, 3, count)
    assert rel_err(got, z[..., None] ** np.arange(count)) < 1e-12


def test_vandermonde_kernel_batched_shapes_match_direct_powers():
    """(n_dir, H, N) products against (H, N) eigenvalues, as in a bidirectional S4D layer."""
    rng = np.random.default_rng(14)
    H, N, L = 3, 4, 1000
    lam_bar = np.exp(random_modes(rng, H * N).reshape(H, N) * 0.01)
    cb = rng.standard_normal((2, H, N)) + 1j * rng.standard_normal((2, H, N))
    ref = 2 * np.einsum("dhn,hnl->dhl", cb, lam_bar[..., None] ** np.arange(L)).real
    got = vandermonde_kernel(jnp.asarray(lam_bar), jnp.asarray(cb), L)
    assert got.shape == (2, H, L)
    assert rel_err(got, ref) < 1e-10


def test_fft_conv_matches_numpy_convolve():
    rng = np.random.default_rng(6)
    L, H = 64, 3
    u = rng.standard_normal((2, L, H))
    k = rng.standard_normal((L, H))
    ref = np.stack(
        [np.stack([np.convolve(u[b, :, h], k[:, h])[:L] for h in range(H)], -1) for b in range(2)]
    )
    assert rel_err(fft_conv(u, k), ref) < 1e-10


def test_two_sided_kernel_is_forward_plus_reverse_recurrence():
    rng = np.random.default_rng(7)
    L, N = 80, 4
    lam_bar = np.exp(random_modes(rng, N) * 0.1)
    cb_f = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    cb_b = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    u = rng.standard_normal(L)
    # reference: states of both directions by loops, read out with 2 Re(c x)
    xf = loop_recurrence(lam_bar, u[:, None] * np.ones(N))
    xb = loop_recurrence(lam_bar, u[:, None] * np.ones(N), reverse=True)
    ref = 2 * (xf @ cb_f).real + 2 * (xb @ cb_b).real
    kf = vandermonde_kernel(lam_bar, cb_f, L)[:, None]
    kb = vandermonde_kernel(lam_bar, cb_b, L)[:, None]
    got = fft_conv(u[None, :, None], two_sided_kernel(kf, kb))[0, :, 0]
    assert rel_err(got, ref) < 1e-10


# --- transfer functions ------------------------------------------------------------------------


def _random_mimo(rng, P=4, I=2, O=3):
    lam = random_modes(rng, P)
    b = rng.standard_normal((P, I)) + 1j * rng.standard_normal((P, I))
    c = rng.standard_normal((O, P)) + 1j * rng.standard_normal((O, P))
    d = rng.standard_normal((O, I))
    return lam, b, c, d


def test_continuous_transfer_matches_scipy_freqresp():
    rng = np.random.default_rng(8)
    lam, b, c, d = _random_mimo(rng)
    A, B, C, D = real_block_system(lam, b, c, d)
    omega = np.linspace(-40, 40, 301)
    got = np.asarray(transfer_continuous(lam, b, c, d, omega))
    for i in range(b.shape[1]):
        for o in range(c.shape[0]):
            sys = signal.StateSpace(A, B[:, i : i + 1], C[o : o + 1], D[o : o + 1, i : i + 1])
            _, h = signal.freqresp(sys, w=omega)
            assert rel_err(got[:, o, i], h) < 1e-9


def test_discrete_transfer_matches_scipy_dfreqresp():
    rng = np.random.default_rng(9)
    lam, b, c, d = _random_mimo(rng, I=1, O=1)
    dt = 0.05
    A, B, C, D = real_block_system(lam, b, c, d)
    Ad, Bd, *_ = signal.cont2discrete((A, B, C, D), dt, method="zoh")
    theta = np.linspace(0, np.pi, 200)
    # our readout y_k = C x_k sees u_k, i.e. scipy's realization (Ad, Bd, C Ad, D + C Bd)
    _, h = signal.dfreqresp(signal.dlti(Ad, Bd, C @ Ad, D + C @ Bd, dt=dt), w=theta)
    lam_bar, gamma = zoh(jnp.asarray(lam), dt)
    got = transfer_discrete(lam_bar, gamma[:, None] * b, c, d, theta)[:, 0, 0]
    assert rel_err(got, h) < 1e-9


def test_fft_of_long_kernel_is_discrete_transfer_on_fft_grid():
    rng = np.random.default_rng(10)
    N, L, dt = 4, 4096, 0.1
    lam = -rng.uniform(0.5, 2.0, N) + 1j * rng.uniform(-20, 20, N)  # decays to ~1e-80 by L
    cb = rng.standard_normal(N) + 1j * rng.standard_normal(N)
    lam_bar, gamma = zoh(jnp.asarray(lam), dt)
    K = vandermonde_kernel(lam_bar, cb * gamma, L)
    theta = 2 * np.pi * np.arange(L) / L
    H = transfer_discrete(lam_bar, (cb * gamma)[:, None], np.ones((1, N)), 0.0, theta)[:, 0, 0]
    assert rel_err(np.fft.fft(np.asarray(K)), H) < 1e-10


# --- Sobolev filter ----------------------------------------------------------------------------


def test_sobolev_weight_formula():
    w = sobolev_weight(16, 1.5)
    assert w.shape == (9, 1)
    assert np.allclose(w[:, 0], (1 + np.arange(9) / 16) ** 1.5, rtol=1e-14)
    w = sobolev_weight(16, jnp.array([1.0, -1.0]), c=10_000)
    assert w.shape == (9, 2)
    assert np.allclose(w[:, 1], 1 / (1 + np.arange(9) / 10_000), rtol=1e-14)


def test_sobolev_filter_matches_numpy_reference():
    rng = np.random.default_rng(11)
    y = rng.standard_normal((2, 30, 3))
    beta = np.array([0.5, -1.0, 2.0])
    n = 60
    spec = np.fft.rfft(y, n=n, axis=1) * (1 + np.arange(31) / n)[:, None] ** beta
    ref = np.fft.irfft(spec, n=n, axis=1)[:, :30]
    assert rel_err(sobolev_filter(y, beta), ref) < 1e-12
    assert rel_err(sobolev_filter(y, 0.0), y) < 1e-12


@pytest.mark.parametrize("beta", [-1.0, 1.0, 2.5])
def test_sobolev_scales_a_pure_sinusoid_by_the_stated_factor(beta):
    L, c = 256, 256.0
    t = np.arange(L)
    for k0 in (3, 100):
        y = np.cos(2 * np.pi * k0 * t / L + 0.3)[:, None]
        out = np.asarray(sobolev_filter(y, beta, c=c, n_fft=L))
        factor = (1 + k0 / c) ** beta
        assert rel_err(out, factor * y) < 1e-12
    # higher frequencies gain more (beta > 0) or lose more (beta < 0)
    assert ((1 + 100 / c) ** beta > (1 + 3 / c) ** beta) == (beta > 0)


def test_sobolev_exponent_gradient_matches_finite_difference():
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
