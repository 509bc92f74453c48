"""GPU/TPU work aids: a profiler trace of a window of training steps (``train.profile``)
and a persistent compilation cache (``train.compile_cache``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jax

log = logging.getLogger("freqssm")


def use_compile_cache(path: str) -> None:
    """Keep compiled programs in ``path`` across processes (a resumed or repeated run loads them
    instead of compiling). Every program is kept, however fast it compiled and small it is, so
    that CPU runs are cached too. Set before the process compiles anything (the run does it
    first); "" leaves JAX's own settings (e.g. ``JAX_COMPILATION_CACHE_DIR``) alone."""
    if not path:
        return
    Path(path).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


class ProfileWindow:
    """A ``jax.profiler`` trace of ``steps`` training steps into ``out_dir``, started after the
    first call (so compilation stays out of it) and stopped at the first call boundary at or
    past ``steps`` more steps. ``steps`` 0: nothing. Open it with TensorBoard's profile plugin
    or, from ``perfetto_trace.json.gz``, in ui.perfetto.dev."""

    def __init__(self, out_dir: Path, steps: int) -> None:
        self.out_dir, self.steps = Path(out_dir), int(steps)
        self.start: int | None = None
        self.done = self.steps <= 0

    def after_call(self, step: int, state: Any) -> None:
        """Called after each call with the steps reached and the state it returned."""
        if self.done:
            return
        jax.block_until_ready(state)  # the window holds whole steps
        if self.start is None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            jax.profiler.start_trace(str(self.out_dir), create_perfetto_trace=True)
            self.start = step
        elif step - self.start >= self.steps:
            self.stop()
            log.info("profile of steps %d-%d in %s", self.start + 1, step, self.out_dir)

    def stop(self) -> None:
        if self.start is not None and not self.done:
            jax.profiler.stop_trace()
        self.done = True
