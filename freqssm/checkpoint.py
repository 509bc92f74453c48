"""Checkpoints with orbax: the last k steps plus the best one, resuming past corrupt steps.

Layout under ``<workdir>/checkpoints``: ``last/<step>/`` (orbax keeps the newest ``keep``) and
``best/<step>/`` (only the step with the best validation metric). Each step holds ``state`` (the
pytree of params, batch-norm statistics, optimizer state and step) and ``meta`` (JSON: best
metrics so far, the data position, the config fingerprint). Orbax writes a step into a temporary
folder and renames it when complete, so a run killed mid-save leaves no half-written step behind;
a step that is complete but unreadable (disk corruption) is skipped with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import orbax.checkpoint as ocp

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """No readable checkpoint although some exist."""


class Checkpointer:
    """Save/restore training state; ``keep`` = number of recent steps kept."""

    def __init__(self, directory: str | Path, keep: int = 2) -> None:
        self.directory = Path(directory).absolute()
        opts = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True)
        self.last = ocp.CheckpointManager(self.directory / "last", options=opts)
        best_opts = ocp.CheckpointManagerOptions(max_to_keep=1, create=True)
        self.best = ocp.CheckpointManager(self.directory / "best", options=best_opts)

    def save(self, step: int, state: Any, meta: dict, best: bool = False) -> None:
        """Save ``state`` (a pytree) and ``meta`` (JSON-serialisable) at ``step`` (asynchronous)."""
        managers = [self.last, self.best] if best else [self.last]
        for m in managers:
            # A step can exist already when a run resumed from an older step after finding a
            # newer one unreadable: the recomputed state replaces it.
            if step in m.all_steps():
                m.wait_until_finished()
                m.delete(step)
            args = ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            )
            m.save(step, args=args, force=True)

    def steps(self) -> list[int]:
        return sorted(self.last.all_steps())

    def restore_latest(self, abstract_state: Any) -> tuple[Any, dict] | None:
        """The newest readable (state, meta), or None if there is no checkpoint at all.

        ``abstract_state`` is a pytree with the target structure, shapes and dtypes (e.g. the
        freshly initialized state).
        """
        steps = self.steps()
        errors = []
        for step in reversed(steps):
            try:
                restored = self.last.restore(
                    step,
                    args=ocp.args.Composite(
                        state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()
                    ),
                )
                if errors:
                    log.warning("resumed from step %d; newer checkpoints were unreadable", step)
                return restored["state"], dict(restored["meta"])
            except Exception as e:  # orbax raises many types for unreadable data
                msg = f"checkpoint step {step} in {self.directory / 'last'} is unreadable ({e!r})"
                log.warning(msg + "; falling back to the previous one")
                errors.append(msg)
                self._quarantine(step)
        if errors:
            raise CheckpointError("no readable checkpoint: " + "; ".join(errors))
        return None

    def _quarantine(self, step: int) -> None:
        # Move the unreadable step aside (kept for inspection) so the resumed run can save it anew.
        src = self.directory / "last" / str(step)
        dst = self.directory / f"corrupt-{step}-{int(time.time())}"
        with contextlib.suppress(OSError):
            src.rename(dst)
            log.warning("moved the unreadable checkpoint to %s", dst)
        self.last.reload()

    def wait(self) -> None:
        """Block until pending asynchronous saves are on disk."""
        self.last.wait_until_finished()
        self.best.wait_until_finished()

    def close(self) -> None:
        self.wait()
        self.last.close()
        self.best.close()
