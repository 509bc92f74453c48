"""Checkpoints with orbax: :class:`Checkpointer` keeps the last k steps plus the best one and
resumes past corrupt steps. Around it: the resume policy (:mod:`freqssm.train.resume`), stop
signals (:mod:`freqssm.train.signals`) and loading a run (:func:`freqssm.train.run.load_run`).

Layout under ``<workdir>/checkpoints``: ``<step>/``, one orbax manager whose preservation policy
keeps the newest ``keep`` steps and the step with the best validation metric (saved with the
metric ``best_step``; the newest best is the largest). Each step holds ``state`` (the
pytree of params, batch-norm statistics, optimizer state and step) and ``meta`` (JSON: best
metrics so far, the data position, a SHA-256 checksum of the state). Orbax writes a step into a
temporary folder and renames it when complete, so a run killed mid-save leaves no half-written
step behind. On restore, what went wrong decides what happens:

* the saved tree (paths, shapes, dtypes in the step's metadata) differs from the state to
  restore into: :class:`~freqssm.config.ConfigError` naming the first differing paths, before
  any array is read and with nothing touched, whether the config changed
  (``train.resume=force``) or not (a checkpoint written by another version of the model);
* an I/O error (permissions, disk) or no memory: :class:`CheckpointError`, nothing touched;
* anything else (unreadable data, a checksum that does not match: corruption): the step is moved
  to ``corrupt-<step>-<time>/`` and the previous one is tried; when none is usable the run stops
  and says so (it never restarts from step 0 on its own).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from freqssm.errors import CheckpointError, ConfigError, DiskError
from freqssm.train.runfiles import disk_error

log = logging.getLogger(__name__)


# Restore errors that say nothing about the checkpoint itself: stop, touch nothing.
_ENVIRONMENT_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.ENOSPC,
    errno.EIO,
    errno.EMFILE,
    errno.EROFS,
}


def state_checksum(state: Any) -> str:
    """SHA-256 over every leaf of ``state`` (dtype, shape and bytes, in tree order)."""
    h = hashlib.sha256()
    for leaf in jax.tree.leaves(jax.device_get(state)):
        a = np.asarray(leaf)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _key_name(k: Any) -> str:
    for attr in ("key", "name", "idx"):  # DictKey, GetAttrKey, SequenceKey
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _shapes(tree: Any) -> dict[str, tuple[tuple[int, ...], str]]:
    """{dotted path: (shape, dtype name)} of every leaf of ``tree`` (arrays or orbax's
    array metadata)."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {
        ".".join(_key_name(k) for k in path): (tuple(leaf.shape), str(np.dtype(leaf.dtype)))
        for path, leaf in flat
    }


def _fmt(sig: tuple[tuple[int, ...], str]) -> str:
    shape, dtype = sig
    return f"{dtype}{list(shape)}"


def model_difference(saved: dict[str, tuple], wanted: dict[str, tuple]) -> str:
    """'' if the two {name: (shape, dtype)} maps agree, else a short account of what differs
    (the first three differences, in the order of ``wanted``)."""
    out = [
        f"{k} {_fmt(saved[k])} saved, {_fmt(wanted[k])} here"
        for k in wanted
        if k in saved and saved[k] != wanted[k]
    ]
    out += [f"{k} only in the checkpoint" for k in saved if k not in wanted]
    out += [f"{k} only in this config" for k in wanted if k not in saved]
    more = f" (and {len(out) - 3} more)" if len(out) > 3 else ""
    return "; ".join(out[:3]) + more


def _one_line(text: str, limit: int) -> str:
    """``text``'s first line, cut to ``limit`` characters (orbax's errors span many lines)."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _best_metric(metrics: dict) -> float:
    return float(metrics.get("best_step", -1))


class Checkpointer:
    """Save/restore training state: the newest ``keep`` steps and the best one, in one manager."""

    def __init__(self, directory: str | Path, keep: int = 2) -> None:
        self.directory = Path(directory).absolute()
        if (self.directory / "last").is_dir() or (self.directory / "best").is_dir():
            raise CheckpointError(
                f"{self.directory} holds checkpoints in the earlier last/ and best/ layout; move "
                f"them up with `mv {self.directory}/last/* {self.directory}/ && rm -r "
                f"{self.directory}/last {self.directory}/best` (the best step is then only kept "
                "if it is among the newest) and rerun"
            )
        policy = ocp.checkpoint_managers.AnyPreservationPolicy(
            [
                ocp.checkpoint_managers.LatestN(n=keep),
                # A best save carries its step as metric, every other save -1: the newest
                # best has the largest
                ocp.checkpoint_managers.BestN(get_metric_fn=_best_metric, n=1),
            ]
        )
        opts = ocp.CheckpointManagerOptions(
            create=True, preservation_policy=policy, best_fn=_best_metric, best_mode="max"
        )
        self.manager = ocp.CheckpointManager(self.directory, options=opts)

    def save(self, step: int, state: Any, meta: dict, best: bool = False) -> None:
        """Save ``state`` (a pytree) and ``meta`` (JSON-serialisable) at ``step`` (asynchronous);
        ``meta`` gets the state's checksum. ``best``: the step has the best validation metric so
        far, and is kept until a later best replaces it."""
        meta = {**meta, "checksum": state_checksum(state)}
        m = self.manager
        with self._disk_errors():
            # A step can exist already when a run resumed from an older step after finding a
            # newer one unreadable: the recomputed state replaces it.
            if step in m.all_steps():
                m.wait_until_finished()
                m.delete(step)
            args = ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            )
            m.save(step, args=args, metrics={"best_step": step if best else -1}, force=True)

    def steps(self) -> list[int]:
        return sorted(self.manager.all_steps())

    def restore_latest(
        self, abstract_state: Any, changed: Sequence[str] = ()
    ) -> tuple[Any, dict] | None:
        """The newest usable (state, meta), or None if this run has no checkpoint at all.

        ``abstract_state`` is a pytree with the target structure, shapes and dtypes (e.g. the
        freshly initialized state); ``changed``: the config keys that differ from the config
        the checkpoints were written with (:func:`changed_keys`). See the module docstring for
        what each failure does.
        """
        quarantined = sorted(self.directory.glob("corrupt-*"))
        errors = []
        for step in reversed(self.steps()):
            # Refuse a tree that cannot fit before orbax starts reading arrays: a restore that
            # fails midway leaves tensorstore reads pending, which print tracebacks at exit.
            self._check_tree(step, abstract_state, changed)
            try:
                restored = self.manager.restore(
                    step,
                    args=ocp.args.Composite(
                        state=ocp.args.StandardRestore(abstract_state), meta=ocp.args.JsonRestore()
                    ),
                )
            except Exception as e:  # orbax raises many types for unreadable data
                self._classify(step, e, changed)
                reason = f"{type(e).__name__}: {e}"
            else:
                meta = dict(restored["meta"])
                want = meta.get("checksum")
                if want is None or state_checksum(restored["state"]) == want:
                    if errors:  # one line for the whole fallback
                        log.warning(
                            "resumed from step %d of %s; newer checkpoints were unusable and "
                            "moved to corrupt-* (%s)",
                            step,
                            self.directory,
                            "; ".join(errors),
                        )
                    return restored["state"], meta
                reason = "its state does not match the checksum saved with it"
            errors.append(f"step {step}: {_one_line(reason, 120)}")
            self._quarantine(step)
        if errors or quarantined:
            raise CheckpointError(
                f"no usable checkpoint in {self.directory} (unreadable or corrupt: "
                f"{'; '.join(errors + [p.name for p in quarantined])}; kept as corrupt-*): "
                "remove the checkpoints folder to start over, or use a new --workdir"
            )
        return None

    def _check_tree(self, step: int, abstract_state: Any, changed: Sequence[str]) -> None:
        """Raise :class:`~freqssm.config.ConfigError` if step's saved tree (paths, shapes,
        dtypes, read from its metadata) differs from ``abstract_state``'s. Intact data that does
        not fit is never treated as corrupt; unreadable metadata is left to the restore."""
        saved = self._saved_shapes(step)
        if not saved:  # unreadable, or damaged into an empty tree: corruption, for the restore
            return
        diff = model_difference(saved, _shapes({"state": abstract_state}))
        if not diff:
            return
        if changed:
            keys = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
            why = f"changed: {keys}; {diff}"
            fix = "use a new --workdir for the new model"
        else:
            why = f"the config is unchanged, so it was saved by another model version: {diff}"
            fix = "use a new --workdir, or the freqssm version that wrote it to load or finish it"
        raise ConfigError(
            f"checkpoint step {step} in {self.directory} does not restore into this config "
            f"({why}); nothing was changed: {fix}"
        )

    def _classify(self, step: int, e: Exception, changed: Sequence[str]) -> None:
        """Raise for restore errors that are not corruption; return if ``e`` is corruption."""
        if isinstance(e, MemoryError) or (
            isinstance(e, OSError) and e.errno in _ENVIRONMENT_ERRNOS
        ):
            raise CheckpointError(
                f"cannot read checkpoint step {step} in {self.directory}: {e}; "
                "nothing was changed (fix the cause and rerun the same command)"
            ) from e
        if not changed:  # the config it was written with: the checkpoint itself is damaged
            return
        # _check_tree already compared readable metadata, so no shape difference is left to name
        keys = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise ConfigError(
            f"checkpoint step {step} does not restore into this config (changed: {keys}); "
            "nothing was changed: use a new --workdir for the new model"
        ) from e

    def _saved_shapes(self, step: int) -> dict[str, tuple] | None:
        """{name: (shape, dtype)} of the saved state from its metadata (None if unreadable)."""
        from absl import logging as absl_logging

        level = absl_logging.get_verbosity()
        absl_logging.set_verbosity(absl_logging.ERROR)  # orbax warns about a missing file here
        try:
            md = ocp.StandardCheckpointer().metadata(self.directory / str(step) / "state")
            tree = getattr(md, "item_metadata", md)
            return {"state." + k: v for k, v in _shapes(tree).items()}
        except Exception:
            return None
        finally:
            absl_logging.set_verbosity(level)

    def _quarantine(self, step: int) -> None:
        # Move the unreadable step aside (kept for inspection) so the resumed run can save it anew.
        src = self.directory / str(step)
        dst = self.directory / f"corrupt-{step}-{int(time.time())}"
        with contextlib.suppress(OSError):
            src.rename(dst)
        self.manager.reload()

    def best_step(self) -> int | None:
        """The step saved as the best by validation (the newest such save), None if none."""
        step = self.manager.best_step()
        if step is None or _best_metric(self.manager.metrics(step) or {}) < 0:
            return None
        return step

    def restore_best(self, abstract_state: Any) -> Any:
        """The state of the best checkpoint (by validation); FileNotFoundError if there is none."""
        step = self.best_step()
        if step is None:
            raise FileNotFoundError(f"no best checkpoint in {self.directory}")
        self._check_tree(step, abstract_state, ())
        args = ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state))
        return self.manager.restore(step, args=args)["state"]

    def wait(self) -> None:
        """Block until pending asynchronous saves are on disk."""
        with self._disk_errors():
            self.manager.wait_until_finished()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            with self._disk_errors():
                self.manager.close()

    @contextlib.contextmanager
    def _disk_errors(self) -> Any:
        """A full disk, whatever orbax and tensorstore raise for it, as one :class:`DiskError`."""
        try:
            yield
        except Exception as e:
            full = isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)
            if not (full or "No space left on device" in str(e)) or isinstance(e, DiskError):
                raise
            raise disk_error(OSError(errno.ENOSPC, "No space left"), self.directory) from e
