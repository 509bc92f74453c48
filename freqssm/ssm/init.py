"""Initial state matrices, input/output matrices and step sizes of diagonal SSMs.

Every layer is a diagonal continuous-time system x'(t) = Λ x(t) + B u(t),
y(t) = 2 Re(C x(t)) + D u(t) (paper eq. (1) with conjugate symmetry): the eigenvalues of a real
system come in conjugate pairs, so only one of each pair is stored and the pair's contribution is
2 Re(·) of the stored mode's.

The frequency-bias knob **alpha** (paper Sec. 4, "scaling the initialization") multiplies the
imaginary parts of the initial eigenvalues and nothing else: ``Λ = Re Λ + i·alpha·Im Λ``.

The deterministic eigenvalue constructions are plain numpy (float64, computed once); the random B,
C and Δ draws take a JAX key so that ``model.init`` can be jitted.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

Init = Literal["hippo", "s4d_lin", "s4d_inv"]
INITS: tuple[str, ...] = ("hippo", "s4d_lin", "s4d_inv")


def hippo_legs(n: int) -> np.ndarray:
    """The HiPPO-LegS state matrix A, shape (n, n), float64 (Gu et al. 2020, eq. (2)).

    A[i, j] = -sqrt(2i+1) sqrt(2j+1) for i > j, -(i+1) for i == j, 0 above the diagonal.
    """
    q = np.sqrt(1.0 + 2.0 * np.arange(n))
    A = -np.tril(np.outer(q, q), -1) - np.diag(np.arange(1.0, n + 1.0))
    return A


def hippo_legs_normal(n: int) -> np.ndarray:
    """The normal part S = A + p pᵀ of HiPPO-LegS, p_i = sqrt(i + 1/2); shape (n, n).

    S = -I/2 + (skew-symmetric), so it is normal and all its eigenvalues have real part -1/2
    (S4D/S5's "diagonalized HiPPO-N").
    """
    p = np.sqrt(np.arange(n) + 0.5)
    return hippo_legs(n) + np.outer(p, p)


def diagonalize_hippo(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and unitary eigenvectors of the HiPPO-LegS normal part.

    Returns ``(lam, V)`` with ``lam`` (n,) complex128 sorted by imaginary part (ascending) and
    ``V`` (n, n) complex128 with ``S = V diag(lam) Vᴴ``. Uses ``eigh`` of the Hermitian matrix
    -i·(S + I/2) so that V is exactly unitary, as in S5.
    """
    S = hippo_legs_normal(n)
    re = np.mean(np.diagonal(S))  # exactly -1/2
    im, V = np.linalg.eigh(-1j * (S - re * np.eye(n)))
    return re + 1j * im, V


def s4d_lin(n_modes: int, alpha: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """S4D-Lin eigenvalues λ_n = -1/2 + i·alpha·π·(n + offset), n = 0..n_modes-1; (n_modes,).

    Paper Sec. 4: the scaled initialization; alpha = 1, offset = 0 is Gu et al.'s S4D-Lin. The
    authors' released waves script uses offset 1.3 (no mode at zero frequency).
    """
    n = np.arange(n_modes)
    return -0.5 + 1j * alpha * np.pi * (n + offset)


def set_modes(
    lam: np.ndarray, real: float | None = None, integrator_re: float | None = None
) -> np.ndarray:
    """Overwrite parts of an initial spectrum (any shape, modes on the last axis).

    ``real``: every mode's real part (e.g. -3, the authors' denoising layer). ``integrator_re``:
    mode 0 becomes λ_0 = integrator_re + 0i, a slowly leaking integrator (authors: -exp(-5)).
    None leaves that part as it is.
    """
    lam = np.array(lam, np.complex128)
    if real is not None:
        if not real < 0:
            raise ValueError(f"the real part of the eigenvalues must be < 0, got {real}")
        lam = real + 1j * lam.imag
    if integrator_re is not None:
        if not integrator_re < 0:
            raise ValueError(f"integrator_re must be < 0, got {integrator_re}")
        lam[..., 0] = integrator_re
    return lam


def s4d_inv(n_modes: int, alpha: float = 1.0) -> np.ndarray:
    """S4D-Inv eigenvalues λ_n = -1/2 + i·alpha·(N/π)(N/(2n+1) - 1) with N = 2·n_modes.

    N is the full (real) state size, matching the state-spaces implementation; shape (n_modes,).
    """
    N = 2 * n_modes
    n = np.arange(n_modes)
    return -0.5 + 1j * alpha * (N / np.pi) * (N / (2 * n + 1) - 1)


def scale_imag(lam: np.ndarray, alpha: float) -> np.ndarray:
    """Multiply the imaginary parts of ``lam`` by ``alpha`` (any shape); real parts untouched."""
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    return lam.real + 1j * alpha * lam.imag


def eigensystem(
    kind: str,
    state_size: int,
    blocks: int = 1,
    alpha: float = 1.0,
    conj_sym: bool = True,
    imag_offset: float = 0.0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Initial diagonal state matrix for a layer with ``state_size`` = P (full real state size).

    The P states are split into ``blocks`` = J blocks of size P/J; each block gets the eigenvalues
    of the size-P/J initialization, and with ``conj_sym`` only the half with Im λ <= 0 (hippo) or
    the first P/(2J) modes (s4d_*) is stored, giving P_s = P/2 stored modes (P_s = P without).

    ``imag_offset`` shifts the S4D-Lin frequencies (:func:`s4d_lin`); it is an error for the
    other inits.

    Returns:
      lam: (P_s,) complex128, imaginary parts already scaled by ``alpha``.
      V: for ``hippo``, the block-diagonal eigenvector matrix restricted to the stored modes, shape
        (P, P_s), so that B̃ = Vᴴ B and C̃ = C V (S5 Sec. 4.1); None for s4d_* (identity basis).
    """
    if kind not in INITS:
        raise ValueError(f"unknown init {kind!r}; choose one of {INITS}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    if state_size % blocks:
        raise ValueError(f"state_size={state_size} is not divisible by blocks={blocks}")
    size = state_size // blocks
    if conj_sym and size % 2:
        raise ValueError(f"state_size/blocks={size} must be even with conjugate symmetry")
    keep = size // 2 if conj_sym else size
    if imag_offset and kind != "s4d_lin":
        raise ValueError(f"imag_offset={imag_offset} applies to the s4d_lin init only")
    if kind == "hippo":
        lam, V = diagonalize_hippo(size)
        lam, V = lam[:keep], V[:, :keep]
        lam = np.tile(lam, blocks)
        Vfull = np.zeros((state_size, keep * blocks), np.complex128)
        for j in range(blocks):
            Vfull[j * size : (j + 1) * size, j * keep : (j + 1) * keep] = V
        return scale_imag(lam, alpha), Vfull
    lam = s4d_lin(keep, alpha, imag_offset) if kind == "s4d_lin" else s4d_inv(keep, alpha)
    return np.tile(lam, blocks), None


def log_dt(
    key: jax.Array, shape: tuple[int, ...], dt_min: float, dt_max: float, dtype=jnp.float32
) -> jax.Array:
    """log Δ with Δ log-uniform in [dt_min, dt_max]; ``shape`` = (P_s,) for S5, (H,) for S4D."""
    if not 0 < dt_min <= dt_max:
        raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={dt_min}, dt_max={dt_max}")
    return jax.random.uniform(key, shape, dtype, np.log(dt_min), np.log(dt_max))


def _lecun(key: jax.Array, shape: tuple[int, ...], dtype, in_axis: int = -1) -> jax.Array:
    # fan-in is the last axis by default: the matrices act on vectors of that size.
    out_axis = -2 if in_axis == -1 else -1
    return jax.nn.initializers.lecun_normal(in_axis=in_axis, out_axis=out_axis)(key, shape, dtype)


def _truncated_normal(key: jax.Array, shape: tuple[int, ...], var: float, dtype) -> jax.Array:
    # the same draw as jax's variance_scaling("truncated_normal"): unit variance on [-2, 2]
    std = np.sqrt(var) / 0.87962566103423978
    return jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype) * std


def s5_BC(
    key: jax.Array,
    V: np.ndarray | None,
    n_modes: int,
    H: int,
    n_out: int = 1,
    dtype=jnp.float32,
    b_init: str = "fan_in_h",
    c_init: str = "fan_in_p",
) -> tuple[jax.Array, jax.Array]:
    """S5 input/output matrices in the eigenbasis (S5 Sec. 4.1).

    With eigenvectors V (P, P_s): B = lecun (P, H) real, B̃ = Vᴴ B; C = lecun (H, P) complex,
    C̃ = C V. Without V (s4d_* inits) the modes are the basis and B̃, C̃ are complex lecun.

    ``b_init``: "fan_in_h" takes the fan-in over the H inputs (E|B|² = 1/H); "fan_in_p" over the
    P states (E|B|² = 1/P), as the S5 authors' ``lecun_normal()`` on a (P, H) matrix.
    ``c_init``: "fan_in_p" is lecun normal over the P states (the S5 authors'
    ``trunc_standard_normal``); "fan_in_ph" gives each real component variance 1/(P·H), the S5
    authors' ``lecun_normal`` C (their LRA setting).

    Returns B̃ (P_s, H) and C̃ (n_out, H, P_s), complex (n_out = 2 for the two directions of a
    bidirectional layer, which share Λ and B̃ but not C̃).
    """
    if b_init not in ("fan_in_h", "fan_in_p"):
        raise ValueError(f"b_init={b_init!r} is not one of ('fan_in_h', 'fan_in_p')")
    if c_init not in ("fan_in_p", "fan_in_ph"):
        raise ValueError(f"c_init={c_init!r} is not one of ('fan_in_p', 'fan_in_ph')")
    kb, kbi, kc, kci = jax.random.split(key, 4)
    b_axis = -1 if b_init == "fan_in_h" else -2

    def c_part(k: jax.Array, P: int) -> jax.Array:
        shape = (n_out, H, P)
        if c_init == "fan_in_ph":
            return _truncated_normal(k, shape, 1.0 / (P * H), dtype)
        return _lecun(k, shape, dtype)

    if V is None:
        B = jax.lax.complex(
            _lecun(kb, (n_modes, H), dtype, b_axis), _lecun(kbi, (n_modes, H), dtype, b_axis)
        )
        C = jax.lax.complex(c_part(kc, n_modes), c_part(kci, n_modes))
        return B / np.sqrt(2), C / np.sqrt(2)
    P = V.shape[0]
    Vj = jnp.asarray(V, jax.lax.complex(jnp.zeros((), dtype), jnp.zeros((), dtype)).dtype)
    B = Vj.conj().T @ _lecun(kb, (P, H), dtype, b_axis)
    C = jax.lax.complex(c_part(kc, P), c_part(kci, P))
    return B, C @ Vj


def s4d_BC(
    key: jax.Array, H: int, n_modes: int, n_out: int = 1, dtype=jnp.float32
) -> tuple[jax.Array, jax.Array]:
    """S4D input/output vectors: B = 1 (H, N) and C complex standard normal (n_out, H, N).

    As in Gu et al. (2022, S4D): B starts at one (and is trained), C ~ CN(0, 1).
    """
    kr, ki = jax.random.split(key)
    B = jax.lax.complex(jnp.ones((H, n_modes), dtype), jnp.zeros((H, n_modes), dtype))
    shape = (n_out, H, n_modes)
    C = jax.lax.complex(jax.random.normal(kr, shape, dtype), jax.random.normal(ki, shape, dtype))
    return B, C / np.sqrt(2)
