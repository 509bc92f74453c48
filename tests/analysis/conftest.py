"""Set-up shared by the analysis tests."""

import functools

import jax
import jax.numpy as jnp
import pytest

from freqssm.model.layers import S4D, S5


@functools.cache  # model init dominates these tests' time
def _layer_params(kind, **kw):
    """Initial parameters of an S4D or S5 layer (``kw``: its fields) on (1, 16, 3) inputs."""
    module = {"s4d": S4D, "s5": S5}[kind](**kw)
    return jax.jit(module.init)(jax.random.key(0), jnp.ones((1, 16, 3)))["params"]


@pytest.fixture(scope="session")
def layer_params():
    """``layer_params("s4d" | "s5", **fields)`` -> the layer's initial parameter tree."""
    return _layer_params
