"""Discretization of a diagonal continuous-time system (paper Sec. 2; S5 eqs. (6)-(7)).

For x'(t) = Λ x(t) + B u(t) sampled with step Δ the discrete system is x_k = Λ̄ x_{k-1} + B̄ u_k.
Because Λ is diagonal, B̄ = γ ⊙ B with a per-mode factor γ, so both rules return (Λ̄, γ) and leave
the product with B to the caller (whose B may be (P, H) for S5 or (H, N) for S4D). C and D are
unchanged, as in S4/S5 (scipy's bilinear rule also rescales C and D; the transfer functions agree).

Shapes: ``lam`` and ``dt`` broadcast against each other; outputs have the broadcast shape.
Continuous frequency ω maps to the discrete frequency θ = ω·Δ.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import jax.numpy as jnp

Method = Literal["zoh", "bilinear"]
METHODS: tuple[str, ...] = ("zoh", "bilinear")


@dataclasses.dataclass(frozen=True)
class Discretization:
    """How a layer turns its continuous system into the one it runs: what analysis of trained
    parameters needs besides them (a run's ``model.ssm`` settings of the same meaning).

    Attributes:
      method: "zoh" or "bilinear" (``model.ssm.discretization``).
      step_rescale: multiplies every Δ (``model.ssm.step_rescale``).
      clip_eigs: Re Λ clipped at -1e-4, as the forward pass does (``model.ssm.clip_eigs``).
      conj_sym: one mode of each conjugate pair stored, the output doubled
        (``model.ssm.conj_sym``).
    """

    method: str = "zoh"
    step_rescale: float = 1.0
    clip_eigs: bool = True
    conj_sym: bool = True


def zoh(lam: jnp.ndarray, dt: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Zero-order hold: Λ̄ = exp(ΔΛ), γ = Λ⁻¹(Λ̄ - 1) so that B̄ = γ B."""
    lam_bar = jnp.exp(lam * dt)
    return lam_bar, (lam_bar - 1.0) / lam


def bilinear(lam: jnp.ndarray, dt: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Bilinear (Tustin): Λ̄ = (1 - ΔΛ/2)⁻¹(1 + ΔΛ/2), γ = (1 - ΔΛ/2)⁻¹ Δ."""
    inv = 1.0 / (1.0 - 0.5 * dt * lam)
    return inv * (1.0 + 0.5 * dt * lam), inv * dt


def discretize(lam: jnp.ndarray, dt: jnp.ndarray, method: str) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Dispatch to :func:`zoh` or :func:`bilinear`; returns (Λ̄, γ)."""
    if method == "zoh":
        return zoh(lam, dt)
    if method == "bilinear":
        return bilinear(lam, dt)
    raise ValueError(f"unknown discretization {method!r}; choose one of {METHODS}")
