"""freqssm.ssm.scan: the parallel, sequential and chunked scans against a plain Python loop (values
and derivatives), float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.ssm.kernel import (
    state_fft_conv,
)
from freqssm.ssm.scan import chunked_scan, linear_recurrence, parallel_scan, sequential_scan

pytestmark = pytest.mark.usefixtures("x64")  # every test in float64


# --- scans -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reverse", [False, True])
def test_scans_match_python_loop(ssm_ref, rel_err, reverse):
    rng = np.random.default_rng(0)
    L, P = 257, 6  # odd length exercises the associative scan's uneven split
    lam_bar = np.exp(ssm_ref.random_modes(rng, P) * 0.05)
    b = rng.standard_normal((L, P)) + 1j * rng.standard_normal((L, P))
    ref = ssm_ref.loop_recurrence(lam_bar, b, reverse)
    for fn in (parallel_scan, sequential_scan, chunked_scan):
        got = jax.jit(fn, static_argnums=2)(jnp.asarray(lam_bar), jnp.asarray(b), reverse)
        assert got.dtype == jnp.complex128
        assert rel_err(got, ref) < 1e-10, fn.__name__
    for impl in ("auto", "sequential", "parallel", "chunked"):
        got = jax.jit(linear_recurrence, static_argnums=(2, 3))(lam_bar, b, reverse, impl)
        assert rel_err(got, ref) < 1e-10


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("L,chunk", [(257, 16), (257, 1), (257, 257), (256, 16), (7, 3), (1, None)])
def test_chunked_scan_any_chunk_size_matches_loop(ssm_ref, rel_err, L, chunk, reverse):
    """Uneven last chunks, T = 1 (all carry) and T = L (no carry) give the loop's states."""
    rng = np.random.default_rng(13)
    lam_bar = np.exp(ssm_ref.random_modes(rng, 5) * 0.05)
    b = rng.standard_normal((L, 2, 5)) + 1j * rng.standard_normal((L, 2, 5))
    ref = np.stack([ssm_ref.loop_recurrence(lam_bar, b[:, i], reverse) for i in range(2)], axis=1)
    got = jax.jit(chunked_scan, static_argnums=(2, 3))(
        jnp.asarray(lam_bar), jnp.asarray(b), reverse, chunk
    )
    assert got.shape == b.shape
    assert rel_err(got, ref) < 1e-10


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("impl", ["sequential", "parallel", "chunked"])
def test_recurrence_derivatives_match_differentiating_the_loop(ssm_ref, rel_err, impl, reverse):
    """Reverse mode (also under vmap) and forward mode of every implementation, including the
    custom JVP of the parallel scan, equal autodiff through a plain ``lax.scan``."""
    rng = np.random.default_rng(15)
    L, B, P = 37, 3, 5
    lam = jnp.asarray(np.exp(ssm_ref.random_modes(rng, P) * 0.05))
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


def test_scan_broadcasts_batch_like_dims(ssm_ref, rel_err):
    rng = np.random.default_rng(1)
    lam_bar = np.exp(ssm_ref.random_modes(rng, 4) * 0.1)
    b = rng.standard_normal((50, 3, 4)) + 0j
    ref = np.stack([ssm_ref.loop_recurrence(lam_bar, b[:, i]) for i in range(3)], axis=1)
    for fn in (parallel_scan, sequential_scan, chunked_scan):
        assert rel_err(jax.jit(fn)(lam_bar, b), ref) < 1e-10, fn.__name__


def test_state_fft_conv_matches_recurrence(ssm_ref, rel_err):
    rng = np.random.default_rng(2)
    lam_bar = np.exp(ssm_ref.random_modes(rng, 5) * 0.1)
    bu = rng.standard_normal((2, 100, 5)) + 1j * rng.standard_normal((2, 100, 5))
    for reverse in (False, True):
        ref = np.stack([ssm_ref.loop_recurrence(lam_bar, x, reverse) for x in bu])
        assert rel_err(state_fft_conv(lam_bar, bu, reverse), ref) < 1e-10
