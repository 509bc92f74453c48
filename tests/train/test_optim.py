"""freqssm.train.optim: every parameter lands in its group, groups get their learning rates and
decay, frozen parameters stay, the schedule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from freqssm import data as data_lib
from freqssm.errors import ConfigError
from freqssm.model import models
from freqssm.train import optim
from freqssm.train.optim import OptimConfig

# --- optimizer groups -----------------------------------------------------------------------


def _params(smoke, ssm_kind="s4d", learnable=True, norm="layer"):
    cfg = smoke(
        **{"model.ssm.kind": ssm_kind, "model.ssm.sobolev.learnable": learnable, "model.norm": norm}
    )
    ds = data_lib.build(cfg.data)
    model = models.build(cfg.model, ds.meta)
    v = jax.jit(model.init)(jax.random.key(0), *models.example_inputs(ds.meta, 2))
    return cfg, v["params"]


@pytest.mark.parametrize("ssm_kind", ["s4d", "s5"])
def test_every_parameter_lands_in_its_group(ssm_kind, smoke):
    from flax import traverse_util

    _, params = _params(smoke, ssm_kind)
    flat = traverse_util.flatten_dict(params)
    seen = set()
    for path in flat:
        name, parent = path[-1], "/".join(path[:-1])
        group = optim.label_of(path)
        seen.add(group)
        if name in ("Lambda_re", "Lambda_im", "B"):
            assert group == "ssm" and parent.endswith("ssm"), path
        elif name == "log_dt":
            assert group == "dt" and parent.endswith("ssm"), path
        elif name == "sobolev_beta":
            assert group == "sobolev", path
        elif name in ("bias", "scale"):
            assert group == "no_decay", path
        else:
            assert name in ("kernel", "embedding", "C", "D") and group == "decay", path
    assert seen == set(optim.GROUPS) - {"frozen"}
    sizes = optim.group_sizes(params)
    assert sum(sizes.values()) == models.count_params(params)


def test_groups_get_their_learning_rate_and_decay(smoke):
    _, params = _params(smoke)
    o = OptimConfig(lr=1e-3, ssm_lr=1e-2, sobolev_lr=1e-1, dt_lr=3e-2, weight_decay=0.5)
    tx = optim.build(o, params, total_steps=1000)
    state = tx.init(params)
    # Adam's first step moves each parameter by exactly lr·sign(grad) (plus decay where applied)
    grads = jax.tree.map(jnp.ones_like, params)
    upd, _ = tx.update(grads, state, params)
    from flax import traverse_util

    for path, u in traverse_util.flatten_dict(upd).items():
        p = traverse_util.flatten_dict(params)[path]
        group = optim.label_of(path)
        lr = {"ssm": 1e-2, "dt": 3e-2, "sobolev": 1e-1, "no_decay": 1e-3, "decay": 1e-3}[group]
        expected = -lr * (1.0 + (0.5 * p if group == "decay" else 0.0))
        np.testing.assert_allclose(u, expected, rtol=0, atol=1e-3 * lr, err_msg=str(path))


def test_dt_lr_none_is_the_global_lr_and_decay_scope_all_decays_norms_and_biases(smoke):
    from flax import traverse_util

    _, params = _params(smoke)
    for scope in ("weights", "all"):
        o = OptimConfig(
            lr=1e-3, ssm_lr=1e-2, dt_lr=None, sobolev_lr=0.1, weight_decay=0.5, decay_scope=scope
        )
        tx = optim.build(o, params, total_steps=1000)
        ones = jax.tree.map(jnp.ones_like, params)
        zeros = jax.tree.map(jnp.zeros_like, params)
        moved_lr = traverse_util.flatten_dict(tx.update(ones, tx.init(zeros), zeros)[0])
        moved_wd = traverse_util.flatten_dict(tx.update(zeros, tx.init(ones), ones)[0])
        for path, u in moved_lr.items():
            name = path[-1]
            lr = 1e-2 if name in ("Lambda_re", "Lambda_im", "B") else 1e-3
            lr = 0.1 if name == "sobolev_beta" else lr  # log_dt: the global 1e-3
            np.testing.assert_allclose(u, -lr, rtol=1e-4, err_msg=str(path))
            decayed = name in ("C", "D", "kernel", "embedding") or (
                scope == "all" and name in ("bias", "scale")
            )
            want = -lr * 0.5 if decayed else 0.0
            np.testing.assert_allclose(moved_wd[path], want, rtol=1e-4, err_msg=str(path))
        assert optim.learning_rates(o, 1000, 0)["lr_dt"] == pytest.approx(1e-3)


def test_frozen_parameters_do_not_move_and_unknown_names_fail(smoke):
    from flax import traverse_util

    _, params = _params(smoke)
    # warmup 0 (the default): the first update is not zero for any group
    o = OptimConfig(frozen=("Lambda_re", "log_dt"))
    tx = optim.build(o, params, total_steps=100)
    grads = jax.tree.map(jnp.ones_like, params)
    upd, _ = tx.update(grads, tx.init(params), params)
    moved = {path[-1] for path, u in traverse_util.flatten_dict(upd).items() if np.any(u != 0)}
    assert "Lambda_re" not in moved and "log_dt" not in moved
    assert {"Lambda_im", "B", "C"} <= moved
    sizes = optim.group_sizes(params, frozenset(o.frozen))
    assert sizes["frozen"] > 0
    with pytest.raises(ConfigError, match="Lambda_typo"):
        optim.build(OptimConfig(frozen=("Lambda_typo",)), params, total_steps=100)


def test_a_parameter_without_a_declared_group_is_refused(smoke):
    """A new parameter name must be given its group (freqssm/model/params.py), not fall into
    weight decay; every parameter of the smoke model has one."""
    _, params = _params(smoke)
    optim.labels(params)
    with pytest.raises(KeyError, match=r"block0/ssm/Lambda_new.*PARAM_GROUPS"):
        optim.label_of(("backbone", "block0", "ssm", "Lambda_new"))
    with pytest.raises(KeyError, match="Lambda_new"):
        optim.build(OptimConfig(), {**params, "Lambda_new": params["head"]["bias"]}, 10)


def test_schedule_warmup_then_cosine():
    s = optim.schedule(2.0, OptimConfig(warmup_steps=10, end_lr_factor=0.1), 110)
    assert float(s(0)) == 0.0 and abs(float(s(5)) - 1.0) < 1e-6 and abs(float(s(10)) - 2.0) < 1e-6
    mid = 0.2 + (2.0 - 0.2) * 0.5 * (1 + np.cos(np.pi * 0.5))
    assert abs(float(s(60)) - mid) < 1e-5 and abs(float(s(110)) - 0.2) < 1e-6
