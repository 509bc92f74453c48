import os
import shutil
import tempfile

# Tests never talk to wandb's servers and never use more threads than the machine has.
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

# Compile time, not arithmetic, is most of this suite: XLA's optimization passes are skipped
# (tests compare numbers with tolerances and assert no timings; the benchmark's smoke run only
# checks its report's shape), and every compiled program is kept in a compilation cache
# shared by the test processes of this session (the xdist workers and the CLI subprocesses inherit
# these variables from the process that imports this file first), so the many runs of the same
# small configs compile once. Set before jax is imported: jax reads them at import.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
_OWN_CACHE = "JAX_COMPILATION_CACHE_DIR" not in os.environ
if _OWN_CACHE:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="freqssm-jax-cache-")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import jax  # noqa: E402
import pytest  # noqa: E402


def pytest_unconfigure(config):
    # the process that made the cache removes it (xdist workers inherit and leave it alone)
    if _OWN_CACHE and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def x64():
    """Run a test in float64 (scoped: other tests keep JAX's float32 default)."""
    with jax.enable_x64(True):
        yield
