"""freqssm.model.blocks: the residual sequence block (norms, activations, tied dropout, the
authors' GELU and GLU init) around S5 and S4D layers."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.errors import ConfigError
from freqssm.model.blocks import SequenceBlock
from freqssm.model.config import ModelConfig, SobolevConfig, SSMConfig
from freqssm.model.layers import S4D, S5


@pytest.mark.parametrize("activation", ["gelu", "full_glu", "half_glu1", "half_glu2"])
@pytest.mark.parametrize("norm,prenorm", [("batch", True), ("layer", False)])
def test_sequence_block_stack_forward_and_backward(rel_err, activation, norm, prenorm):
    class Stack(nn.Module):
        @nn.compact
        def __call__(self, x, train):
            for i, ssm in enumerate(
                [
                    functools.partial(S5, SSMConfig(kind="s5", state_size=8, init="hippo")),
                    functools.partial(
                        S4D, SSMConfig(kind="s4d", state_size=8, sobolev=SobolevConfig(beta=0.5))
                    ),
                ]
            ):
                config = ModelConfig(
                    d_model=8, norm=norm, prenorm=prenorm, activation=activation, dropout=0.1
                )
                x = SequenceBlock(config, layer=ssm, name=f"block{i}")(x, train)
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
    # eval mode normalizes with the running statistics, not the batch's: an example's output
    # does not depend on the rest of its batch, and moved statistics change it
    y = model.apply(v, x, False)
    assert y.shape == x.shape
    np.testing.assert_allclose(model.apply(v, x[:1], False), y[:1], rtol=1e-5, atol=1e-6)
    if norm == "batch":
        moved = {**v, "batch_stats": upd["batch_stats"]}
        assert rel_err(model.apply(moved, x, False), y) > 1e-3


def test_dropout_is_tied_over_time(jit_init):
    block = SequenceBlock(
        ModelConfig(d_model=16, activation="gelu", dropout=0.5, ssm=SSMConfig(state_size=4))
    )
    x = jax.random.normal(jax.random.key(4), (2, 10, 16))
    v = jit_init(block, x)
    # a dropped (batch, feature) pair is zero at every time step
    y = block.apply(v, x, train=True, rngs={"dropout": jax.random.key(3)})
    dropped = np.asarray(y - x) == 0  # residual removed
    assert np.all(dropped.all(axis=1) | (~dropped).all(axis=1))
    assert dropped.any() and (~dropped).any()


def test_bad_choices_raise():
    # the settings refuse them when they are made, naming the key, before any module exists
    with pytest.raises(ConfigError, match=r"model\.activation='relu'"):
        ModelConfig(activation="relu")
    with pytest.raises(ConfigError, match=r"model\.norm='group'"):
        ModelConfig(norm="group")
    with pytest.raises(ConfigError, match=r"model\.ssm\.init='legt'"):
        SSMConfig(kind="s5", state_size=8, init="legt")
    with pytest.raises(ConfigError, match="divisible"):
        SSMConfig(kind="s5", state_size=8, blocks=3, init="hippo")


class _Identity(nn.Module):
    """A stand-in SSM: the block's input after its norm, unchanged."""

    @nn.compact
    def __call__(self, x, train=False):
        del train
        return x


def test_three_tied_dropouts_sit_before_gelu_after_gelu_and_after_the_glu(jit_init):
    config = ModelConfig(
        d_model=16,
        norm="layer",
        activation="full_glu",
        dropout=0.5,
        dropout_sites=("pre_act", "post_act", "post_glu"),
        gelu="erf",
    )
    block = SequenceBlock(config, layer=_Identity)
    x = jax.random.normal(jax.random.key(4), (3, 10, 16))
    v = jit_init(block, x)
    calls = []

    def record(next_fun, args, kwargs, context):
        out = next_fun(*args, **kwargs)
        if isinstance(context.module, nn.Dropout):
            calls.append((np.asarray(args[0]), np.asarray(out)))
        return out

    with nn.intercept_methods(record):
        y = block.apply(v, x, train=True, rngs={"dropout": jax.random.key(3)})
    assert len(calls) == 3
    p = v["params"]
    z = nn.LayerNorm().apply({"params": p["norm"]}, x)
    np.testing.assert_allclose(calls[0][0], z, rtol=1e-6, atol=1e-6)  # before the GELU
    g = nn.gelu(calls[0][1], approximate=False)
    np.testing.assert_allclose(calls[1][0], g, rtol=1e-6, atol=1e-6)  # after the GELU
    h = calls[1][1]
    dense = lambda q, t: t @ q["kernel"] + q["bias"]  # noqa: E731
    glu = dense(p["out1"], h) * jax.nn.sigmoid(dense(p["out2"], h))
    np.testing.assert_allclose(calls[2][0], glu, rtol=1e-5, atol=1e-6)  # after the GLU
    np.testing.assert_allclose(y, x + calls[2][1], rtol=1e-6, atol=1e-6)
    masks = []
    for inp, out in calls:
        kept = out != 0
        # tied over time: a (batch, feature) pair is kept or dropped at every step
        assert np.all(kept.all(axis=1) | (~kept).all(axis=1))
        np.testing.assert_allclose(out[kept], 2.0 * inp[kept], rtol=1e-6)
        masks.append(kept[:, 0])
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])


def test_exact_gelu_and_torch_glu_init(jit_init, rel_err):
    from scipy.special import erf

    H = 64
    config = ModelConfig(
        d_model=H, norm="layer", activation="full_glu", gelu="erf", glu_init="torch"
    )
    block = SequenceBlock(config, layer=_Identity)
    x = jax.random.normal(jax.random.key(5), (2, 8, H))
    with jax.enable_x64(True):
        x64_ = jnp.asarray(x, jnp.float64)
        b64 = SequenceBlock(config, layer=_Identity, param_dtype=jnp.float64)
        v = jit_init(b64, x64_)
        p = jax.tree.map(np.asarray, v["params"])
        y = np.asarray(b64.apply(v, x64_))
        z = np.asarray(nn.LayerNorm(param_dtype=jnp.float64).apply({"params": p["norm"]}, x64_))
    assert z.dtype == np.float64
    g = 0.5 * z * (1 + erf(z / np.sqrt(2)))
    glu = (g @ p["out1"]["kernel"] + p["out1"]["bias"]) / (
        1 + np.exp(-(g @ p["out2"]["kernel"] + p["out2"]["bias"]))
    )
    assert rel_err(y, np.asarray(x, np.float64) + glu) < 1e-12
    # the tanh approximation is a different function at this tolerance
    g_tanh = np.asarray(nn.gelu(z, approximate=True))
    assert np.max(np.abs(g_tanh - g)) > 1e-4
    # PyTorch's Linear init: kernel and bias U(-1/sqrt(H), 1/sqrt(H))
    v32 = jit_init(block, x)["params"]
    bound = 1 / np.sqrt(H)
    for name in ("out1", "out2"):
        k, b = np.asarray(v32[name]["kernel"]), np.asarray(v32[name]["bias"])
        assert np.abs(k).max() <= bound and np.abs(b).max() <= bound
        np.testing.assert_allclose(k.var(), bound**2 / 3, rtol=0.05)
        assert np.abs(b).max() > bound / 2  # not Flax's zero bias


def test_plain_block_without_norm_or_residual(jit_init):
    config = ModelConfig(d_model=4, norm="none", residual=False, activation="gelu")
    block = SequenceBlock(config, layer=_Identity)
    x = jax.random.normal(jax.random.key(6), (2, 8, 4))
    v = jit_init(block, x)
    assert not v.get("params")  # no norm parameters
    np.testing.assert_allclose(block.apply(v, x), nn.gelu(x), rtol=1e-6)
