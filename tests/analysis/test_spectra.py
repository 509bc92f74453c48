"""freqssm.analysis.spectra against independent references (scipy.signal, a plain numpy
state space)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.analysis import spectra
from freqssm.model.config import SSMConfig
from freqssm.model.layers import S4D
from freqssm.ssm.discretize import Discretization


def _c(x):
    """[..., 2] float params -> complex128."""
    x = np.asarray(x, np.float64)
    return x[..., 0] + 1j * x[..., 1]


def _real_block_system(lam, b, c, d):
    """Real state space of Σ_n [c_n b_n/(s-λ_n) + conj] + d, one 2x2 block per conjugate pair.

    lam (P,), b (P, I), c (O, P) complex; d (O, I). With z = Re x + i Im x of mode n:
    A_n = [[a, -Im λ], [Im λ, a]], B_n = [Re b; Im b], C_n = [2 Re c, -2 Im c].
    """
    P = lam.shape[0]
    A = np.zeros((2 * P, 2 * P))
    Bm = np.zeros((2 * P, b.shape[1]))
    Cm = np.zeros((c.shape[0], 2 * P))
    for n in range(P):
        i = 2 * n
        A[i : i + 2, i : i + 2] = [[lam[n].real, -lam[n].imag], [lam[n].imag, lam[n].real]]
        Bm[i], Bm[i + 1] = b[n].real, b[n].imag
        Cm[:, i], Cm[:, i + 1] = 2 * c[:, n].real, -2 * c[:, n].imag
    return A, Bm, Cm, np.atleast_2d(d).astype(np.float64)


def _layer_output_realization(A, Bm, Cm, Dm, dt):
    """ZOH discretization (scipy) of the real system, as the layer reads it out.

    scipy's convention is y_k = C x_k with x_{k+1} = Ad x_k + Bd u_k, while the layer's readout
    y_k = C x_k sees u_k (x_k = Λ̄ x_{k-1} + B̄ u_k). With s_k = x_{k-1} the layer is
    (Ad, Bd, C·Ad, D + C·Bd) in scipy's convention.
    """
    Ad, Bd, _, _, _ = signal.cont2discrete((A, Bm, Cm, Dm), dt, method="zoh")
    return Ad, Bd, Cm @ Ad, Dm + Cm @ Bd


def _clipped_lambda(p):
    lam_re = np.minimum(np.asarray(p["Lambda_re"], np.float64), -1e-4)
    return lam_re + 1j * np.asarray(p["Lambda_im"], np.float64)


def _ss_freqresp(Ad, Bd, Cd, Dd, theta):
    """C (e^{iθ} I - A)^{-1} B + D by direct solves: (F, O, I). Exact, unlike scipy's TF route."""
    eye = np.eye(Ad.shape[0])
    return np.stack([Cd @ np.linalg.solve(np.exp(1j * t) * eye - Ad, Bd) + Dd for t in theta])


@pytest.mark.parametrize("dt_range", [(1e-3, 1e-1), (0.05, 0.1)])
def test_s4d_transfer_matches_scipy(layer_params, dt_range):
    p = layer_params("s4d", state_size=8, dt_min=dt_range[0], dt_max=dt_range[1])
    H = p["D"].shape[0]
    lam, b, c = _clipped_lambda(p), _c(p["B"]), _c(p["C"])[0]
    d, dt = np.asarray(p["D"], np.float64), np.exp(np.asarray(p["log_dt"], np.float64))
    omega = np.linspace(0.0, 15.0, 61)
    theta = np.linspace(0.0, np.pi, 61)

    cont = spectra.transfer_magnitude(p, omega)
    disc = spectra.transfer_magnitude(p, theta, discrete=True)
    assert cont.shape == disc.shape == (61, H)
    assert cont.dtype == np.float64
    for h in range(H):
        A, Bm, Cm, Dm = _real_block_system(lam[h], b[h][:, None], c[h][None, :], d[h])
        _, g_ref = signal.freqresp((A, Bm, Cm, Dm), w=omega)
        np.testing.assert_allclose(cont[:, h], np.abs(g_ref), rtol=1e-6)
        sys_d = _layer_output_realization(A, Bm, Cm, Dm, dt[h])
        # scipy's ZOH evaluated exactly: holds for any Δ.
        h_ref = _ss_freqresp(*sys_d, theta)[:, 0, 0]
        np.testing.assert_allclose(disc[:, h], np.abs(h_ref), rtol=1e-6)
        if dt_range[0] >= 0.05:
            # dfreqresp goes state space -> transfer-function polynomials, which is
            # ill-conditioned when all poles crowd near z = 1 (small Δ: a 3.6e-4 error at
            # Δ = 0.012), so it is only a 1e-6 reference for moderate Δ.
            _, h_scipy = signal.dfreqresp((*sys_d, dt[h]), w=theta)
            np.testing.assert_allclose(disc[:, h], np.abs(h_scipy), rtol=1e-6)


def test_s5_transfer_matches_numpy_reference(layer_params):
    p = layer_params("s5", state_size=8)
    H = p["D"].shape[0]
    lam, b, c = _clipped_lambda(p), _c(p["B"]), _c(p["C"])[0]  # (P,), (P, H), (H, P)
    d, dt = np.asarray(p["D"], np.float64), np.exp(np.asarray(p["log_dt"], np.float64))
    omega = np.linspace(0.0, 25.0, 41)

    # Continuous: modal sum with the conjugate modes written out.
    r = 1.0 / (1j * omega[:, None] - lam)  # (F, P)
    rc = 1.0 / (1j * omega[:, None] - lam.conj())
    g_ref = np.einsum("op,fp,pi->foi", c, r, b) + np.einsum("op,fp,pi->foi", c.conj(), rc, b.conj())
    g_ref = g_ref + np.diag(d)
    g = spectra.transfer_function(p, omega)
    assert g.shape == (41, H, H)
    np.testing.assert_allclose(np.abs(g), np.abs(g_ref), rtol=1e-6)
    mag = spectra.transfer_magnitude(p, omega)
    np.testing.assert_allclose(mag, np.sqrt(np.mean(np.abs(g_ref) ** 2, axis=-1)), rtol=1e-6)
    # The aggregation is the RMS over inputs, not e.g. the max or the sum.
    assert not np.allclose(mag, np.abs(g_ref).max(axis=-1), rtol=1e-3)

    # Discrete: every mode has its own Δ, so discretize each 2x2 block on its own (scipy ZOH),
    # then evaluate C'(zI - Ad)^{-1} Bd + D' of the assembled real system.
    theta = np.linspace(0.0, np.pi, 41)
    A, Bm, Cm, _ = _real_block_system(lam, b, c, np.zeros((H, H)))
    Ad, Bd = np.zeros_like(A), np.zeros_like(Bm)
    for n in range(lam.shape[0]):
        s = slice(2 * n, 2 * n + 2)
        Ad[s, s], Bd[s], *_ = signal.cont2discrete(
            (A[s, s], Bm[s], Cm[:, s], np.zeros((H, H))), dt[n], method="zoh"
        )
    h_ref = _ss_freqresp(Ad, Bd, Cm @ Ad, np.diag(d) + Cm @ Bd, theta)
    h = spectra.transfer_function(p, theta, discrete=True)
    np.testing.assert_allclose(np.abs(h), np.abs(h_ref), rtol=1e-6)
    np.testing.assert_allclose(
        spectra.transfer_magnitude(p, theta, discrete=True),
        np.sqrt(np.mean(np.abs(h_ref) ** 2, axis=-1)),
        rtol=1e-6,
    )


@pytest.mark.parametrize("conj_sym", [True, False])
def test_transfer_magnitude_matches_layer_impulse_response(conj_sym):
    """The discrete gain is the DFT of the layer's own impulse response (ties it to the layer)."""
    L, H = 128, 2
    # Fast decay (large Δ) so the impulse response fits in L.
    model = S4D(SSMConfig(kind="s4d", state_size=8, dt_min=0.2, dt_max=0.4, conj_sym=conj_sym))
    p = jax.jit(model.init)(jax.random.key(1), jnp.ones((1, L, H)))["params"]
    u = np.zeros((1, L, H), np.float32)
    u[0, 0] = 1.0
    y = np.asarray(model.apply({"params": p}, jnp.asarray(u)), np.float64)[0]  # (L, H)
    theta = 2 * np.pi * np.arange(L // 2 + 1) / L
    np.testing.assert_allclose(
        spectra.transfer_magnitude(p, theta, Discretization(conj_sym=conj_sym), discrete=True),
        np.abs(np.fft.rfft(y, axis=0)),
        rtol=1e-3,
        atol=1e-4,
    )


def _fake_layer(seed):
    rng = np.random.default_rng(seed)
    return {
        "Lambda_re": -rng.uniform(0.1, 1.0, 4),
        "Lambda_im": rng.normal(size=4),
        "B": rng.normal(size=(4, 2, 2)),
        "C": rng.normal(size=(1, 2, 4, 2)),
        "D": rng.normal(size=2),
        "log_dt": np.log(np.full(4, 0.1)),
    }


def test_find_ssm_layers_numeric_order():
    params = {
        "encoder": {
            "block10": {"ssm": _fake_layer(1), "norm": {"scale": np.ones(2)}},
            "block2": {"ssm": _fake_layer(2), "out2": {"kernel": np.ones((2, 2))}},
        },
        "decoder": {"kernel": np.ones((2, 3))},
    }
    found = spectra.find_ssm_layers(params)
    assert [path for path, _ in found] == ["encoder/block2/ssm", "encoder/block10/ssm"]
    assert found[0][1] is params["encoder"]["block2"]["ssm"]
    assert spectra.layer_kind(found[0][1]) == "s5"
    summary = spectra.summarize(params, n_freq=32)
    assert set(summary) >= {"freq/layer0/gain_centroid", "freq/layer1/im_abs_max"}


def test_layer_without_d_skip(layer_params):
    p = layer_params("s4d", state_size=8, d_skip=False)
    assert "D" not in p
    assert [path for path, _ in spectra.find_ssm_layers({"ssm": p})] == ["ssm"]
    with_d = dict(p, D=np.zeros(3, np.float32))
    theta = np.linspace(0.0, np.pi, 16)
    np.testing.assert_array_equal(
        spectra.transfer_magnitude(p, theta, discrete=True),
        spectra.transfer_magnitude(with_d, theta, discrete=True),
    )


def test_layer_kind_and_eigenvalues(layer_params):
    p4, p5 = layer_params("s4d", state_size=8), layer_params("s5", state_size=8)
    assert spectra.layer_kind(p4) == "s4d" and spectra.layer_kind(p5) == "s5"
    eig = spectra.eigenvalues(p4)
    assert eig.shape == (3 * 4,) and np.iscomplexobj(eig)
    np.testing.assert_allclose(eig.imag, np.tile(np.pi * np.arange(4), 3), rtol=1e-6)
    assert np.all(eig.real <= -1e-4)


def test_alpha_moves_gain_centroid(layer_params):
    def centroid(alpha):
        p = layer_params("s4d", state_size=16, alpha=alpha, dt_min=0.05, dt_max=0.05)
        return spectra.summarize(p, n_freq=128)

    s1, s8 = centroid(1.0), centroid(8.0)
    assert s8["freq/layer0/im_abs_max"] == pytest.approx(8 * s1["freq/layer0/im_abs_max"], 1e-5)
    # Same key, so B, C, D and Δ are equal: only Im Λ differs, and it must move the centroid up.
    assert s8["freq/gain_centroid"] > s1["freq/gain_centroid"] + 0.1
    assert s1["freq/gain_centroid"] == s1["freq/layer0/gain_centroid"]
    assert 0.0 < s1["freq/gain_centroid"] < np.pi
