"""Checkpoints with orbax, and what a run needs around them: resume checks, stop signals, loading.

* :class:`Checkpointer`: the last k steps plus the best one, resuming past corrupt steps;
* :func:`check_resume`: may this config continue the run in this workdir;
* :class:`StopSignals`: SIGTERM/SIGINT as a flag the loop checks between steps;
* :func:`load_run`: a finished or interrupted run from its workdir (newest or best checkpoint).

Layout under ``<workdir>/checkpoints``: ``last/<step>/`` (orbax keeps the newest ``keep``) and
``best/<step>/`` (only the step with the best validation metric). Each step holds ``state`` (the
pytree of params, batch-norm statistics, optimizer state and step) and ``meta`` (JSON: best
metrics so far, the data position, the config fingerprint). Orbax writes a step into a temporary
folder and renames it when complete, so a run killed mid-save leaves no half-written step behind;
a step that is complete but unreadable (disk corruption) is skipped with a warning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

import ml_collections
import orbax.checkpoint as ocp

from freqssm.config import ConfigError

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

    def restore_best(self, abstract_state: Any) -> Any:
        """The state of the best checkpoint (by validation); FileNotFoundError if there is none."""
        steps = sorted(self.best.all_steps())
        if not steps:
            raise FileNotFoundError(f"no best checkpoint in {self.directory / 'best'}")
        args = ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
        return self.best.restore(steps[-1], args=args)["state"]

    def wait(self) -> None:
        """Block until pending asynchronous saves are on disk."""
        self.last.wait_until_finished()
        self.best.wait_until_finished()

    def close(self) -> None:
        self.wait()
        self.last.close()
        self.best.close()


# --- resuming -------------------------------------------------------------------------------

# Keys that may change between a run and its resumption without changing what is computed.
RESUME_SAFE_PREFIXES = ("log.", "train.resume", "train.progress", "train.analysis", "data.root")


def config_diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested config dicts."""
    keys = sorted(set(old) | set(new))
    diff = []
    for k in keys:
        path = f"{prefix}{k}"
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            diff += config_diff(a, b, path + ".")
        elif a != b:
            diff.append(path)
    return diff


def check_resume(workdir: Path, cfg: ml_collections.ConfigDict) -> None:
    """Raise :class:`ConfigError` if ``cfg`` may not continue the run in ``workdir``.

    ``train.resume``: "auto" refuses a run with a different config (but for the keys in
    :data:`RESUME_SAFE_PREFIXES`), "force" allows it, "never" refuses any workdir holding
    checkpoints.
    """
    ckpts = workdir / "checkpoints"
    if cfg.train.resume == "never" and ckpts.is_dir() and any(ckpts.rglob("*")):
        raise ConfigError(
            f"train.resume=never: {workdir} already holds a run's checkpoints; use a new "
            "--workdir, or remove that one to start over"
        )
    path = workdir / "config.json"
    if not path.exists() or cfg.train.resume == "force":
        return
    old = json.loads(path.read_text())
    diff = [
        k
        for k in config_diff(old, json.loads(cfg.to_json()))
        if not k.startswith(RESUME_SAFE_PREFIXES)
    ]
    if diff:
        raise ConfigError(
            f"{workdir} holds a run with a different config (keys: {', '.join(diff)}); use a new "
            "--workdir, or --config.train.resume=force to resume it anyway"
        )


class StopSignals:
    """Turns SIGTERM/SIGINT into a flag checked between steps (checkpoint, then exit)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict = {}

    def __enter__(self) -> StopSignals:
        for s in (signal.SIGTERM, signal.SIGINT):
            # signal() fails outside the main thread (e.g. a test runner thread): no handler then
            with contextlib.suppress(ValueError):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        del frame
        self.signum = signum

    def __exit__(self, *exc: Any) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


# --- loading a run --------------------------------------------------------------------------


def load_run(workdir: str | Path, best: bool = False) -> tuple[Any, Any, Any, dict]:
    """A finished or interrupted run from its workdir: (config, meta, model, variables).

    ``best=True`` loads the checkpoint with the best validation metric instead of the newest.
    Building the task's data set gives its Meta, so the data must be where the run found it.
    """
    from freqssm import data as data_lib
    from freqssm.run import build_run, init_state, variables_of

    workdir = Path(workdir)
    cfg = ml_collections.ConfigDict(json.loads((workdir / "config.json").read_text()))
    run = build_run(cfg, data_lib.build(cfg.data).meta)
    state = init_state(cfg, run)
    ckpt = Checkpointer(workdir / "checkpoints", keep=cfg.train.keep)
    try:
        if best:
            restored = ckpt.restore_best(state)
        else:
            got = ckpt.restore_latest(state)
            if got is None:
                raise FileNotFoundError(f"no checkpoint in {workdir / 'checkpoints'}")
            restored = got[0]
    finally:
        ckpt.close()
    return cfg, run.meta, run.model, variables_of(restored, run)
