"""The diagonal linear recurrence x_k = Λ̄ x_{k-1} + b_k, x_{-1} = 0 (S5 Sec. 3.2).

Three implementations with identical results (up to rounding):

* ``sequential``: ``lax.scan``, L dependent steps of O(state) work each;
* ``parallel``: ``lax.associative_scan``, O(log L) depth and O(L log L)-ish total work, the
  preferred choice on GPU/TPU where the L-step loop would leave the device idle;
* ``chunked``: split time into ⌈L/T⌉ chunks of T ≈ √L steps, scan all chunks at once (T steps
  over a ⌈L/T⌉-times wider state), carry the chunk-final states across chunks (⌈L/T⌉ steps), then
  add Λ̄^{t+1}·carry to every step: O(√L) dependent steps of wide, vectorisable work.

``auto`` picks per backend (:func:`resolve_impl`). ``reverse`` runs the recurrence from the end
(x_k = Λ̄ x_{k+1} + b_k), the backward half of a bidirectional layer.

Shapes: ``b`` is (L, ...) with time first; ``lam_bar`` broadcasts against ``b[0]``. Batch axes are
added with ``jax.vmap``.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import jax
import jax.numpy as jnp

ScanImpl = Literal["sequential", "parallel", "chunked", "auto"]
SCAN_IMPLS: tuple[str, ...] = ("auto", "sequential", "parallel", "chunked")


def _combine(left: tuple, right: tuple) -> tuple:
    # (a1, b1) then (a2, b2): x -> a2 (a1 x + b1) + b2
    a1, b1 = left
    a2, b2 = right
    return a1 * a2, a2 * b1 + b2


def parallel_scan(lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool = False) -> jnp.ndarray:
    """All states x_0..x_{L-1}, shape of ``b``, via ``lax.associative_scan``."""
    a = jnp.broadcast_to(lam_bar, b.shape)
    _, x = jax.lax.associative_scan(_combine, (a, b), reverse=reverse)
    return x


def sequential_scan(
    lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool = False, unroll: int = 1
) -> jnp.ndarray:
    """All states x_0..x_{L-1}, shape of ``b``, via ``lax.scan``."""

    def step(x, b_k):
        x = lam_bar * x + b_k
        return x, x

    x0 = jnp.zeros(jnp.broadcast_shapes(jnp.shape(lam_bar), b.shape[1:]), b.dtype)
    _, xs = jax.lax.scan(step, x0, b, reverse=reverse, unroll=min(unroll, b.shape[0]))
    return xs


def chunked_scan(
    lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool = False, chunk: int | None = None
) -> jnp.ndarray:
    """All states x_0..x_{L-1}, shape of ``b``, by a two-level (chunked) scan.

    ``chunk`` = T (None: the power of two nearest √L). ``b`` is zero-padded to a multiple of T at
    the end that is scanned last, which leaves the kept states unchanged.
    """
    L = b.shape[0]
    T = sqrt_chunk(L) if chunk is None else max(1, min(int(chunk), L))
    if reverse:
        b = jnp.flip(b, axis=0)
    n_chunks = -(-L // T)
    pad = n_chunks * T - L
    if pad:
        b = jnp.concatenate([b, jnp.zeros((pad, *b.shape[1:]), b.dtype)], axis=0)
    rest = jnp.broadcast_shapes(jnp.shape(lam_bar), b.shape[1:])
    b = jnp.broadcast_to(b.reshape(n_chunks, T, *b.shape[1:]), (n_chunks, T, *rest))
    local = sequential_scan(lam_bar, jnp.swapaxes(b, 0, 1), unroll=1)  # (T, n_chunks, ...)
    # state entering chunk c: s_c = Λ̄^T s_{c-1} + local[-1, c-1], s_0 = 0
    lam_T = lam_bar**T

    def carry_step(s, last):
        return lam_T * s + last, s

    _, s_in = jax.lax.scan(carry_step, jnp.zeros(rest, b.dtype), local[-1])  # (n_chunks, ...)
    powers = jnp.exp(jnp.log(lam_bar) * jnp.arange(1, T + 1).reshape((T,) + (1,) * len(rest)))
    x = local + powers[:, None] * s_in[None]  # (T, n_chunks, ...)
    x = jnp.swapaxes(x, 0, 1).reshape(n_chunks * T, *rest)[:L]
    return jnp.flip(x, axis=0) if reverse else x


def sqrt_chunk(length: int) -> int:
    """The power of two nearest √L (at least 1, at most L): chunk length of the chunked paths."""
    if length <= 1:
        return 1
    return min(length, 1 << round(math.log2(length) / 2))


def resolve_impl(impl: str) -> str:
    """``auto`` -> sequential on CPU (measured fastest there), parallel on GPU/TPU."""
    if impl == "auto":
        return "sequential" if jax.default_backend() == "cpu" else "parallel"
    if impl not in SCAN_IMPLS:
        raise ValueError(f"unknown scan implementation {impl!r}; choose one of {SCAN_IMPLS}")
    return impl


def _run(lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool, impl: str) -> jnp.ndarray:
    if impl == "parallel":
        return parallel_scan(lam_bar, b, reverse)
    if impl == "chunked":
        return chunked_scan(lam_bar, b, reverse)
    return sequential_scan(lam_bar, b, reverse)


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _recurrence(lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool, impl: str) -> jnp.ndarray:
    return _run(lam_bar, b, reverse, impl)


@_recurrence.defjvp
def _recurrence_jvp(reverse: bool, impl: str, primals: tuple, tangents: tuple) -> tuple:
    # ẋ_k = Λ̄ ẋ_{k-1} + (Λ̇ x_{k-1} + ḃ_k): the same recurrence on a new input, in which Λ̄ is a
    # constant. Reverse mode then transposes one more scan of the same kind, and Λ̄'s cotangent
    # Σ_k x_{k-1} d_k is one reduction after it, instead of differentiating through the
    # associative scan's tree of Λ̄ products.
    lam_bar, b = primals
    d_lam, d_b = tangents
    x = _run(lam_bar, b, reverse, impl)
    zero = jnp.zeros_like(x[:1])
    x_prev = jnp.concatenate([x[1:], zero]) if reverse else jnp.concatenate([zero, x[:-1]])
    return x, _run(lam_bar, d_lam * x_prev + d_b, reverse, impl)


def linear_recurrence(
    lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool = False, impl: str = "auto"
) -> jnp.ndarray:
    """x_k = Λ̄ x_{k-1} + b_k for k = 0..L-1 (or backwards); ``b`` (L, ...) -> states (L, ...).

    ``parallel`` is differentiated through a custom JVP (the tangent is one more parallel scan;
    measured faster than differentiating ``associative_scan``); ``sequential`` and ``chunked``
    by JAX's own ``lax.scan`` rules (measured faster for them than the custom JVP on CPU).
    """
    lam_bar, b = jnp.asarray(lam_bar), jnp.asarray(b)
    dtype = jnp.result_type(lam_bar, b)
    lam_bar, b = lam_bar.astype(dtype), b.astype(dtype)
    impl = resolve_impl(impl)
    if impl == "parallel":
        return _recurrence(lam_bar, b, reverse, impl)
    return _run(lam_bar, b, reverse, impl)
