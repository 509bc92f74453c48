"""Pure jax.numpy math of diagonal SSMs: initialization, discretization, scans, kernels, filters."""

from freqssm.ssm.discretize import bilinear, discretize, zoh
from freqssm.ssm.kernel import (
    fft_conv,
    state_fft_conv,
    transfer_continuous,
    transfer_discrete,
    two_sided_kernel,
    vandermonde_kernel,
)
from freqssm.ssm.scan import linear_recurrence, parallel_scan, sequential_scan
from freqssm.ssm.sobolev import sobolev_filter, sobolev_weight

__all__ = [
    "bilinear",
    "discretize",
    "fft_conv",
    "linear_recurrence",
    "parallel_scan",
    "sequential_scan",
    "sobolev_filter",
    "sobolev_weight",
    "state_fft_conv",
    "transfer_continuous",
    "transfer_discrete",
    "two_sided_kernel",
    "vandermonde_kernel",
    "zoh",
]
