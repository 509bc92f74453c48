"""Recurrent inference equals the full-sequence call (float64)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm.config import base_config
from freqssm.data.base import Meta
from freqssm.model import models
from freqssm.model.blocks import SequenceBlock
from freqssm.model.config import ModelConfig, SobolevConfig, SSMConfig
from freqssm.model.infer import RecurrentModel
from freqssm.model.layers import S4D, S5


@pytest.mark.parametrize("kind", ["s5", "s4d"])
@pytest.mark.parametrize("method", ["zoh", "bilinear"])
def test_layer_steps_equal_full_call(rel_err, x64, kind, method, make_layer):
    cls = S5 if kind == "s5" else S4D
    layer = make_layer(
        cls, state_size=8, discretization=method, step_rescale=1.5, param_dtype=jnp.float64
    )
    x = jax.random.normal(jax.random.key(0), (2, 40, 3), jnp.float64)
    v = jax.jit(layer.init)(jax.random.key(1), x)
    full = layer.apply(v, x)
    state = layer.apply(v, 2, method="initial_state")
    system = layer.apply(v, method="step_system")  # the discrete system, once
    step = jax.jit(layer.step)
    ys = []
    for t in range(x.shape[1]):
        state, y = step(system, state, x[:, t])
        ys.append(y)
    assert rel_err(jnp.stack(ys, 1), full) < 1e-10


def _model(typed, kind, norm, prenorm, activation, output_kind, input_kind, **overrides):
    c = base_config().model
    c.n_layers, c.d_model, c.norm, c.prenorm, c.activation = 2, 8, norm, prenorm, activation
    c.ssm.kind, c.ssm.state_size = kind, 8
    for key, value in overrides.items():
        node, *path = key.split(".")
        target = c[node] if path else c
        target[path[0] if path else node] = value
    c = typed(c)
    in_features = 11 if input_kind == "tokens" else 2
    n_out = 3 if output_kind != "sequence_regression" else 2
    meta = Meta(16, input_kind, in_features, output_kind, n_out)
    model = models.build(c, meta)
    if input_kind == "tokens":
        x = jax.random.randint(jax.random.key(2), (3, 16), 1, in_features)
    else:
        x = jax.random.normal(jax.random.key(2), (3, 16, 2))
    v = jax.jit(model.init)(jax.random.key(0), x)
    if norm == "batch":  # non-trivial running statistics
        train_apply = functools.partial(model.apply, train=True, mutable=["batch_stats"])
        _, upd = jax.jit(train_apply)(v, x)
        v = {**v, **upd}
    return c, meta, model, v, x


@pytest.mark.parametrize(
    "kind,norm,prenorm,activation,output_kind,input_kind",
    [
        ("s5", "layer", True, "half_glu1", "sequence_regression", "real"),
        ("s4d", "batch", False, "full_glu", "classification", "tokens"),
        ("s4d", "layer", True, "half_glu2", "regression", "real"),
        ("s5", "batch", True, "gelu", "classification", "tokens"),
    ],
)
def test_model_runs_token_by_token(
    rel_err, x64, typed, kind, norm, prenorm, activation, output_kind, input_kind
):
    c, meta, model, v, x = _model(typed, kind, norm, prenorm, activation, output_kind, input_kind)
    v64 = jax.tree.map(lambda a: a.astype(jnp.float64), v)
    x64_ = x if input_kind == "tokens" else x.astype(jnp.float64)
    rec = RecurrentModel(c, meta, v64).run(x64_)
    full_call = jax.jit(model.apply)
    if output_kind == "sequence_regression":
        assert rel_err(rec, full_call(v64, x64_)) < 1e-10
    else:  # the pooled output after t tokens equals the full model on the first t tokens
        for t in (5, 16):
            full = full_call(v64, x64_[:, :t])
            assert rel_err(rec[:, t - 1], full) < 1e-10


# The causal part of the authors' LRA settings (bidirectionality and the filter are refused).
AUTHORS = {
    "ssm.real_transform": "exp",
    "ssm.dt_transform": "softplus",
    "ssm.train_b": False,
    "ssm.n_ssm": 2,
    "final_norm": "block",
    "gelu": "erf",
    "embed_init": "normal",
    "glu_init": "torch",
    "dropout_sites": ("pre_act", "post_act", "post_glu"),
}


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_model_with_the_authors_settings_runs_token_by_token(rel_err, x64, typed, pooling):
    c, meta, model, v, x = _model(
        typed,
        "s4d",
        "batch",
        True,
        "full_glu",
        "classification",
        "tokens",
        pooling=pooling,
        **AUTHORS,
    )
    assert "scale" in v["params"]["backbone"]["final_norm"]
    assert "final_norm" in v["batch_stats"]["backbone"]  # a batch norm, as the blocks'
    v64 = jax.tree.map(lambda a: a.astype(jnp.float64), v)
    rec = RecurrentModel(c, meta, v64).run(x)
    for t in (5, 16):
        assert rel_err(rec[:, t - 1], jax.jit(model.apply)(v64, x[:, :t])) < 1e-10


def test_linear_model_and_refusals(rel_err, x64):
    c = ModelConfig(kind="linear", ssm=SSMConfig(d_skip=False))
    meta = Meta(12, "real", 3, "sequence_regression", 3)
    model = models.build(c, meta)
    x = jax.random.normal(jax.random.key(3), (2, 12, 3), jnp.float64)
    v = jax.tree.map(lambda a: a.astype(jnp.float64), jax.jit(model.init)(jax.random.key(0), x))
    assert rel_err(RecurrentModel(c, meta, v).run(x), model.apply(v, x)) < 1e-10
    with pytest.raises(ValueError, match="bidirectional"):
        RecurrentModel(c.replace(ssm=c.ssm.replace(bidirectional=True)), meta, v)
    learnable = c.ssm.replace(sobolev=SobolevConfig(learnable=True))
    with pytest.raises(ValueError, match="Sobolev"):
        RecurrentModel(c.replace(ssm=learnable), meta, v)


@pytest.mark.slow
def test_trained_run_loads_and_runs_recurrently(tmp_path, smoke):
    from freqssm.train.loop import train_and_evaluate
    from freqssm.train.run import load_run

    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    cfg, meta, model, variables = load_run(tmp_path)
    x = jax.random.normal(jax.random.key(0), (2, meta.seq_len, 1))
    full = model.apply(variables, x)
    rec = RecurrentModel(cfg.model, meta, variables).run(x)
    np.testing.assert_allclose(rec[:, -1], full, rtol=1e-3, atol=1e-5)
    _, _, _, best = load_run(tmp_path, best=True)
    assert jax.tree.structure(best) == jax.tree.structure(variables)


@pytest.mark.parametrize(
    "activation,norm,prenorm,glu_init",
    [
        ("full_glu", "layer", True, "torch"),
        ("half_glu2", "batch", False, "lecun"),
        ("gelu", "none", True, "lecun"),
    ],
)
def test_block_steps_equal_full_call(rel_err, x64, activation, norm, prenorm, glu_init):
    ssm = functools.partial(
        S5, SSMConfig(kind="s5", state_size=6, init="hippo"), param_dtype=jnp.float64
    )
    config = ModelConfig(
        d_model=4,
        norm=norm,
        prenorm=prenorm,
        activation=activation,
        glu_init=glu_init,
        dropout=0.3,
        dense_dtype="float32",
    )
    block = SequenceBlock(config, layer=ssm)
    x = jax.random.normal(jax.random.key(4), (2, 24, 4), jnp.float64)
    v = jax.jit(block.init)(jax.random.key(5), x)
    if norm == "batch":  # non-trivial running statistics
        rngs = {"dropout": jax.random.key(6)}
        _, upd = block.apply(v, x * 3.0 + 1.0, train=True, mutable=["batch_stats"], rngs=rngs)
        v = {**v, **upd}
    v = jax.tree.map(lambda a: a.astype(jnp.float64), v)
    state = block.apply(v, 2, method="initial_state")
    system = block.apply(v, method="step_system")
    step = jax.jit(functools.partial(block.apply, method="step"))
    ys = []
    for t in range(x.shape[1]):
        state, y = step(v, system, state, x[:, t])
        ys.append(y)
    assert rel_err(jnp.stack(ys, 1), jax.jit(block.apply)(v, x)) < 1e-10


def _zeros_like_init(module, *args):
    """Variables of ``module``'s shapes without running its initializers (the refusals below
    happen before any parameter value is read)."""
    shapes = jax.eval_shape(module.init, jax.random.key(0), *args)
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def test_non_causal_layers_and_heads_are_refused():
    x = jnp.ones((1, 8, 2))
    for layer, match in [
        (S5(SSMConfig(kind="s5", state_size=4, bidirectional=True, init="hippo")), "bidirectional"),
        (S4D(SSMConfig(kind="s4d", state_size=4, circular=True)), "circular"),
        (S4D(SSMConfig(kind="s4d", state_size=4, sobolev=SobolevConfig(beta=1.0))), "Sobolev"),
    ]:
        v = _zeros_like_init(layer, x)
        with pytest.raises(ValueError, match=match):
            layer.apply(v, 1, method="initial_state")
        with pytest.raises(ValueError, match=match):
            layer.apply(v, method="step_system")
    c = ModelConfig(n_layers=1, d_model=4, ssm=SSMConfig(state_size=4))
    meta = Meta(8, "tokens", 5, "retrieval", 2)
    model = models.build(c, meta)
    v = _zeros_like_init(model, *models.example_inputs(meta))
    with pytest.raises(ValueError, match="retrieval"):
        RecurrentModel(c, meta, v)
