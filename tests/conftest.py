import os

# Tests never talk to wandb's servers and never use more threads than the machine has.
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

import jax
import pytest


@pytest.fixture
def x64():
    """Run a test in float64 (scoped: other tests keep JAX's float32 default)."""
    with jax.enable_x64(True):
        yield
