"""The diagonal linear recurrence x_k = Λ̄ x_{k-1} + b_k, x_{-1} = 0 (S5 Sec. 3.2).

Two implementations with identical results: ``sequential`` (``lax.scan``, O(L) steps, fastest on
CPU) and ``parallel`` (``lax.associative_scan``, O(log L) depth, preferred on GPU/TPU). ``reverse``
runs the recurrence from the end (x_k = Λ̄ x_{k+1} + b_k), the backward half of a bidirectional
layer.

Shapes: ``b`` is (L, ...) with time first; ``lam_bar`` broadcasts against ``b[0]``. Batch axes are
added with ``jax.vmap``.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

ScanImpl = Literal["sequential", "parallel", "auto"]
SCAN_IMPLS: tuple[str, ...] = ("auto", "sequential", "parallel")


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
    lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool = False, unroll: int = 8
) -> jnp.ndarray:
    """All states x_0..x_{L-1}, shape of ``b``, via ``lax.scan``."""

    def step(x, b_k):
        x = lam_bar * x + b_k
        return x, x

    x0 = jnp.zeros(jnp.broadcast_shapes(jnp.shape(lam_bar), b.shape[1:]), b.dtype)
    _, xs = jax.lax.scan(step, x0, b, reverse=reverse, unroll=min(unroll, b.shape[0]))
    return xs


def resolve_impl(impl: str) -> str:
    """``auto`` -> sequential on CPU (measured faster there), parallel on GPU/TPU."""
    if impl == "auto":
        return "sequential" if jax.default_backend() == "cpu" else "parallel"
    if impl not in SCAN_IMPLS:
        raise ValueError(f"unknown scan implementation {impl!r}; choose one of {SCAN_IMPLS}")
    return impl


def linear_recurrence(
    lam_bar: jnp.ndarray, b: jnp.ndarray, reverse: bool = False, impl: str = "auto"
) -> jnp.ndarray:
    """x_k = Λ̄ x_{k-1} + b_k for k = 0..L-1 (or backwards); ``b`` (L, ...) -> states (L, ...)."""
    if resolve_impl(impl) == "parallel":
        return parallel_scan(lam_bar, b, reverse)
    return sequential_scan(lam_bar, b, reverse)
