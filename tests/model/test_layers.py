"""freqssm.model.layers: the S5 and S4D layers against scipy.signal simulations and direct sums in
float64, and the authors' LRA settings."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.model.config import SobolevConfig, SSMConfig
from freqssm.model.layers import S4D, S5
from freqssm.ssm.sobolev import sobolev_filter
from freqssm.ssm.system import ssm_system


def system_of(module, v, H):
    del H
    s = ssm_system(v["params"], module.config.step_rescale, module.config.clip_eigs)
    return jax.tree.map(np.asarray, s)


def mode_response(lam, dt, b_row, c_col, u, method, reverse=False):
    """Output of one conjugate pair (λ, conj λ) simulated by scipy as a real 2-state system.

    b_row (I,) complex, c_col (O,) complex, u (L, I) -> (L, O). Discretized by scipy with this
    mode's own step; our recurrence reads out x_k after u_k, which is scipy's (Ad, Bd, C Ad, C Bd).
    """
    A = np.array([[lam.real, -lam.imag], [lam.imag, lam.real]])
    B = np.stack([b_row.real, b_row.imag])
    C = np.stack([2 * c_col.real, -2 * c_col.imag], axis=1)
    Ad, Bd, *_ = signal.cont2discrete((A, B, C, 0 * C @ B), dt, method=method)
    uu = u[::-1] if reverse else u
    _, y, _ = signal.dlsim((Ad, Bd, C @ Ad, C @ Bd, 1), uu)
    y = y.reshape(len(u), -1)
    return y[::-1] if reverse else y


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_s5_matches_scipy_simulation(init_apply, rel_err, x64, method, bidirectional):
    H, P, L = 3, 8, 48
    u = np.random.default_rng(0).standard_normal((1, L, H))
    m = S5(
        SSMConfig(
            kind="s5",
            state_size=P,
            discretization=method,
            bidirectional=bidirectional,
            dt_min=0.01,
            dt_max=0.5,
            init="hippo",
        ),
        param_dtype=jnp.float64,
    )
    v, y = init_apply(m, jnp.asarray(u))
    s = system_of(m, v, H)
    ref = u[0] * s["D"]
    for p in range(P // 2):
        ref = ref + mode_response(
            s["Lambda"][p], s["dt"][p], s["B"][p], s["C"][0][:, p], u[0], method
        )
        if bidirectional:
            ref = ref + mode_response(
                s["Lambda"][p], s["dt"][p], s["B"][p], s["C"][1][:, p], u[0], method, reverse=True
            )
    assert y.dtype == jnp.float64
    assert rel_err(y[0], ref) < 1e-10


@pytest.mark.parametrize("bidirectional", [False, True])
def test_s4d_conv_matches_scipy_simulation(init_apply, rel_err, x64, bidirectional):
    H, N, L = 2, 8, 64
    u = np.random.default_rng(1).standard_normal((1, L, H))
    m = S4D(
        SSMConfig(kind="s4d", state_size=N, bidirectional=bidirectional, dt_min=0.01, dt_max=0.5),
        param_dtype=jnp.float64,
    )
    v, y = init_apply(m, jnp.asarray(u))
    s = system_of(m, v, H)
    ref = u[0] * s["D"]
    for h in range(H):
        for n in range(N // 2):
            lam, dt, b = s["Lambda"][h, n], s["dt"][h], s["B"][h, n : n + 1]
            for d in range(2 if bidirectional else 1):
                c = s["C"][d, h, n : n + 1]
                ref[:, h] += mode_response(lam, dt, b, c, u[0, :, h : h + 1], "zoh", d == 1)[:, 0]
    assert rel_err(y[0], ref) < 1e-10


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_mode_equivalences(init_apply, rel_err, x64, bidirectional, beta, make_layer):
    x = jnp.asarray(np.random.default_rng(2).standard_normal((2, 33, 4)))
    common = dict(bidirectional=bidirectional, beta=beta, param_dtype=jnp.float64)
    _, ys = init_apply(
        make_layer(S5, state_size=8, mode="scan", scan_impl="sequential", **common), x
    )
    _, yp = init_apply(make_layer(S5, state_size=8, mode="scan", scan_impl="parallel", **common), x)
    _, yc = init_apply(make_layer(S5, state_size=8, mode="conv", **common), x)
    assert rel_err(yp, ys) < 1e-10 and rel_err(yc, ys) < 1e-10
    if beta == 0.0:  # S4D filters only in conv mode
        _, kc = init_apply(make_layer(S4D, state_size=8, mode="conv", **common), x)
        for impl in ("sequential", "parallel"):
            _, ks = init_apply(
                make_layer(S4D, state_size=8, mode="scan", scan_impl=impl, **common), x
            )
            assert rel_err(kc, ks) < 1e-10


def test_conjugate_symmetry_equals_full_state_computation(init_apply, rel_err, x64):
    """The stored half with 2 Re(·) equals the explicit full complex state of both conjugates."""
    H, L = 3, 40
    x = np.random.default_rng(3).standard_normal((1, L, H))
    m = S5(SSMConfig(kind="s5", state_size=8, init="hippo"), param_dtype=jnp.float64)
    v, y = init_apply(m, jnp.asarray(x))
    s = system_of(m, v, H)
    lam = np.concatenate([s["Lambda"], s["Lambda"].conj()])
    dt = np.concatenate([s["dt"], s["dt"]])
    B = np.concatenate([s["B"], s["B"].conj()])
    C = np.concatenate([s["C"][0], s["C"][0].conj()], axis=1)
    lam_bar = np.exp(lam * dt)
    B_bar = ((lam_bar - 1) / lam)[:, None] * B
    state = np.zeros(len(lam), complex)
    out = []
    for k in range(L):
        state = lam_bar * state + B_bar @ x[0, k]
        out.append(C @ state)
    out = np.array(out)
    assert np.max(np.abs(out.imag)) < 1e-10 * np.max(np.abs(out.real))
    assert rel_err(y[0], out.real + s["D"] * x[0]) < 1e-10
    assert s["Lambda"].shape == (4,)  # half of the state size


@pytest.mark.parametrize("cls", [S5, S4D])
def test_alpha_changes_only_the_imaginary_parts_of_the_layer(jit_init, cls, make_layer):
    x = jnp.ones((1, 16, 4))
    v1 = jit_init(make_layer(cls, state_size=8, alpha=1.0), x)["params"]
    v3 = jit_init(make_layer(cls, state_size=8, alpha=3.0), x)["params"]
    for name in v1:
        if name == "Lambda_im":
            assert np.allclose(v3[name], 3.0 * v1[name], rtol=1e-6)
            assert np.any(v1[name] != 0)
        else:
            assert np.array_equal(v1[name], v3[name]), name


def _s4d_fused_reference(s, x, beta, c=None):
    """numpy: full linear convolution with the L-lag kernel, padded to 2L, filtered, truncated."""
    _, L, H = x.shape
    n = 2 * L
    lam_bar = np.exp(s["Lambda"] * s["dt"][:, None])
    cb = s["C"][0] * (lam_bar - 1) / s["Lambda"] * s["B"]
    k = 2 * np.einsum("hn,hnl->hl", cb, lam_bar[..., None] ** np.arange(L)).real
    w = (1 + np.arange(L + 1) / (n if c is None else c)) ** beta
    out = np.zeros(x.shape)
    for b in range(x.shape[0]):
        for h in range(H):
            full = np.convolve(x[b, :, h], k[h])  # length 2L - 1
            out[b, :, h] = np.fft.irfft(np.fft.rfft(full, n) * w, n)[:L]
    return out + s["D"] * x


@pytest.mark.parametrize("cls", [S5, S4D])
def test_sobolev_in_layers(jit_init, init_apply, rel_err, x64, cls, make_layer):
    x = np.random.default_rng(4).standard_normal((2, 32, 3))
    kw = dict(state_size=8, param_dtype=jnp.float64)
    v, y0 = init_apply(
        make_layer(cls, **kw), jnp.asarray(x)
    )  # fixed beta = 0: the filter is skipped
    _, y_learn0 = init_apply(make_layer(cls, beta_learnable=True, **kw), jnp.asarray(x))
    assert rel_err(y_learn0, y0) < 1e-12
    for beta, c in ((1.0, None), (-1.0, 10.0)):
        _, y1 = init_apply(make_layer(cls, beta=beta, sobolev_c=c, **kw), jnp.asarray(x))
        if cls is S5:  # the unfiltered SSM path, zero-padded and filtered, plus the D skip
            D = v["params"]["D"]
            ref = sobolev_filter(y0 - D * x, beta, c) + D * x
        else:
            ref = _s4d_fused_reference(system_of(make_layer(cls, **kw), v, 3), x, beta, c)
        assert rel_err(y1, ref) < 1e-10
        assert rel_err(y1, y0) > 1e-3
    # the learnable exponent receives a gradient
    m = make_layer(cls, beta_learnable=True, beta=0.5, **kw)
    v = jit_init(m, x)
    g = jax.jit(jax.grad(lambda p: jnp.sum(m.apply({"params": p}, x) ** 2)))(v["params"])
    assert g["sobolev_beta"].shape == (3,)
    assert np.all(np.abs(g["sobolev_beta"]) > 0)
    if cls is S4D:
        with pytest.raises(ValueError, match="conv"):
            jit_init(make_layer(S4D, mode="scan", beta=1.0, **kw), x)


def test_step_rescale_and_clip_eigs(init_apply, rel_err, x64):
    x = jnp.asarray(np.random.default_rng(5).standard_normal((1, 20, 3)))
    m = S4D(SSMConfig(kind="s4d", state_size=8, step_rescale=2.0), param_dtype=jnp.float64)
    v, y2 = init_apply(m, x)
    p = dict(v["params"])
    p["log_dt"] = p["log_dt"] + np.log(2.0)
    y_ref = S4D(SSMConfig(kind="s4d", state_size=8), param_dtype=jnp.float64).apply(
        {"params": p}, x
    )
    assert rel_err(y2, y_ref) < 1e-12
    p = dict(v["params"])
    p["Lambda_re"] = jnp.full_like(p["Lambda_re"], 0.5)  # unstable if not clipped
    s = ssm_system(p)
    assert np.all(np.asarray(s["Lambda"].real) == -1e-4)


@pytest.mark.parametrize("cls,mode", [(S5, "scan"), (S5, "conv"), (S4D, "conv"), (S4D, "scan")])
def test_shapes_dtypes_and_jit(jit_init, cls, mode, make_layer):
    x = jnp.ones((2, 24, 6), jnp.float32)
    m = make_layer(
        cls,
        state_size=8,
        mode=mode,
        bidirectional=True,
        beta_learnable=(cls, mode) != (S4D, "scan"),
    )
    v = jax.jit(m.init)(jax.random.key(0), x)
    y = jax.jit(m.apply)(v, x)
    assert y.shape == x.shape and y.dtype == jnp.float32
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(v))
    with pytest.raises(ValueError, match="mode"):
        jit_init(make_layer(cls, state_size=8, mode="fft"), x)


@pytest.mark.parametrize("cls", [S5, S4D])
def test_without_d_skip_the_layer_is_the_pure_ssm_path(jit_init, init_apply, cls, make_layer):
    x = jax.random.normal(jax.random.key(1), (2, 16, 3))
    v, y = init_apply(make_layer(cls, state_size=8), x)
    v0 = jit_init(make_layer(cls, state_size=8, d_skip=False), x)
    assert "D" not in v0["params"]
    params = {k: p for k, p in v["params"].items() if k != "D"}
    y0 = make_layer(cls, state_size=8, d_skip=False).apply({"params": params}, x)
    assert np.allclose(y0, y - v["params"]["D"] * x, atol=1e-5)
    assert np.all(np.asarray(ssm_system(v0["params"])["D"]) == 0)


# ------------------------------------------------------------------ the authors' LRA settings


def _bidirectional_reference(K_fwd, K_bwd, D, u, strict):
    """Direct double sum: y_t = Σ_{s<=t} K_f[t-s] u_s + Σ_{s>t} K_b[s-t-1] u_s + D u_t (strict),
    or Σ_{s>=t} K_b[s-t] u_s for the backward half (inclusive). K: (L, H_out, H_in)."""
    _, L, _ = u.shape
    y = np.einsum("oi,bli->blo", np.diag(D) if D.ndim == 1 else D, u)
    for t in range(L):
        for s in range(L):
            if s <= t:
                y[:, t] += np.einsum("oi,bi->bo", K_fwd[t - s], u[:, s])
            if strict and s > t:
                y[:, t] += np.einsum("oi,bi->bo", K_bwd[s - t - 1], u[:, s])
            if not strict and s >= t:
                y[:, t] += np.einsum("oi,bi->bo", K_bwd[s - t], u[:, s])
    return y


def _kernels(s, L, kind):
    """Per-lag kernels (L, H, H) of both directions from the discrete modes, float64."""
    if kind == "s5":
        lam_bar = np.exp(s["Lambda"] * s["dt"])
        B_bar = ((lam_bar - 1) / s["Lambda"])[:, None] * s["B"]  # (P, H)
        pw = lam_bar[None, :] ** np.arange(L)[:, None]  # (L, P)
        return [2 * np.einsum("op,lp,pi->loi", s["C"][d], pw, B_bar).real for d in range(2)]
    lam_bar = np.exp(s["Lambda"] * s["dt"][:, None])  # (H, N)
    cb = s["C"] * (lam_bar - 1) / s["Lambda"] * s["B"]  # (2, H, N)
    k = 2 * np.einsum("dhn,hnl->dlh", cb, lam_bar[..., None] ** np.arange(L)).real
    return [np.einsum("lh,hg->lhg", k[d], np.eye(k.shape[-1])) for d in range(2)]


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("cls,mode", [(S4D, "conv"), (S4D, "scan"), (S5, "scan"), (S5, "conv")])
def test_bidirectional_kernel_equals_direct_double_sum(
    init_apply, rel_err, x64, cls, mode, strict, make_layer
):
    H, L = 3, 17
    u = np.random.default_rng(11).standard_normal((2, L, H))
    m = make_layer(
        cls,
        state_size=8,
        mode=mode,
        bidirectional=True,
        backward_strict=strict,
        dt_min=0.05,
        dt_max=0.5,
        param_dtype=jnp.float64,
    )
    v, y = init_apply(m, jnp.asarray(u))
    s = system_of(m, v, H)
    K_fwd, K_bwd = _kernels(s, L, "s5" if cls is S5 else "s4d")
    ref = _bidirectional_reference(K_fwd, K_bwd, s["D"], u, strict)
    assert rel_err(y, ref) < 1e-10
    # and the other convention is a different function (the test can tell them apart)
    assert rel_err(ref, _bidirectional_reference(K_fwd, K_bwd, s["D"], u, not strict)) > 1e-3


def test_strict_two_sided_kernel_matches_the_authors_padding(x64):
    """strict: [K_f, flip(K_b)] on the 2L grid, i.e. pad(k0, (0, L)) + pad(k1.flip(-1), (L, 0))."""
    from freqssm.ssm.kernel import two_sided_kernel

    rng = np.random.default_rng(12)
    kf, kb = rng.standard_normal((2, 6, 3))
    k = np.asarray(two_sided_kernel(jnp.asarray(kf), jnp.asarray(kb), strict=True))
    ref = np.pad(kf, ((0, 6), (0, 0))) + np.pad(kb[::-1], ((6, 0), (0, 0)))
    assert np.array_equal(k, ref)


def test_shared_eigenvalues_equal_a_per_feature_layer_with_copies(
    jit_init, rel_err, x64, make_layer
):
    H, G, L = 6, 2, 24
    u = jnp.asarray(np.random.default_rng(13).standard_normal((2, L, H)))
    kw = dict(state_size=8, bidirectional=True, beta=0.5, param_dtype=jnp.float64)
    shared = make_layer(S4D, n_ssm=G, **kw)
    v = jit_init(shared, u)["params"]
    assert v["Lambda_im"].shape == (G, 4) and v["Lambda_re"].shape == (G, 4)
    rng = np.random.default_rng(14)  # make the two sets differ, so the feature -> set map matters
    p = dict(v)
    p["Lambda_re"] = -rng.uniform(0.1, 1.0, (G, 4))
    p["Lambda_im"] = rng.uniform(0.0, 20.0, (G, 4))
    y = shared.apply({"params": p}, u)
    per_feature = dict(p)
    for name in ("Lambda_re", "Lambda_im"):  # feature h uses set h mod G (S4's repeat)
        per_feature[name] = np.stack([p[name][h % G] for h in range(H)])
    y_ref = make_layer(S4D, **kw).apply({"params": per_feature}, u)
    assert rel_err(y, y_ref) < 1e-12
    wrong = dict(per_feature)  # the other natural layout (blocks of H/G features) differs
    for name in ("Lambda_re", "Lambda_im"):
        wrong[name] = np.stack([p[name][h // (H // G)] for h in range(H)])
    assert rel_err(make_layer(S4D, **kw).apply({"params": wrong}, u), y_ref) > 1e-3
    with pytest.raises(ValueError, match="n_ssm"):
        jit_init(make_layer(S4D, n_ssm=4, **kw), u)


@pytest.mark.parametrize("cls", [S5, S4D])
def test_exp_and_softplus_parameterizations_equal_the_current_ones(
    jit_init, rel_err, x64, cls, make_layer
):
    x = jnp.asarray(np.random.default_rng(15).standard_normal((2, 20, 3)))
    kw = dict(state_size=8, bidirectional=True, param_dtype=jnp.float64)
    v = jit_init(make_layer(cls, **kw), x)
    new = make_layer(cls, real_transform="exp", dt_transform="softplus", **kw)
    p_new = jit_init(new, x)["params"]
    assert {"Lambda_re_log", "dt_raw"} <= set(p_new) and not {"Lambda_re", "log_dt"} & set(p_new)
    p = dict(v["params"])
    rng = np.random.default_rng(16)  # values away from the init, at equal Re Λ and Δ
    p["Lambda_re"] = -rng.uniform(0.05, 2.0, p["Lambda_re"].shape)
    p["log_dt"] = np.log(rng.uniform(1e-3, 0.3, p["log_dt"].shape))
    q = {k: w for k, w in p.items() if k not in ("Lambda_re", "log_dt")}
    q["Lambda_re_log"] = np.log(-p["Lambda_re"])
    dt = np.exp(p["log_dt"])
    q["dt_raw"] = np.log(np.expm1(dt))  # softplus⁻¹
    y_old = make_layer(cls, **kw).apply({"params": p}, x)
    y_new = new.apply({"params": q}, x)
    assert rel_err(y_new, y_old) < 1e-12
    # at initialization both parameterizations start from the same system
    s_old, s_new = system_of(make_layer(cls, **kw), v, 3), ssm_system(p_new)
    assert rel_err(s_new["Lambda"], s_old["Lambda"]) < 1e-6
    assert np.all(np.asarray(s_new["dt"]) >= 1e-3 * (1 - 1e-9))
    assert np.all(np.asarray(s_new["dt"]) <= 1e-1 * (1 + 1e-9))


def test_s4d_without_b_parameter_has_b_fixed_at_one(jit_init, rel_err, x64, make_layer):
    x = jnp.asarray(np.random.default_rng(17).standard_normal((2, 20, 3)))
    kw = dict(state_size=8, bidirectional=True, param_dtype=jnp.float64)
    no_b = make_layer(S4D, train_b=False, **kw)
    p = jit_init(no_b, x)["params"]
    assert "B" not in p
    with_b = dict(p)
    with_b["B"] = np.stack([np.ones((3, 4)), np.zeros((3, 4))], axis=-1)
    assert (
        rel_err(no_b.apply({"params": p}, x), make_layer(S4D, **kw).apply({"params": with_b}, x))
        < 1e-14
    )
    with_b["B"] = with_b["B"] * 2.0  # a trained B = 2 doubles the SSM path (D u aside)
    Du = p["D"] * x
    y2 = make_layer(S4D, **kw).apply({"params": with_b}, x) - Du
    assert rel_err(y2, 2.0 * (no_b.apply({"params": p}, x) - Du)) < 1e-12


def test_s5_b_and_c_init_variances():
    from freqssm.ssm.init import eigensystem, s5_BC

    P, H = 256, 64
    _, V = eigensystem("hippo", P)
    key = jax.random.key(0)
    mean_sq = {}
    for b_init in ("fan_in_h", "fan_in_p"):
        for c_init in ("fan_in_p", "fan_in_ph"):
            B, C = s5_BC(key, V, P // 2, H, 1, jnp.float32, b_init, c_init)
            mean_sq[b_init, c_init] = (np.mean(np.abs(B) ** 2), np.mean(np.abs(C) ** 2))
    # E|B̃|² = 1/H or 1/P; C̃ = C V keeps the per-entry variance: E|C̃|² = 2·var(component)
    for c_init in ("fan_in_p", "fan_in_ph"):
        np.testing.assert_allclose(mean_sq["fan_in_h", c_init][0], 1 / H, rtol=0.05)
        np.testing.assert_allclose(mean_sq["fan_in_p", c_init][0], 1 / P, rtol=0.05)
    np.testing.assert_allclose(mean_sq["fan_in_h", "fan_in_p"][1], 2 / P, rtol=0.05)
    np.testing.assert_allclose(mean_sq["fan_in_h", "fan_in_ph"][1], 2 / (P * H), rtol=0.05)
    with pytest.raises(ValueError, match="b_init"):
        s5_BC(key, V, P // 2, H, 1, jnp.float32, "xavier")


def test_authors_denoising_modes_and_c_scaling(jit_init, x64, make_layer):
    import math

    x = jnp.asarray(np.random.default_rng(18).standard_normal((1, 16, 3)))
    kw = dict(state_size=16, alpha=2.0, param_dtype=jnp.float64)
    plain = jit_init(make_layer(S4D, **kw), x)["params"]
    m = make_layer(S4D, real_init=-3.0, integrator_re=-math.exp(-5), c_imag_scale=1e-3, **kw)
    p = jit_init(m, x)["params"]
    lam = np.asarray(ssm_system(p)["Lambda"])
    np.testing.assert_array_equal(lam[:, 0], -math.exp(-5) + 0j)  # the integrator
    np.testing.assert_array_equal(lam[:, 1:].real, -3.0)
    want = np.broadcast_to(2.0 * np.pi * np.arange(1, 8), lam[:, 1:].shape)
    np.testing.assert_allclose(lam[:, 1:].imag, want, rtol=1e-12)
    # C starts times |Im λ_n| / 1000 (same random draw): mode 0 at zero
    ratio = np.asarray(p["C"]) / np.asarray(plain["C"])
    np.testing.assert_allclose(
        ratio[..., 1:, :],
        np.broadcast_to((2.0 * np.pi * np.arange(1, 8) / 1000)[:, None], ratio[..., 1:, :].shape),
        rtol=1e-12,
    )
    assert np.all(np.asarray(p["C"])[..., 0, :] == 0)
    off = jit_init(
        S4D(SSMConfig(kind="s4d", state_size=16, imag_offset=1.3), param_dtype=jnp.float64), x
    )
    np.testing.assert_allclose(
        off["params"]["Lambda_im"][0], np.pi * (np.arange(8) + 1.3), rtol=1e-12
    )


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_circular_convolution_equals_the_circular_sum(jit_init, init_apply, rel_err, x64, beta):
    H, L, c = 2, 24, 10.0
    u = np.random.default_rng(19).standard_normal((2, L, H))
    m = S4D(
        SSMConfig(
            kind="s4d",
            state_size=8,
            circular=True,
            dt_min=0.05,
            dt_max=0.3,
            sobolev=SobolevConfig(beta=beta, c=c),
        ),
        param_dtype=jnp.float64,
    )
    v, y = init_apply(m, jnp.asarray(u))
    s = system_of(m, v, H)
    lam_bar = np.exp(s["Lambda"] * s["dt"][:, None])
    cb = s["C"][0] * (lam_bar - 1) / s["Lambda"] * s["B"]
    k = 2 * np.einsum("hn,hnl->lh", cb, lam_bar[..., None] ** np.arange(L)).real
    ref = np.zeros_like(u)
    for t in range(L):
        for r in range(L):
            ref[:, t] += k[(t - r) % L] * u[:, r]
    if beta:
        w = (1 + np.arange(L // 2 + 1) / c) ** beta
        ref = np.fft.irfft(np.fft.rfft(ref, axis=1) * w[:, None], n=L, axis=1)
    assert rel_err(y, ref + s["D"] * u) < 1e-10
    with pytest.raises(ValueError, match="circular"):
        jit_init(S4D(SSMConfig(kind="s4d", state_size=8, circular=True, bidirectional=True)), u)
