"""Independent float64 references shared by the SSM math tests (plain numpy, no freqssm code)."""

from types import SimpleNamespace

import numpy as np
import pytest


def random_modes(rng, n, re_range=(0.05, 2.0), im_scale=20.0):
    """n stable complex eigenvalues: Re in -re_range, Im uniform in +-im_scale."""
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


@pytest.fixture(scope="session")
def ssm_ref():
    """``ssm_ref.loop_recurrence``, ``ssm_ref.random_modes``, ``ssm_ref.real_block_system``."""
    return SimpleNamespace(
        random_modes=random_modes,
        loop_recurrence=loop_recurrence,
        real_block_system=real_block_system,
    )
