"""Flax layers: independent float64 references (scipy.signal.dlsim), mode equivalences, knobs."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import signal

from freqssm.layers import S4D, S5, SequenceBlock, ssm_system
from freqssm.ssm.sobolev import sobolev_filter


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def init_apply(module, x, **kw):
    v = module.init(jax.random.key(0), x)
    return v, module.apply(v, x, **kw)


def system_of(module, v, H):
    del H
    s = ssm_system(v["params"], module.step_rescale, module.clip_eigs)
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
def test_s5_matches_scipy_simulation(x64, method, bidirectional):
    H, P, L = 3, 8, 48
    u = np.random.default_rng(0).standard_normal((1, L, H))
    m = S5(
        state_size=P,
        discretization=method,
        bidirectional=bidirectional,
        param_dtype=jnp.float64,
        dt_min=0.01,
        dt_max=0.5,
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
def test_s4d_conv_matches_scipy_simulation(x64, bidirectional):
    H, N, L = 2, 8, 64
    u = np.random.default_rng(1).standard_normal((1, L, H))
    m = S4D(
        state_size=N, bidirectional=bidirectional, param_dtype=jnp.float64, dt_min=0.01, dt_max=0.5
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
def test_mode_equivalences(x64, bidirectional, beta):
    x = jnp.asarray(np.random.default_rng(2).standard_normal((2, 33, 4)))
    common = dict(bidirectional=bidirectional, beta=beta, param_dtype=jnp.float64)
    _, ys = init_apply(S5(state_size=8, mode="scan", scan_impl="sequential", **common), x)
    _, yp = init_apply(S5(state_size=8, mode="scan", scan_impl="parallel", **common), x)
    _, yc = init_apply(S5(state_size=8, mode="conv", **common), x)
    assert rel_err(yp, ys) < 1e-10 and rel_err(yc, ys) < 1e-10
    if beta == 0.0:  # S4D filters only in conv mode
        _, kc = init_apply(S4D(state_size=8, mode="conv", **common), x)
        for impl in ("sequential", "parallel"):
            _, ks = init_apply(S4D(state_size=8, mode="scan", scan_impl=impl, **common), x)
            assert rel_err(kc, ks) < 1e-10


def test_conjugate_symmetry_equals_full_state_computation(x64):
    """The stored half with 2 Re(·) equals the explicit full complex state of both conjugates."""
    H, L = 3, 40
    x = np.random.default_rng(3).standard_normal((1, L, H))
    m = S5(state_size=8, param_dtype=jnp.float64)
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
def test_alpha_changes_only_the_imaginary_parts_of_the_layer(cls):
    x = jnp.ones((1, 16, 4))
    v1 = cls(state_size=8, alpha=1.0).init(jax.random.key(0), x)["params"]
    v3 = cls(state_size=8, alpha=3.0).init(jax.random.key(0), x)["params"]
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
def test_sobolev_in_layers(x64, cls):
    x = np.random.default_rng(4).standard_normal((2, 32, 3))
    kw = dict(state_size=8, param_dtype=jnp.float64)
    v, y0 = init_apply(cls(**kw), jnp.asarray(x))  # fixed beta = 0: the filter is skipped
    _, y_learn0 = init_apply(cls(beta_learnable=True, **kw), jnp.asarray(x))
    assert rel_err(y_learn0, y0) < 1e-12
    for beta, c in ((1.0, None), (-1.0, 10.0)):
        _, y1 = init_apply(cls(beta=beta, sobolev_c=c, **kw), jnp.asarray(x))
        if cls is S5:  # the unfiltered SSM path, zero-padded and filtered, plus the D skip
            D = v["params"]["D"]
            ref = sobolev_filter(y0 - D * x, beta, c) + D * x
        else:
            ref = _s4d_fused_reference(system_of(cls(**kw), v, 3), x, beta, c)
        assert rel_err(y1, ref) < 1e-10
        assert rel_err(y1, y0) > 1e-3
    # the learnable exponent receives a gradient
    m = cls(beta_learnable=True, beta=0.5, **kw)
    v = m.init(jax.random.key(0), x)
    g = jax.grad(lambda p: jnp.sum(m.apply({"params": p}, x) ** 2))(v["params"])
    assert g["sobolev_beta"].shape == (3,)
    assert np.all(np.abs(g["sobolev_beta"]) > 0)
    if cls is S4D:
        with pytest.raises(ValueError, match="conv"):
            S4D(mode="scan", beta=1.0, **kw).init(jax.random.key(0), x)


def test_step_rescale_and_clip_eigs(x64):
    x = jnp.asarray(np.random.default_rng(5).standard_normal((1, 20, 3)))
    m = S4D(state_size=8, step_rescale=2.0, param_dtype=jnp.float64)
    v, y2 = init_apply(m, x)
    p = dict(v["params"])
    p["log_dt"] = p["log_dt"] + np.log(2.0)
    y_ref = S4D(state_size=8, param_dtype=jnp.float64).apply({"params": p}, x)
    assert rel_err(y2, y_ref) < 1e-12
    p = dict(v["params"])
    p["Lambda_re"] = jnp.full_like(p["Lambda_re"], 0.5)  # unstable if not clipped
    s = ssm_system(p)
    assert np.all(np.asarray(s["Lambda"].real) == -1e-4)


@pytest.mark.parametrize("cls,mode", [(S5, "scan"), (S5, "conv"), (S4D, "conv"), (S4D, "scan")])
def test_shapes_dtypes_and_jit(cls, mode):
    x = jnp.ones((2, 24, 6), jnp.float32)
    m = cls(
        state_size=8, mode=mode, bidirectional=True, beta_learnable=(cls, mode) != (S4D, "scan")
    )
    v = jax.jit(m.init)(jax.random.key(0), x)
    y = jax.jit(m.apply)(v, x)
    assert y.shape == x.shape and y.dtype == jnp.float32
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(v))
    with pytest.raises(ValueError, match="mode"):
        cls(state_size=8, mode="fft").init(jax.random.key(0), x)


@pytest.mark.parametrize("activation", ["gelu", "full_glu", "half_glu1", "half_glu2"])
@pytest.mark.parametrize("norm,prenorm", [("batch", True), ("layer", False)])
def test_sequence_block_stack_forward_and_backward(activation, norm, prenorm):
    class Stack(nn.Module):
        @nn.compact
        def __call__(self, x, train):
            for i, ssm in enumerate(
                [
                    functools.partial(S5, state_size=8),
                    functools.partial(S4D, state_size=8, beta=0.5),
                ]
            ):
                x = SequenceBlock(
                    ssm=ssm,
                    norm=norm,
                    prenorm=prenorm,
                    activation=activation,
                    dropout=0.1,
                    name=f"block{i}",
                )(x, train)
            return x

    x = jax.random.normal(jax.random.key(1), (4, 16, 8))
    model = Stack()
    v = model.init(jax.random.key(0), x, False)

    @jax.jit
    def loss(params, extra, x):
        y, upd = model.apply(
            {"params": params, **extra},
            x,
            True,
            mutable=list(extra),
            rngs={"dropout": jax.random.key(2)},
        )
        return jnp.mean(y**2), upd

    params = v["params"]
    extra = {k: v[k] for k in v if k != "params"}
    (val, upd), g = jax.value_and_grad(loss, has_aux=True)(params, extra, x)
    assert np.isfinite(val)
    leaves = jax.tree.leaves(g)
    assert all(np.all(np.isfinite(l)) for l in leaves)
    assert sum(float(jnp.sum(jnp.abs(l))) > 0 for l in leaves) >= len(leaves) - 2
    assert ("batch_stats" in upd) == (norm == "batch")
    # eval mode is deterministic and uses running statistics
    y1 = model.apply(v, x, False)
    y2 = model.apply(v, x, False)
    assert np.array_equal(y1, y2) and y1.shape == x.shape


def test_dropout_is_tied_over_time():
    block = SequenceBlock(ssm=functools.partial(S4D, state_size=4), activation="gelu", dropout=0.5)
    x = jax.random.normal(jax.random.key(4), (2, 10, 16))
    v = block.init(jax.random.key(0), x)
    # a dropped (batch, feature) pair is zero at every time step
    y = block.apply(v, x, train=True, rngs={"dropout": jax.random.key(3)})
    dropped = np.asarray(y - x) == 0  # residual removed
    assert np.all(dropped.all(axis=1) | (~dropped).all(axis=1))
    assert dropped.any() and (~dropped).any()


def test_bad_choices_raise():
    x = jnp.ones((1, 8, 4))
    with pytest.raises(ValueError, match="activation"):
        SequenceBlock(ssm=S5, activation="relu").init(jax.random.key(0), x)
    with pytest.raises(ValueError, match="norm"):
        SequenceBlock(ssm=S5, norm="group").init(jax.random.key(0), x)
    with pytest.raises(ValueError, match="init"):
        S5(state_size=8, lambda_init="legt").init(jax.random.key(0), x)
    with pytest.raises(ValueError, match="divisible"):
        S5(state_size=8, blocks=3).init(jax.random.key(0), x)


@pytest.mark.parametrize("cls", [S5, S4D])
def test_without_d_skip_the_layer_is_the_pure_ssm_path(cls):
    x = jax.random.normal(jax.random.key(1), (2, 16, 3))
    v, y = init_apply(cls(state_size=8), x)
    v0 = cls(state_size=8, d_skip=False).init(jax.random.key(0), x)
    assert "D" not in v0["params"]
    params = {k: p for k, p in v["params"].items() if k != "D"}
    y0 = cls(state_size=8, d_skip=False).apply({"params": params}, x)
    assert np.allclose(y0, y - v["params"]["D"] * x, atol=1e-5)
    assert np.all(np.asarray(ssm_system(v0["params"])["D"]) == 0)
