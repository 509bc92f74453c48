"""Run logging: ``<workdir>/metrics.jsonl`` and ``config.json`` always, wandb when enabled.

wandb is optional at run time: if it fails to start or to log, training continues with a warning
and the local files stay complete. On resume the JSONL file is cut back to the restored step, so a
killed-and-resumed run has the same records as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from pathlib import Path
from typing import Any, ClassVar

from freqssm.settings import Settings, require
from freqssm.train.runfiles import atomic_write_text

log = logging.getLogger("freqssm")


def jsonable(x: Any) -> Any:
    """``x`` with non-finite floats as strings and numpy scalars as Python numbers (for JSON)."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "item"):
        return jsonable(x.item())
    return x


def read_jsonl(path: str | Path) -> list[dict]:
    """All records of a metrics.jsonl file (a torn last line from a kill is ignored)."""
    out = []
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


@dataclasses.dataclass(frozen=True)
class WandbConfig(Settings):
    """The wandb run (``log.wandb.*``); metrics.jsonl is written whatever these say."""

    PREFIX: ClassVar[str] = "log.wandb"

    mode: str = "offline"
    """`offline` (no account needed), `online` or `disabled`"""
    project: str = "freqssm"
    """wandb project"""
    group: str = ""
    """wandb group ("": none)"""
    name: str = ""
    """wandb run name ("": the workdir's name)"""
    quiet: bool = True
    """keep wandb's banner off the console (its errors still show)"""
    tags: str = ""
    """comma-separated wandb tags; `scripts/sweep.py` sets `sweep=<root>` and each `key=value`
    of the grid point"""

    def __post_init__(self) -> None:
        require(
            self.mode in ("disabled", "offline", "online"),
            self.key("mode"),
            self.mode,
            "disabled/offline/online",
        )


@dataclasses.dataclass(frozen=True)
class LogConfig(Settings):
    """Where a run's metrics go besides ``<workdir>/metrics.jsonl`` (``log.*``)."""

    PREFIX: ClassVar[str] = "log"

    wandb: WandbConfig = dataclasses.field(default_factory=WandbConfig)
    """the wandb run (``log.wandb.*``)"""


class RunLogger:
    """Writes metrics to JSONL and (optionally) wandb; images only to wandb."""

    def __init__(
        self,
        workdir: str | Path,
        wandb: WandbConfig,
        config: dict[str, Any],
        resume_step: int | None = None,
    ) -> None:
        """``wandb``: the run's ``log.wandb`` settings; ``config``: the run's config as nested
        dicts (shown in wandb)."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.workdir / "metrics.jsonl"
        if resume_step is None:
            atomic_write_text(self.metrics_path, "")
        else:  # drop what was logged after the checkpoint we resume from (atomically)
            kept = [r for r in read_jsonl(self.metrics_path) if r.get("step", 0) <= resume_step]
            atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))
        self._file = self.metrics_path.open("a")
        self.wandb = None
        self._start_wandb(wandb, config, resume_step is not None)
        if resume_step is not None and self.wandb is not None:
            # A killed process loses what wandb had not yet written; metrics.jsonl has every
            # record up to the checkpoint. Sending them again makes this segment's wandb run
            # complete up to its start (charts are keyed by "step", so nothing is out of order).
            self._replay(kept)

    def _start_wandb(self, w: WandbConfig, config: dict[str, Any], resuming: bool) -> None:
        if w.mode == "disabled":
            return
        try:
            import wandb

            run_id_file = self.workdir / "wandb_run_id"
            run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
            self.wandb = wandb.init(
                project=w.project,
                group=w.group or None,
                name=w.name or self.workdir.name,
                mode=w.mode,
                dir=str(self.workdir),
                config=config,
                id=run_id,
                resume="allow" if resuming else None,
                reinit="finish_previous",
                settings=wandb.Settings(silent=w.quiet),
                tags=[t.strip()[:64] for t in w.tags.split(",") if t.strip()],
            )
            # Charts use the training step as x axis. It is logged as a value, not as wandb's
            # own monotonic _step, so a resumed run that logs again from its checkpoint's step
            # is not dropped as "out of order".
            self.wandb.define_metric("step")
            self.wandb.define_metric("*", step_metric="step")
            atomic_write_text(run_id_file, self.wandb.id)
        except Exception as e:  # never let logging stop training
            log.warning("wandb failed to start (%r); continuing with local logs only", e)
            self.wandb = None

    def _replay(self, records: list[dict]) -> None:
        try:
            for rec in records:
                self.wandb.log(rec)
        except Exception as e:
            log.warning("wandb.log failed (%r); continuing with local logs only", e)
            self.wandb = None

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        """Append one record {"step": step, **metrics} (floats) and send it to wandb."""
        rec = jsonable({"step": int(step), **metrics})
        self._file.write(json.dumps(rec) + "\n")
        self._file.flush()
        if self.wandb is not None:
            try:
                self.wandb.log({**metrics, "step": int(step)})
            except Exception as e:
                log.warning("wandb.log failed (%r); continuing with local logs only", e)
                self.wandb = None

    def log_images(self, step: int, images: dict[str, str | os.PathLike]) -> None:
        """Send PNG files to wandb (they are already on disk for local users)."""
        if self.wandb is None:
            return
        try:
            import wandb

            self.wandb.log({**{k: wandb.Image(str(v)) for k, v in images.items()}, "step": step})
        except Exception as e:
            log.warning("wandb image logging failed (%r)", e)

    def summary(self, values: dict[str, Any]) -> None:
        if self.wandb is not None:
            try:
                self.wandb.summary.update(jsonable(values))
            except Exception as e:
                log.warning("wandb summary failed (%r)", e)

    def close(self) -> None:
        self._file.close()
        if self.wandb is not None:
            try:
                self.wandb.finish()
            except Exception as e:
                log.warning("wandb.finish failed (%r)", e)


class NullLogger:
    """The logger of a process other than 0 in a multi-process run: writes nothing, so the run
    has one metrics file and one wandb run (process 0's)."""

    def __init__(self, workdir: str | Path) -> None:
        self.workdir = Path(workdir)
        self.wandb = None

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        del step, metrics

    def log_images(self, step: int, images: dict[str, str | os.PathLike]) -> None:
        del step, images

    def summary(self, values: dict[str, Any]) -> None:
        del values

    def close(self) -> None:
        pass
