"""Set-up shared by the model-layer tests."""

import functools

import jax
import pytest


def _jit_init(module, x):
    # jitted: one compiled program per module instead of one per eager op (most of the time here)
    return jax.jit(module.init)(jax.random.key(0), x)


def _init_apply(module, x, **kw):
    v = _jit_init(module, x)
    return v, jax.jit(functools.partial(module.apply, **kw))(v, x)


@pytest.fixture(scope="session")
def jit_init():
    """``jit_init(module, x)`` -> the module's variables, initialized under jit from key 0."""
    return _jit_init


@pytest.fixture(scope="session")
def init_apply():
    """``init_apply(module, x, **apply_kw)`` -> (variables, jitted output on x)."""
    return _init_apply


@pytest.fixture(scope="session")
def typed():
    """``typed(c)``: a ``model`` ConfigDict section (as ``base_config().model``) -> ModelConfig,
    through the same conversion as the command line's."""
    from freqssm.model.config import ModelConfig
    from freqssm.settings import from_dict

    return lambda c: from_dict(ModelConfig, c.to_dict(), "model")
