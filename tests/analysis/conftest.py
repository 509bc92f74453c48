"""Set-up shared by the analysis tests."""

import functools

import jax
import jax.numpy as jnp
import pytest

from freqssm.model.layers import S4D, S5


@pytest.fixture(scope="session")
def layer_params(make_layer):
    """``layer_params("s4d" | "s5", **settings)`` -> the layer's initial parameter tree
    (``settings`` as :func:`make_layer` takes them) on (1, 16, 3) inputs."""

    @functools.cache  # model init dominates these tests' time
    def params(kind, **kw):
        module = make_layer({"s4d": S4D, "s5": S5}[kind], **kw)
        return jax.jit(module.init)(jax.random.key(0), jnp.ones((1, 16, 3)))["params"]

    return params
