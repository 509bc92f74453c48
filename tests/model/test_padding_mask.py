"""``model.mask_padding``: with it, no real position depends on the padding (float64, eval mode).

The authors' blocks zero the SSM layer's input at t >= length after the pre-norm. These tests
check that property on every intermediate output (each block and each SSM layer, whose
bidirectional output holds both directions), on the pooled logits ("last" and "mean" pooling) and
on the two-tower retrieval head, and that without the mask the same comparisons differ.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.data.base import Meta
from freqssm.model import models
from freqssm.model.config import ModelConfig
from freqssm.model.infer import RecurrentModel
from freqssm.settings import from_dict

VOCAB, B, L = 20, 3, 24
LENGTHS = np.array([7, 24, 15])  # one row without padding


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.fixture
def model_config(config_file):
    """``model_config(mask, kind, beta, c)``: the ListOps config's model (the authors' blocks:
    batch norm, bidirectional, strictly anticausal backward half, learnable Sobolev exponent),
    2 layers of width 8."""
    return functools.partial(_model_config, lambda: config_file("lra_listops.py", "smoke").model)


def _model_config(
    listops, mask: bool, kind: str = "s4d", beta: float = 0.0, c: float | None = 50.0
):
    m = listops()
    assert m.mask_padding  # the ListOps config sets it
    m.mask_padding = mask
    m.n_layers, m.d_model = 2, 8
    m.ssm.kind, m.ssm.state_size = kind, 8
    m.ssm.sobolev.beta, m.ssm.sobolev.c = beta, c
    if kind == "s5":  # the S4D-only settings of the ListOps config back to their defaults
        m.ssm.n_ssm = None
        m.ssm.train_b = True
        m.ssm.init = "hippo"
    return m


def typed(m) -> ModelConfig:
    """The edited ``model`` ConfigDict section as the model takes it."""
    return from_dict(ModelConfig, m.to_dict(), "model")


def _tokens(key: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.asarray(jax.random.randint(jax.random.key(key), shape, 3, VOCAB))


def _build(m, output_kind: str = "classification", n_out: int = 10):
    """Model and float64 variables with non-trivial batch-norm running statistics."""
    model = models.build(typed(m), Meta(L, "tokens", VOCAB, output_kind, n_out))
    if output_kind == "retrieval":
        x, lens = _tokens(1, (B, 2, L)), np.stack([LENGTHS, LENGTHS[::-1]], 1)
    else:
        x, lens = _tokens(1, (B, L)), LENGTHS
    v = jax.jit(model.init)(jax.random.key(0), x, lens)
    _, upd = jax.jit(functools.partial(model.apply, train=True, mutable=["batch_stats"]))(
        v, x, lens
    )
    v = {**v, **upd}
    stats = jax.tree.leaves(v["batch_stats"])
    assert any(np.abs(np.asarray(s)).max() > 0.05 for s in stats)  # running stats moved
    return model, jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), v)


def _padded(x: np.ndarray, lengths: np.ndarray, fill: np.ndarray | None, total: int) -> np.ndarray:
    """x's real tokens (t < lengths), then ``fill``'s tokens (or PAD = 0) up to ``total``."""
    out = np.zeros((*x.shape[:-1], total), x.dtype) if fill is None else fill.copy()
    t = np.arange(total)
    real = t[: x.shape[-1]] < lengths[..., None]
    out[..., : x.shape[-1]] = np.where(real, x, out[..., : x.shape[-1]])
    return out


def _outputs(model, v, x, lengths):
    """Logits and every block's and SSM layer's output (B', T, H) in eval mode."""
    fn = jax.jit(
        functools.partial(
            model.apply, train=False, capture_intermediates=True, mutable=["intermediates"]
        )
    )
    logits, state = fn(v, x, lengths)
    inter = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(state["intermediates"])[0]:
        name = "/".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)
        if ("block" in name and leaf.ndim == 3) and "__call__" in name:
            inter[name] = np.asarray(leaf)
    assert sum("ssm" in k for k in inter) == 2 and len(inter) >= 4, sorted(inter)
    return np.asarray(logits), inter


def _real_max_rel(a: dict, b: dict, lengths: np.ndarray) -> float:
    """Largest relative difference over the real positions of every intermediate output."""
    lens = lengths.reshape(-1)
    worst = 0.0
    for k in a:
        T = min(a[k].shape[1], b[k].shape[1])
        keep = np.arange(T)[None, :] < lens[:, None]
        worst = max(worst, rel(a[k][:, :T][keep], b[k][:, :T][keep]))
    return worst


@pytest.mark.parametrize("kind", ["s4d", "s5"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_masked_real_positions_ignore_the_padded_tokens(x64, model_config, kind, pooling):
    m = model_config(True, kind, beta=0.5)
    m.pooling = pooling
    model, v = _build(m)
    x = _tokens(1, (B, L))
    clean = _padded(x, LENGTHS, None, L)
    noisy = _padded(x, LENGTHS, _tokens(7, (B, L)), L)
    assert (clean != noisy).sum() >= 20  # the padded tokens really differ
    lg0, in0 = _outputs(model, v, clean, LENGTHS)
    lg1, in1 = _outputs(model, v, noisy, LENGTHS)
    assert rel(lg1, lg0) < 1e-12
    assert _real_max_rel(in1, in0, LENGTHS) < 1e-12
    # the unmasked model on the same inputs depends on the padding (so the test can fail)
    m.mask_padding = False
    model_off, _ = _build(m)
    lg0, in0 = _outputs(model_off, v, clean, LENGTHS)
    lg1, in1 = _outputs(model_off, v, noisy, LENGTHS)
    assert rel(lg1, lg0) > 1e-3
    assert _real_max_rel(in1, in0, LENGTHS) > 1e-3


@pytest.mark.parametrize("mask", [True, False])
def test_retrieval_masks_each_document(x64, model_config, mask):
    m = model_config(mask, beta=0.5)
    model, v = _build(m, "retrieval", 2)
    lens = np.stack([LENGTHS, LENGTHS[::-1]], 1)  # (B, 2): per document
    x = _tokens(1, (B, 2, L))
    clean = _padded(x, lens, None, L)
    noisy = _padded(x, lens, _tokens(9, (B, 2, L)), L)
    lg0, in0 = _outputs(model, v, clean, lens)
    lg1, in1 = _outputs(model, v, noisy, lens)
    if mask:
        assert rel(lg1, lg0) < 1e-12
        assert _real_max_rel(in1, in0, lens) < 1e-12
    else:
        assert rel(lg1, lg0) > 1e-3
        assert _real_max_rel(in1, in0, lens) > 1e-3


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_doubling_the_padded_length(x64, model_config, pooling):
    """With the mask and no Sobolev filter (beta = 0), real positions are the same at padded
    length L and 2L. A non-zero exponent makes them differ, whatever ``sobolev.c``: the filter
    acts on the whole 2L-point FFT grid, whose samples past the real tokens hold the
    convolution's tail over the padding, and the grid's spacing changes with L. With ``c =
    None`` (c = 2L) the weight of a given frequency stays the same, so the change is smaller
    than with a fixed c, whose weight at that frequency moves with L."""
    x = _tokens(1, (B, L))
    short = _padded(x, LENGTHS, _tokens(7, (B, L)), L)
    long = _padded(x, LENGTHS, _tokens(8, (B, 2 * L)), 2 * L)

    def compare(mask: bool, beta: float, c: float | None) -> tuple[float, float]:
        m = model_config(mask, beta=beta, c=c)
        m.pooling = pooling
        model, v = _build(m)
        long_model = models.build(typed(m), Meta(2 * L, "tokens", VOCAB, "classification", 10))
        lg0, in0 = _outputs(model, v, short, LENGTHS)
        lg1, in1 = _outputs(long_model, v, long, LENGTHS)
        return rel(lg1, lg0), _real_max_rel(in1, in0, LENGTHS)

    assert max(compare(True, 0.0, None)) < 1e-12
    fixed_c, c_2L = compare(True, 0.5, 50.0), compare(True, 0.5, None)
    assert min(c_2L) > 1e-6
    # c = 2L keeps each frequency's weight as L changes: a smaller change than a fixed c
    assert fixed_c[0] > 3 * c_2L[0] and fixed_c[1] > 3 * c_2L[1]
    assert min(compare(False, 0.0, None)) > 1e-3


def test_mask_adds_no_parameter_and_no_compile_per_length(x64, model_config):
    """Same parameter tree with and without the mask; lengths are traced, so batches of other
    lengths reuse the one compiled program."""
    model_on, v_on = _build(model_config(True))
    _, v_off = _build(model_config(False))
    shapes = functools.partial(jax.tree.map, lambda a: (a.shape, a.dtype))
    assert shapes(v_on) == shapes(v_off)
    fn = jax.jit(functools.partial(model_on.apply, train=False))
    x = _tokens(1, (B, L))
    outs = [fn(v_on, x, jnp.asarray(lens)) for lens in (LENGTHS, LENGTHS[::-1], np.full(B, L))]
    assert fn._cache_size() == 1
    # a full-length batch is unchanged by the mask
    fn_off = jax.jit(functools.partial(_build(model_config(False))[0].apply, train=False))
    assert rel(outs[2], fn_off(v_on, x, jnp.full(B, L))) < 1e-12


def test_recurrent_step_is_unaffected(x64, model_config):
    """A causal model with the mask on runs token by token as the full call without padding."""
    m = model_config(True)
    m.ssm.bidirectional = False
    m.ssm.sobolev.learnable = False
    m.pooling = "mean"
    model, v = _build(m)
    x = _tokens(3, (B, L))
    rec = RecurrentModel(typed(m), model.meta, v).run(jnp.asarray(x))
    full = jax.jit(functools.partial(model.apply, train=False))
    for t in (5, L):
        assert rel(rec[:, t - 1], full(v, x[:, :t], jnp.full(B, t))) < 1e-10
