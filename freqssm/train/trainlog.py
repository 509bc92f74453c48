"""What the training loop logs: per-step metrics and the frequency reports at start and end.

:class:`TrainLog` keeps a bounded number of dispatched calls in flight, logs the means of the
steps since the last log step, stops the run at non-finite steps (:class:`NonFiniteError`) and
drives the progress bar. :func:`log_frequency_report` writes and logs a run's eigenvalue and |G|
plots and their summary numbers.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from freqssm.data.base import Meta
from freqssm.errors import NonFiniteError
from freqssm.model.config import SSMConfig
from freqssm.train import optim, tasks
from freqssm.train.config import RunConfig
from freqssm.train.metric_log import RunLogger


class TrainLog:
    """The per-step metrics: a bounded number of calls in flight, their means at log steps.

    ``add`` takes a dispatched call's metrics (still on the device: one step's, or ``n`` steps'
    stacked along a leading axis) and then waits until no more than ``train.max_inflight`` calls
    are unfinished, so that a stop signal is honoured within about a call and the progress bar
    and steps/s count finished steps. ``flush`` logs the means of the steps since the last log
    step; it raises :class:`NonFiniteError` at the first non-finite step unless
    ``train.skip_nonfinite``, and then after ``train.max_skipped`` consecutive skipped steps.
    ``carry`` is what a checkpoint keeps of this (the steps not yet logged, one dict per step),
    and ``progress`` (a checkpoint's meta) restores it.
    """

    def __init__(
        self,
        cfg: RunConfig,
        meta: Meta,
        logger: RunLogger,
        start: int,
        progress: dict,
        progress_bar: bool = True,
    ) -> None:
        self.cfg, self.meta, self.logger = cfg, meta, logger
        # (metrics, n): n None for one step's metrics, else n steps' stacked along axis 0
        self.pending: list[tuple[dict, int | None]] = [
            (m, None) for m in progress.get("pending", [])
        ]
        self.in_flight: collections.deque = collections.deque()
        self.skipped_in_a_row = int(progress.get("skipped_in_a_row", 0))
        self.t_last, self.step_last = time.perf_counter(), start
        self.bar = None
        self.lines = False  # progress as one plain line per log step (stderr not a terminal)
        self.name = Path(logger.workdir).name
        if cfg.train.progress and progress_bar:
            if _is_terminal(sys.stderr):
                from tqdm.auto import tqdm

                self.bar = tqdm(
                    total=int(cfg.train.steps),
                    initial=start,
                    desc=self.name,
                    dynamic_ncols=True,
                )
            else:  # a log file: redraws would pile up as one endless line of carriage returns
                self.lines = True

    def add(self, metrics: dict, n: int | None = None) -> None:
        """A dispatched call's metrics: one step's (``n`` None) or ``n`` steps' stacked."""
        self.pending.append((metrics, n))
        self.in_flight.append((metrics["ok"], n or 1))
        while len(self.in_flight) > int(self.cfg.train.max_inflight):
            self._finished(*self.in_flight.popleft())

    def _finished(self, ok: jax.Array, n: int) -> None:
        jax.block_until_ready(ok)
        if self.bar is not None:
            self.bar.update(n)

    def _host_steps(self) -> list[dict]:
        """The pending metrics on the host, one dict per step."""
        host = jax.device_get([m for m, _ in self.pending])
        steps = []
        for m, (_, n) in zip(host, self.pending, strict=True):
            if n is None:
                steps.append(m)
            else:
                steps.extend({k: v[i] for k, v in m.items()} for i in range(n))
        return steps

    def carry(self) -> dict:
        """The host values of the steps not yet logged and the skip counts (for a checkpoint)."""
        pending = [{k: np.asarray(v).tolist() for k, v in m.items()} for m in self._host_steps()]
        return {
            "pending": pending,
            "skipped_in_a_row": self.skipped_in_a_row,
        }

    def flush(self, step: int, nonfinite: jax.Array) -> None:
        """Log the steps since the last flush; ``nonfinite``: the run's skipped-step count."""
        while self.in_flight:
            self._finished(*self.in_flight.popleft())
        if not self.pending:
            return
        host = self._host_steps()
        self.pending = []
        for i, m in enumerate(host):
            bad = step - len(host) + i + 1
            if bool(m["ok"]):
                self.skipped_in_a_row = 0
                continue
            if not self.cfg.train.skip_nonfinite:
                raise NonFiniteError(
                    f"non-finite loss, gradient or parameters at step {bad}; the last good "
                    "checkpoint is kept (train.skip_nonfinite=True skips such updates instead)"
                )
            self.skipped_in_a_row += 1
            if self.skipped_in_a_row >= int(self.cfg.train.max_skipped):
                raise NonFiniteError(
                    f"{self.skipped_in_a_row} consecutive non-finite steps skipped (the last at "
                    f"step {bad}, train.max_skipped={self.cfg.train.max_skipped}); the last "
                    "good checkpoint is kept: lower the learning rate or check the data"
                )
        means = {
            k: np.mean([np.asarray(m[k], np.float64) for m in host], axis=0)
            for k in host[0]
            if k != "ok"
        }
        agg = tasks.named(means, self.meta, prefix="train/")
        now = time.perf_counter()
        agg["train/steps_per_s"] = (step - self.step_last) / max(now - self.t_last, 1e-9)
        agg["train/nonfinite_skipped"] = int(nonfinite)
        rates = optim.learning_rates(self.cfg.optim, int(self.cfg.train.steps), step)
        agg.update({f"train/{k}": v for k, v in rates.items()})
        self.t_last, self.step_last = now, step
        self.logger.log(step, agg)
        post = {"loss": f"{agg['train/loss']:.4g}"}
        if "train/accuracy" in agg:
            post["acc"] = f"{agg['train/accuracy']:.3f}"
        if self.bar is not None:
            self.bar.set_postfix(post)
        elif self.lines:
            total = int(self.cfg.train.steps)
            vals = ", ".join(f"{k}={v}" for k, v in post.items())
            rate = agg["train/steps_per_s"]
            print(
                f"{self.name}: step {step}/{total} ({100 * step // total}%), {vals}, "
                f"{rate:.3g} steps/s",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def report_options(s: SSMConfig, meta: Meta, run_name: str) -> dict[str, Any]:
    """What a run's frequency report shows besides its parameters: its title (run name and the
    two knobs), the Sobolev filter's (beta, n_fft, c) when it is active, and the task's
    frequencies as fractions of Nyquist where the task has them (waves: f cycles per sequence
    of L samples sit at 2f/L)."""
    beta = float(s.sobolev.beta)
    learn = " (learnable)" if s.sobolev.learnable else ""
    active = s.sobolev.active
    L = int(meta.seq_len)
    n_fft = L if s.circular else 2 * L
    freqs = meta.extra.get("frequencies") or []
    names = meta.extra.get("names") or [f"{f:g}" for f in freqs]
    return {
        "title": f"{run_name}, alpha={float(s.alpha):g}, beta={beta:g}{learn}",
        "sobolev": s.sobolev.filter(n_fft) if active else None,
        "marks": [(2.0 * f / L, str(n)) for f, n in zip(freqs, names, strict=True)],
    }


def log_frequency_report(
    params: Any,
    cfg: RunConfig,
    meta: Meta,
    out_dir: Path,
    tag: str,
    logger: RunLogger,
    step: int,
) -> dict[str, float]:
    """Plot the SSM's eigenvalues and |G| (and the filtered |G| when the Sobolev filter is on) to
    ``out_dir`` as ``*_{tag}.png``, log them and the report's numbers (as ``{tag}/...``) at
    ``step``, and return the numbers."""
    from freqssm.analysis import plots  # matplotlib only for runs that plot

    rep = plots.frequency_report(
        jax.device_get(params),
        out_dir,
        tag,
        **report_options(cfg.model.ssm, meta, Path(logger.workdir).name),
        disc=cfg.model.ssm.sampling,
    )
    images = {f"plots/{k}_{tag}": v for k, v in rep.items() if k in ("eigs", "transfer")}
    logger.log_images(step, images)
    numbers = {k: float(v) for k, v in rep.items() if k not in ("eigs", "transfer")}
    logger.log(step, {f"{tag}/{k}": v for k, v in numbers.items()})
    return numbers
