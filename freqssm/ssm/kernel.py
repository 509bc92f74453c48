"""Convolution view of a diagonal SSM and its transfer function (paper eqs. (2)-(3)).

Unrolling x_k = Λ̄ x_{k-1} + B̄ u_k, y_k = 2 Re(C x_k) gives y = K * u with the kernel
K_l = 2 Re(Σ_n C_n B̄_n Λ̄_n^l) (a Vandermonde product). The transfer function of the continuous
system is G(iω) = Σ_n C_n B_n / (iω - λ_n) + D (paper eq. (3)); that of the discrete system is
H(e^{iθ}) = Σ_n C_n B̄_n / (1 - Λ̄_n e^{-iθ}) + D, the DTFT of K (plus D).

With ``conj_sym`` each stored mode stands for a conjugate pair: sums become 2 Re(·) in time and
gain the conjugate mode's term in frequency.
"""

from __future__ import annotations

import jax.numpy as jnp

from freqssm.ssm.scan import sqrt_chunk


def vandermonde_kernel(
    lam_bar: jnp.ndarray,
    cb: jnp.ndarray,
    length: int,
    conj_sym: bool = True,
    chunk: int | None = None,
) -> jnp.ndarray:
    """K_l = f·Re Σ_n cb_n Λ̄_n^l for l = 0..L-1, f = 2 with conjugate symmetry else 1.

    Computed without materialising the (..., N, L) table of powers: with l = a·T + t,
    K_{aT+t} = Re Σ_n (cb_n Λ̄_n^{aT}) Λ̄_n^t, i.e. one real matrix product of an (A, 2N) "outer"
    table [Re, -Im] of cb_n Λ̄_n^{aT} with a (2N, T) "inner" table [Re; Im] of Λ̄_n^t, where
    T ≈ √L and A = ⌈L/T⌉. Memory is O(N·√L) per feature instead of O(N·L), and the reduction runs
    as a matmul. The two power tables come from :func:`powers` (repeated squaring, no exp/log).

    Args:
      lam_bar: (..., N) complex discrete eigenvalues.
      cb: (..., N) complex products C_n B̄_n (broadcast against ``lam_bar``).
      length: L.
      conj_sym: f = 2 (conjugate pairs) or 1.
      chunk: T; None picks the power of two nearest √L.
    Returns:
      (..., L) real kernel.
    """
    T = sqrt_chunk(length) if chunk is None else max(1, min(int(chunk), length))
    A = -(-length // T)
    inner = powers(lam_bar, T)  # (..., N, T): Λ̄^t
    lam_T = inner[..., -1] * lam_bar  # Λ̄^T
    outer = cb[..., None] * powers(lam_T, A)  # (..., N, A): cb Λ̄^{aT}
    outer = jnp.swapaxes(outer, -1, -2)  # (..., A, N)
    o = jnp.concatenate([outer.real, -outer.imag], axis=-1)  # (..., A, 2N)
    i = jnp.concatenate([inner.real, inner.imag], axis=-2)  # (..., 2N, T)
    k = jnp.matmul(o, i)  # (..., A, T)
    k = k.reshape(*k.shape[:-2], A * T)[..., :length]
    return 2.0 * k if conj_sym else k


def powers(z: jnp.ndarray, count: int) -> jnp.ndarray:
    """z^0, z^1, ..., z^{count-1} along a new last axis, by doubling: [p, p·z^{2^j}].

    Only multiplications (no exp/log), so forward and backward are cheap elementwise products.
    Each squaring doubles the relative error so far, so z^l carries about l·ε, the same order as
    exp(l·log z) (in float32 both reach ~3e-4 at l = 16383 for |z| near 1).
    """
    p = jnp.ones((*z.shape, 1), z.dtype)
    base = z[..., None]
    while p.shape[-1] < count:
        p = jnp.concatenate([p, p * base], axis=-1)
        base = base * base
    return p[..., :count]


def two_sided_kernel(k_fwd: jnp.ndarray, k_bwd: jnp.ndarray, strict: bool = False) -> jnp.ndarray:
    """Kernel of y = (causal K_fwd) * u + (anti-causal K_bwd) * u on a length-2L circular grid.

    ``k_fwd``, ``k_bwd``: (L, ...) with lag on axis 0; the result is (2L, ...), index i holding
    lag i for i < L and lag i - 2L above.

    * ``strict=False``: K_fwd at lags 0..L-1, K_bwd at lags -1..-(L-1) (indices 2L-1..L+1),
      K_bwd[0] added at lag 0 and zero at index L. So y_t = Σ_{s<=t} K_fwd[t-s] u_s +
      Σ_{s>=t} K_bwd[s-t] u_s, exactly a forward plus a reverse recurrence (both include the
      current input).
    * ``strict=True`` (the authors' and S4's ``pad(k0, (0, L)) + pad(k1.flip(-1), (L, 0))``):
      K_bwd[m-1] at lag -m for m = 1..L, so y_t = Σ_{s<=t} K_fwd[t-s] u_s +
      Σ_{s>t} K_bwd[s-t-1] u_s: the backward half is strictly anticausal. Index L (lag -L)
      holds K_bwd[L-1]; it never meets an input of length L, but a spectral weight applied to
      the kernel's FFT sees it, as in the authors' code.
    """
    if strict:
        return jnp.concatenate([k_fwd, jnp.flip(k_bwd, axis=0)], axis=0)
    zero = jnp.zeros_like(k_fwd[:1])
    lag0 = k_fwd[:1] + k_bwd[:1]
    return jnp.concatenate([lag0, k_fwd[1:], zero, jnp.flip(k_bwd[1:], axis=0)], axis=0)


def fft_conv(
    u: jnp.ndarray,
    k: jnp.ndarray,
    spectral_weight: jnp.ndarray | None = None,
    n_fft: int | None = None,
) -> jnp.ndarray:
    """y = K * u by FFT with zero padding to n = 2L (no circular wrap-around).

    Args:
      u: (..., L, H) real input.
      k: (L, H) causal kernel or (2L, H) two-sided kernel from :func:`two_sided_kernel`.
      spectral_weight: optional (n/2+1, H) or (n/2+1, 1) real factor applied to every rfft bin of
        the product before the inverse transform (the fused Sobolev filter).
      n_fft: the FFT length n; None means 2L. ``n_fft = L`` with an (L, H) kernel is the circular
        convolution y_t = Σ_s K[(t - s) mod L] u_s.
    Returns:
      (..., L, H) real output.
    """
    L = u.shape[-2]
    n = 2 * L if n_fft is None else int(n_fft)
    # Transform along the last axis, (..., H, L): XLA's CPU FFT wants the transformed axis
    # minor-most anyway, and in this layout the batch reduction in the kernel's gradient
    # (Σ_b conj(Û_b)·Ĝ_b) runs over contiguous (H, n/2+1) slices.
    k_hat = jnp.fft.rfft(k.T, n=n)  # (H, n/2+1)
    if spectral_weight is not None:
        # Weighting the kernel's spectrum is weighting the product, bin by bin; done on (H, n/2+1)
        # it costs nothing per example, and the weight's gradient needs no batch reduction of its
        # own (it follows from the kernel spectrum's).
        k_hat = k_hat * spectral_weight.T
    spec = jnp.fft.rfft(jnp.swapaxes(u, -1, -2), n=n) * k_hat
    return jnp.swapaxes(jnp.fft.irfft(spec, n=n)[..., :L], -1, -2)


def state_fft_conv(lam_bar: jnp.ndarray, bu: jnp.ndarray, reverse: bool = False) -> jnp.ndarray:
    """All states of x_k = Λ̄ x_{k-1} + bu_k by convolving each mode with Λ̄^l (S5 "conv" mode).

    Args:
      lam_bar: (P,) complex.
      bu: (..., L, P) complex inputs B̄u.
      reverse: run the recurrence from the end.
    Returns:
      (..., L, P) complex states, equal to :func:`freqssm.ssm.scan.linear_recurrence`.
    """
    L = bu.shape[-2]
    n = 2 * L
    powers = jnp.exp(jnp.arange(L)[:, None] * jnp.log(lam_bar))  # (L, P)
    if reverse:
        bu = jnp.flip(bu, axis=-2)
    x = jnp.fft.ifft(jnp.fft.fft(bu, n=n, axis=-2) * jnp.fft.fft(powers, n=n, axis=0), axis=-2)
    x = x[..., :L, :]
    return jnp.flip(x, axis=-2) if reverse else x


def _modal_sum(w: jnp.ndarray, b: jnp.ndarray, c: jnp.ndarray) -> jnp.ndarray:
    # Σ_p c[o, p] w[f, p] b[p, i] -> (F, O, I)
    return jnp.einsum("op,fp,pi->foi", c, w, b)


def transfer_continuous(
    lam: jnp.ndarray,
    b: jnp.ndarray,
    c: jnp.ndarray,
    d: jnp.ndarray,
    omega: jnp.ndarray,
    conj_sym: bool = True,
) -> jnp.ndarray:
    """G(iω) = C (iω - Λ)⁻¹ B + D of the continuous system on a frequency grid (paper eq. (3)).

    Args:
      lam: (P,) complex eigenvalues (stored modes).
      b: (P, I) complex; c: (O, P) complex; d: (O, I) real (or broadcastable).
      omega: (F,) real angular frequencies.
      conj_sym: add the conjugate modes (conj λ, conj b, conj c), i.e. the real system.
    Returns:
      (F, O, I) complex. For an S4D feature use P = N, I = O = 1.
    """
    s = 1j * omega[:, None]
    g = _modal_sum(1.0 / (s - lam), b, c)
    if conj_sym:
        g = g + _modal_sum(1.0 / (s - jnp.conj(lam)), jnp.conj(b), jnp.conj(c))
    return g + d


def transfer_discrete(
    lam_bar: jnp.ndarray,
    b_bar: jnp.ndarray,
    c: jnp.ndarray,
    d: jnp.ndarray,
    theta: jnp.ndarray,
    conj_sym: bool = True,
) -> jnp.ndarray:
    """H(e^{iθ}) = Σ_p c_p b̄_p / (1 - Λ̄_p e^{-iθ}) + D of x_k = Λ̄x_{k-1} + B̄u_k, y_k = Cx_k + Du_k.

    Shapes as in :func:`transfer_continuous`, with ``theta`` (F,) in radians per sample (θ = ωΔ).
    """
    zinv = jnp.exp(-1j * theta[:, None])
    h = _modal_sum(1.0 / (1.0 - lam_bar * zinv), b_bar, c)
    if conj_sym:
        h = h + _modal_sum(1.0 / (1.0 - jnp.conj(lam_bar) * zinv), jnp.conj(b_bar), jnp.conj(c))
    return h + d
