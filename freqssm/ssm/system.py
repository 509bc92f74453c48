"""The continuous diagonal system of an S5 or S4D layer, read from its raw parameters.

Parameter names and shapes are those of :mod:`freqssm.model.layers` (its module docstring has the
table). Pure jax.numpy: the layers call it in their forward pass and recurrent step, analysis code
on trained parameters.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def as_complex(x: jax.Array) -> jax.Array:
    """(..., 2) [real, imag] -> complex (...)."""
    return jax.lax.complex(x[..., 0], x[..., 1])


def ssm_system(
    params: dict[str, jax.Array], step_rescale: float = 1.0, clip_eigs: bool = True
) -> dict[str, jax.Array]:
    """The continuous system of an S5 or S4D layer from its raw parameters.

    The parameterization is read from the parameter names (:mod:`freqssm.model.layers`): Re Λ from
    ``Lambda_re`` (clipped at -1e-4 with ``clip_eigs``) or ``-exp(Lambda_re_log)``; Δ from
    ``exp(log_dt)`` or ``softplus(dt_raw)``, times ``step_rescale``; an S4D layer without ``B``
    has B = 1; shared S4D eigenvalues (G, N) are expanded to one row per feature (H, N).

    Returns a dict with complex ``Lambda`` (P_s,) or (H, N), ``B`` (P_s, H) or (H, N), ``C``
    (n_dir, H, P_s) or (n_dir, H, N), real ``D`` (H,) (zeros for a layer without the D skip) and
    ``dt`` (P_s,) or (H,). Used by the layers themselves and by analysis code on trained
    parameters.
    """
    if "Lambda_re_log" in params:
        lam_re = -jnp.exp(params["Lambda_re_log"])
    else:
        lam_re = params["Lambda_re"]
        if clip_eigs:  # Re Λ < 0 keeps the system stable whatever the optimizer does
            lam_re = jnp.minimum(lam_re, -1e-4)
    lam = jax.lax.complex(lam_re, params["Lambda_im"])
    C = as_complex(params["C"])
    H = C.shape[-2]
    if lam.ndim == 2 and lam.shape[0] != H:  # S4D with n_ssm = G < H eigenvalue sets
        lam = jnp.tile(lam, (H // lam.shape[0], 1))
    if "B" in params:
        B = as_complex(params["B"])
    elif lam.ndim == 2:
        B = jnp.ones(lam.shape, lam.dtype)
    else:
        raise ValueError("an S5 layer needs its B parameter")
    dt = jax.nn.softplus(params["dt_raw"]) if "dt_raw" in params else jnp.exp(params["log_dt"])
    return dict(
        Lambda=lam,
        B=B,
        C=C,
        D=params.get("D", jnp.zeros(H, params["C"].dtype)),
        dt=dt * step_rescale,
    )


def is_ssm_params(tree: Any) -> bool:
    """Whether a parameter subtree is one S5 / S4D layer (it holds its Λ, C and Δ parameters)."""
    keys = set(tree.keys())
    return (
        {"Lambda_im", "C"} <= keys
        and bool(keys & {"Lambda_re", "Lambda_re_log"})
        and bool(keys & {"log_dt", "dt_raw"})
    )


# Names of every parameter :func:`ssm_system` reads (the rest, e.g. ``sobolev_beta``, it ignores).
SYSTEM_PARAMS: frozenset[str] = frozenset(
    {"Lambda_re", "Lambda_re_log", "Lambda_im", "B", "C", "D", "log_dt", "dt_raw"}
)
