"""Training: ``python -m freqssm.train --config configs/waves.py --workdir runs/waves``.

:func:`train_and_evaluate` reads top to bottom: build the run, restore or initialize its state,
then the loop of jitted calls (one train step each, or ``train.steps_per_call`` of them) with
logging, evaluation and checkpoints at their periods, and the final evaluation. It knows no task:
losses, metrics and model selection come from :mod:`freqssm.train.tasks` via the task's Meta,
devices from :mod:`freqssm.train.parallel`, each call's batches from :mod:`freqssm.train.feed`
(built ahead by a thread), checkpoints, resume policy and stop signals from
:mod:`freqssm.train.checkpoint`, :mod:`freqssm.train.resume` and :mod:`freqssm.train.signals`,
per-step logging from :mod:`freqssm.train.trainlog`, the command line from
:mod:`freqssm.train.cli`.

The run writes to ``<workdir>``: ``config.json``, ``metrics.jsonl``, ``results.json`` (final and
test-at-best-val metrics), ``plots/`` (eigenvalues and |G| at start and end), ``checkpoints/``
and, unless disabled, a wandb run. Rerunning the same command resumes from the newest checkpoint.

Determinism: batch ``s`` is a pure function of (``seed``, ``s``) and so is the dropout key, so a
resumed run repeats exactly what an uninterrupted one would have done.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from freqssm import data as data_lib
from freqssm.analysis import evaluators
from freqssm.data.base import Meta, eval_batches, train_batches
from freqssm.model import models
from freqssm.train import optim, tasks
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.config import RunConfig
from freqssm.train.feed import Feed, call_sizes
from freqssm.train.metric_log import NullLogger, RunLogger, jsonable
from freqssm.train.parallel import DataParallel, is_main_process, maybe_initialize_distributed
from freqssm.train.profiling import ProfileWindow, use_compile_cache
from freqssm.train.provenance import provenance
from freqssm.train.resume import changed_keys, check_resume, finished_results
from freqssm.train.run import Run, TrainState, build_run, init_state, variables_of
from freqssm.train.runfiles import WorkdirLock, atomic_write_text
from freqssm.train.signals import StopSignals
from freqssm.train.trainlog import TrainLog, log_frequency_report

log = logging.getLogger("freqssm")


# --- steps ----------------------------------------------------------------------------------


def make_train_step(
    run: Run, seed: int, skip_nonfinite: bool = False, accumulate_steps: int = 1
) -> Callable:
    """(state, batch) -> (state, metrics); metrics are batch means plus an ``ok`` flag.

    Dropout keys derive from ``seed`` (the run's) and the step; with ``skip_nonfinite`` a
    non-finite update is skipped instead of applied. ``accumulate_steps`` k > 1: the batch
    (B rows) is split into k micro-batches of B/k rows, micro-batch j holding rows j, j + k,
    j + 2k, ... (so each device keeps its own rows), their gradients are averaged and applied
    as one update; batch-norm statistics update once per micro-batch."""
    dropout_key = jax.random.key(seed + 1)
    skip = bool(skip_nonfinite)
    k = int(accumulate_steps)

    def gradients(state: TrainState, batch: dict, rng: jax.Array) -> tuple:
        """(loss, per-example metrics, batch statistics, gradients) of one (micro-)batch."""

        def loss_fn(params):
            out, upd = run.model.apply(
                variables_of(state.replace(params=params), run),
                batch["inputs"],
                batch.get("lengths"),
                train=True,
                rngs={"dropout": rng},
                mutable=["batch_stats"] if run.has_batch_stats else [],
            )
            m = tasks.per_example(run.meta, out, batch["targets"])
            return jnp.mean(m["loss"]), (m, upd)

        (loss, (m, upd)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        return loss, m, upd.get("batch_stats", state.batch_stats), grads

    def accumulated(state: TrainState, batch: dict, rng: jax.Array) -> tuple:
        """:func:`gradients` averaged over k equal micro-batches (a lax.scan: one compiled
        micro-step, whatever k)."""
        micro = jax.tree.map(
            lambda x: jnp.moveaxis(x.reshape((x.shape[0] // k, k, *x.shape[1:])), 1, 0), batch
        )

        def body(carry, xs):
            stats, gsum, lsum = carry
            j, mb = xs
            loss, m, stats, g = gradients(
                state.replace(batch_stats=stats), mb, jax.random.fold_in(rng, j)
            )
            return (stats, jax.tree.map(jnp.add, gsum, g), lsum + loss.astype(lsum.dtype)), m

        zeros = jax.tree.map(jnp.zeros_like, state.params)
        init = (state.batch_stats, zeros, jnp.zeros((), jnp.result_type(float)))
        (stats, gsum, lsum), ms = jax.lax.scan(body, init, (jnp.arange(k), micro))
        m = jax.tree.map(lambda v: v.reshape((-1, *v.shape[2:])), ms)  # all B examples
        return lsum / k, m, stats, jax.tree.map(lambda g: g / k, gsum)

    def step_fn(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng = jax.random.fold_in(dropout_key, state.step)
        if k == 1:
            loss, m, batch_stats, grads = gradients(state, batch, rng)
        else:
            loss, m, batch_stats, grads = accumulated(state, batch, rng)
        gnorm = optax.tree.norm(grads)
        updates, opt_state = run.tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        # finite gradients can still overflow the parameters: check what the update produced
        params_ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(params)]))
        ok = jnp.isfinite(loss) & jnp.isfinite(gnorm) & params_ok
        new = state.replace(
            step=state.step + 1, params=params, batch_stats=batch_stats, opt_state=opt_state
        )
        if skip:  # keep the old parameters and optimizer state, but advance the step
            new = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, state)
            new = new.replace(step=state.step + 1, nonfinite=state.nonfinite + (~ok))
        metrics = {k: jnp.mean(v, axis=0) for k, v in m.items()}
        metrics["grad_norm"] = gnorm
        metrics["ok"] = ok
        return new, metrics

    return step_fn


def make_multi_step(step_fn: Callable) -> Callable:
    """(state, batches stacked to (n, B, ...)) -> (state, metrics stacked to (n, ...)): ``n``
    steps of ``step_fn`` in one call (``lax.scan``), so that the host dispatches once per call."""

    def multi_fn(state: TrainState, batches: dict) -> tuple[TrainState, dict]:
        return jax.lax.scan(step_fn, state, batches)

    return multi_fn


def make_eval_step(run: Run) -> Callable:
    """(state, batch) -> sums of the per-example metrics over the real (mask = 1) rows."""

    def step_fn(state: TrainState, batch: dict) -> dict:
        out = run.model.apply(
            variables_of(state, run), batch["inputs"], batch.get("lengths"), train=False
        )
        m = tasks.per_example(run.meta, out, batch["targets"])
        mask = batch["mask"]
        sums = {
            k: jnp.sum(v * mask.reshape((-1,) + (1,) * (v.ndim - 1)), axis=0) for k, v in m.items()
        }
        sums["count"] = jnp.sum(mask)
        return sums

    return step_fn


def evaluate(
    eval_step: Callable,
    state: TrainState,
    source: Any,
    batch_size: int,
    limit: int | None,
    meta: Meta,
    put: Callable[[dict], dict] = lambda b: b,
    rows: slice = slice(None),
) -> dict:
    """Mean metrics over a split (every example once, or the first ``limit``, the run's
    ``train.eval_limit``); this process builds ``rows`` of each batch."""
    total: dict[str, np.ndarray] = {}
    for batch in eval_batches(source, batch_size, limit, rows):
        sums = jax.device_get(eval_step(state, put(batch)))
        for k, v in sums.items():
            total[k] = total.get(k, 0.0) + np.asarray(v, np.float64)
    n = max(float(total.pop("count", 0.0)), 1.0)
    return tasks.named({k: v / n for k, v in total.items()}, meta)


# --- the run --------------------------------------------------------------------------------


def train_and_evaluate(cfg: RunConfig, workdir: str | Path) -> dict:
    """Train per ``cfg`` in ``workdir`` (resuming if it holds a checkpoint); return results.

    A run that already finished with this config returns its results without writing anything.
    ``cfg`` is validated already (a RunConfig cannot hold an out-of-range value).
    """
    use_compile_cache(cfg.train.compile_cache)  # before anything compiles
    maybe_initialize_distributed()
    workdir = Path(workdir)
    steps = int(cfg.train.steps)
    # one lock per run: the processes of a multi-host run share their workdir, process 0 holds it
    lock = WorkdirLock(workdir) if is_main_process() else contextlib.nullcontext()
    with StopSignals() as stop, lock, contextlib.ExitStack() as cleanup:
        check_resume(workdir, cfg)
        done = finished_results(workdir, cfg)
        if done is not None:
            log.info("%s already finished its %d steps with this config", workdir, steps)
            return {**done, "already_finished": True}
        return _train(cfg, workdir, steps, stop, cleanup)


def _train(
    cfg: RunConfig,
    workdir: Path,
    steps: int,
    stop: StopSignals,
    cleanup: contextlib.ExitStack,
) -> dict:
    started = datetime.datetime.now(datetime.UTC)
    dataset = data_lib.build(cfg.data)
    meta = dataset.meta
    run = build_run(cfg, meta)
    dp = DataParallel(int(cfg.data.batch_size))
    state = dp.replicate(init_state(cfg, run))
    n_params = models.count_params(state.params)

    ckpt = Checkpointer(workdir / "checkpoints", keep=cfg.train.keep)
    cleanup.callback(ckpt.close)  # on every exit: waits for the checkpoint being written
    restored = ckpt.restore_latest(state, changed_keys(workdir, cfg))
    best, progress = None, {}
    if restored is not None:
        state, progress = restored
        state, best = dp.replicate(state), progress.get("best")
        log.info("resumed from step %d", int(state.step))
    start = int(state.step)
    # Process 0 writes the run's files, logs and plots; every process trains and checkpoints.
    main = is_main_process()
    if main:  # committed only now that the run has started: a failed start leaves it as it was
        saved_cfg = {**jsonable(cfg.as_dict()), "_provenance": provenance(started)}
        atomic_write_text(workdir / "config.json", json.dumps(saved_cfg, indent=2))
    resume_step = start if restored is not None else None
    logger = (
        RunLogger(workdir, cfg.log.wandb, jsonable(cfg.as_dict()), resume_step)
        if main
        else NullLogger(workdir)
    )
    cleanup.callback(logger.close)
    if restored is None:
        groups = optim.group_sizes(state.params, frozenset(cfg.optim.frozen), cfg.optim.decay_scope)
        logger.log(
            0,
            {
                "params": n_params,
                "devices": jax.device_count(),
                **{f"params/{k}": v for k, v in groups.items()},
            },
        )
    plots = workdir / "plots"
    if cfg.train.analysis and start == 0 and main:
        log_frequency_report(state.params, cfg, meta, plots, "init", logger, 0)

    step_fn = make_train_step(run, cfg.seed, cfg.train.skip_nonfinite, cfg.optim.accumulate_steps)
    train_step = jax.jit(
        step_fn,
        in_shardings=(dp.replicated, dp.batch),
        out_shardings=(dp.replicated, dp.replicated),
        donate_argnums=0,
    )
    train_steps = jax.jit(  # several steps per call (train.steps_per_call)
        make_multi_step(step_fn),
        in_shardings=(dp.replicated, dp.stacked),
        out_shardings=(dp.replicated, dp.replicated),
        donate_argnums=0,
    )
    eval_step = jax.jit(
        make_eval_step(run),
        in_shardings=(dp.replicated, dp.batch),
        out_shardings=dp.replicated,
    )
    t = cfg.train
    sizes = call_sizes(
        start, steps, int(t.steps_per_call), (t.log_every, t.eval_every, t.checkpoint_every)
    )
    batches = train_batches(dataset.train, cfg.data.batch_size, cfg.seed, start, dp.rows)
    feed = Feed(batches, sizes, dp.put_batch, dp.put_stacked, depth=int(t.prefetch))
    cleanup.callback(feed.close)  # on every exit: stops the thread that builds batches ahead
    key = tasks.selection_key(meta)
    # a task without a validation split (LRA Text) reports its test split as val
    val_is_test = dataset.val is dataset.test

    def evaluate_splits() -> tuple[dict, dict]:
        def run_on(source: Any) -> dict:
            batch, limit = cfg.data.batch_size, cfg.train.eval_limit
            return evaluate(eval_step, state, source, batch, limit, meta, dp.put_batch, dp.rows)

        val = run_on(dataset.val)
        return (val, val) if val_is_test else (val, run_on(dataset.test))

    train_log = TrainLog(cfg, meta, logger, start, progress, progress_bar=main)
    profile = ProfileWindow(workdir / "profile", cfg.train.profile if main else 0)
    cleanup.callback(profile.stop)
    val = test = None
    interrupted = None
    cleanup.callback(train_log.close)
    stop.arm()
    step = start
    # Each call runs n steps; logging, evaluation, checkpoints and signals come between calls.
    for n, batch in feed:
        if n == 1:
            state, metrics = train_step(state, batch)
            train_log.add(metrics)
        else:
            state, metrics = train_steps(state, batch)
            train_log.add(metrics, n)
        step += n
        profile.after_call(step, state)
        is_eval = step % cfg.train.eval_every == 0 or step == steps
        is_ckpt = step % cfg.train.checkpoint_every == 0 or step == steps
        if step % cfg.train.log_every == 0 or is_eval or is_ckpt:
            train_log.flush(step, state.nonfinite)
        is_best = False
        if is_eval:
            val, test = evaluate_splits()
            if best is None or tasks.better(meta, val[key], best["val"][key]):
                best = {"step": step, "val": val, "test": test}
                is_best = True
            logger.log(
                step,
                {
                    **{f"val/{k}": v for k, v in val.items()},
                    **{f"test/{k}": v for k, v in test.items()},
                    f"best/val_{key}": best["val"][key],
                    f"best/test_{key}": best["test"][key],
                },
            )
        signum = stop.agreed()
        if is_ckpt or is_best or signum:
            # the metrics of steps since the last log step travel with the checkpoint, so
            # a resumed run logs the same records as an uninterrupted one
            ckpt_meta = {"step": step, "best": best, **train_log.carry()}
            ckpt.save(step, state, ckpt_meta, best=is_best)
        if signum:
            interrupted = signum
            break
    if interrupted is not None:
        log.warning(
            "stopped by signal %d at step %d; rerun the same command to resume",
            interrupted,
            int(state.step),
        )
        return {"interrupted": True, "step": int(state.step)}

    if val is None:  # resumed at the very end
        val, test = evaluate_splits()
    results = {
        "step": int(state.step),
        "params": n_params,
        "val": val,
        "test": test,
        "val_is_test": val_is_test,
        "val_split": str(meta.extra.get("val", "the task's validation split")),
        "best": best,
        "nonfinite_skipped": int(state.nonfinite),
    }
    if cfg.train.analysis and main:
        results["frequency"] = log_frequency_report(
            state.params, cfg, meta, plots, "final", logger, steps
        )
    task = evaluators.run(
        cfg.train.evaluator,
        cfg.data,
        cfg.model.ssm,
        _predictor(run, state),
        dataset,
        workdir if main else None,
    )
    if task:
        results["task"] = task
        logger.log(steps, {f"task/{k}": v for k, v in task.items() if isinstance(v, (int, float))})
        logger.log_images(
            steps, {f"task/{k}": v for k, v in task.items() if str(v).endswith(".png")}
        )
    results["_provenance"] = provenance(started)  # this process's wall time, since its start
    if main:
        atomic_write_text(workdir / "results.json", json.dumps(jsonable(results), indent=2))
    logger.summary({"final": results})
    return results


def _predictor(run: Run, state: TrainState) -> Callable[[np.ndarray], np.ndarray]:
    """numpy inputs (B, ...) -> numpy outputs of the trained model in eval mode."""
    variables = variables_of(state, run)
    fn = jax.jit(lambda v, x: run.model.apply(v, x, None, train=False))
    return lambda x: np.asarray(fn(variables, jnp.asarray(x)))
