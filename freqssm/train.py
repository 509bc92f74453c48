"""Training entry point: ``python -m freqssm.train --config configs/waves.py --workdir runs/waves``.

Everything is in the config (``--config.model.ssm.alpha=2`` overrides one key). The run writes to
``<workdir>``: ``config.json``, ``metrics.jsonl``, ``results.json`` (final and test-at-best-val
metrics), ``plots/`` (eigenvalues and |G| at start and end), ``checkpoints/`` and, unless
disabled, a wandb run. Rerunning the same command resumes from the newest checkpoint.

Determinism: batch ``s`` is a pure function of (``seed``, ``s``) and so is the dropout key, so a
resumed run repeats exactly what an uninterrupted one would have done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax import struct

from freqssm import data as data_lib
from freqssm import evaluators, models, optim
from freqssm.checkpoint import Checkpointer
from freqssm.config import ConfigError, validate
from freqssm.data.base import DataError, Meta, eval_batches, train_batches
from freqssm.logging import RunLogger

log = logging.getLogger("freqssm")

# Keys that may change between a run and its resumption without changing what is computed.
RESUME_SAFE_PREFIXES = ("log.", "train.resume", "train.progress", "train.analysis", "data.root")


class NonFiniteError(FloatingPointError):
    """The loss or a gradient became NaN/inf."""


@struct.dataclass
class TrainState:
    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    nonfinite: jax.Array  # number of skipped non-finite updates (train.skip_nonfinite)


# --- losses and metrics ---------------------------------------------------------------------


def per_example(meta: Meta, out: jax.Array, targets: jax.Array) -> dict[str, jax.Array]:
    """Per-example loss and metrics, each of shape (B,) (or (B, K) for per-target errors)."""
    if meta.output_kind in ("classification", "retrieval"):
        loss = optax.softmax_cross_entropy_with_integer_labels(out, targets)
        return {"loss": loss, "accuracy": (jnp.argmax(out, -1) == targets).astype(jnp.float32)}
    err = (out - targets) ** 2
    if meta.output_kind == "regression":  # (B, K): keep the per-target errors
        return {
            "loss": jnp.mean(err, -1),
            "mse_per_target": err,
            "mae_per_target": jnp.abs(out - targets),
        }
    return {"loss": jnp.mean(err, axis=tuple(range(1, err.ndim)))}


PER_TARGET = "_per_target"


def per_target(key: str, values: np.ndarray, meta: Meta) -> dict[str, float]:
    """``mse_per_target`` (K,) -> {"mse_<name>": ...} with the task's target names."""
    names = meta.extra.get("names") or [str(i) for i in range(len(values))]
    prefix = key.removesuffix(PER_TARGET)
    return {f"{prefix}_{n}": float(x) for n, x in zip(names, values, strict=True)}


def higher_is_better(meta: Meta) -> bool:
    return meta.output_kind in ("classification", "retrieval")


def selection_key(meta: Meta) -> str:
    return "accuracy" if higher_is_better(meta) else "loss"


# --- steps ----------------------------------------------------------------------------------


def make_train_step(model: Any, tx: optax.GradientTransformation, meta: Meta, cfg: Any) -> Callable:
    """(state, batch) -> (state, metrics); metrics are batch means plus an ``ok`` flag."""
    dropout_key = jax.random.key(cfg.seed + 1)
    has_bn = cfg.model.norm == "batch"
    skip = bool(cfg.train.skip_nonfinite)

    def step_fn(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng = jax.random.fold_in(dropout_key, state.step)

        def loss_fn(params):
            variables = {"params": params}
            if has_bn:
                variables["batch_stats"] = state.batch_stats
            out, upd = model.apply(
                variables,
                batch["inputs"],
                batch.get("lengths"),
                train=True,
                rngs={"dropout": rng},
                mutable=["batch_stats"] if has_bn else [],
            )
            m = per_example(meta, out, batch["targets"])
            return jnp.mean(m["loss"]), (m, upd)

        (loss, (m, upd)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        gnorm = optax.tree.norm(grads)
        ok = jnp.isfinite(loss) & jnp.isfinite(gnorm)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        stats = upd.get("batch_stats", state.batch_stats) if has_bn else state.batch_stats
        new = state.replace(
            step=state.step + 1, params=params, batch_stats=stats, opt_state=opt_state
        )
        if skip:  # keep the old parameters and optimizer state, but advance the step
            new = jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, state)
            new = new.replace(step=state.step + 1, nonfinite=state.nonfinite + (~ok))
        metrics = {k: jnp.mean(v, axis=0) for k, v in m.items()}
        metrics["grad_norm"] = gnorm
        metrics["ok"] = ok
        return new, metrics

    return step_fn


def make_eval_step(model: Any, meta: Meta, cfg: Any) -> Callable:
    """(params, batch_stats, batch) -> sums over the real (mask = 1) rows of the batch."""
    has_bn = cfg.model.norm == "batch"

    def step_fn(params, batch_stats, batch):
        variables = {"params": params}
        if has_bn:
            variables["batch_stats"] = batch_stats
        out = model.apply(variables, batch["inputs"], batch.get("lengths"), train=False)
        m = per_example(meta, out, batch["targets"])
        mask = batch["mask"]
        sums = {
            k: jnp.sum(v * mask.reshape((-1,) + (1,) * (v.ndim - 1)), axis=0) for k, v in m.items()
        }
        sums["count"] = jnp.sum(mask)
        return sums

    return step_fn


class DataParallel:
    """Data parallelism over every device of every process with ``jax.sharding``.

    A 1-D mesh over the axis ``data``: batches are split along their first axis, parameters and
    optimizer state are replicated, and XLA inserts the cross-device reductions (so batch-norm
    statistics and gradients are means over the global batch, exactly as on one device). With
    several processes (``jax.distributed``), each process feeds its own rows of the global batch.
    """

    def __init__(self, global_batch: int) -> None:
        from jax.sharding import NamedSharding, PartitionSpec

        n = jax.device_count()
        if global_batch % n:
            raise ConfigError(
                f"data.batch_size={global_batch}: must be divisible by the {n} devices in use"
            )
        # Auto axes: XLA propagates the shardings (explicit sharding-in-types would demand an
        # out_sharding for every gather, e.g. the embedding lookup).
        self.mesh = jax.make_mesh((n,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
        self.batch = NamedSharding(self.mesh, PartitionSpec("data"))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.rows = slice(
            jax.process_index() * global_batch // jax.process_count(),
            (jax.process_index() + 1) * global_batch // jax.process_count(),
        )

    def put_batch(self, batch: dict) -> dict:
        """Global numpy batch (identical on every process) -> sharded global jax arrays."""
        return {
            k: jax.make_array_from_process_local_data(self.batch, np.asarray(v)[self.rows])
            for k, v in batch.items()
        }

    def replicate(self, tree: Any) -> Any:
        return jax.device_put(tree, self.replicated)


def maybe_initialize_distributed() -> None:
    """Join a multi-process run when the cluster environment asks for it.

    ``jax.distributed.initialize()`` reads the coordinator from the usual variables (SLURM, Open
    MPI, TPU pod metadata, or ``JAX_COORDINATOR_ADDRESS``/``JAX_NUM_PROCESSES``/
    ``JAX_PROCESS_ID``). We only call it when one of those is present, so single-machine runs
    never wait for a coordinator.
    """
    import os

    env = os.environ
    wanted = env.get("FREQSSM_DISTRIBUTED", "auto")
    multi = (
        "JAX_COORDINATOR_ADDRESS" in env
        or int(env.get("SLURM_NTASKS", "1")) > 1
        or int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1
        or "," in env.get("TPU_WORKER_HOSTNAMES", "")
    )
    if wanted == "1" or (wanted == "auto" and multi):
        jax.distributed.initialize()


def evaluate(
    eval_step: Callable,
    state: TrainState,
    source: Any,
    cfg: Any,
    meta: Meta,
    put: Callable[[dict], dict] = lambda b: b,
) -> dict:
    """Mean metrics over a split (every example once, or the first ``train.eval_limit``)."""
    total: dict[str, np.ndarray] = {}
    for batch in eval_batches(source, cfg.data.batch_size, cfg.train.eval_limit):
        sums = jax.device_get(eval_step(state.params, state.batch_stats, put(batch)))
        for k, v in sums.items():
            total[k] = total.get(k, 0.0) + np.asarray(v, np.float64)
    n = max(float(total.pop("count", 0.0)), 1.0)
    out = {}
    for k, v in total.items():
        v = v / n
        if k.endswith(PER_TARGET):
            out.update(per_target(k, v, meta))
        else:
            out[k] = float(v)
    return out


# --- the run --------------------------------------------------------------------------------


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


def _check_resume_config(workdir: Path, cfg: ml_collections.ConfigDict) -> None:
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


class _Stop:
    """Turns SIGTERM/SIGINT into a flag checked between steps (checkpoint, then exit)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old = {}

    def __enter__(self) -> _Stop:
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


def init_state(cfg: Any, model: Any, meta: Meta, tx: optax.GradientTransformation) -> TrainState:
    inputs, lengths = models.example_inputs(meta, batch_size=2)

    @jax.jit
    def init(key):
        variables = model.init({"params": key}, inputs, lengths, train=False)
        params = variables["params"]
        return TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            batch_stats=variables.get("batch_stats", {}),
            opt_state=tx.init(params),
            nonfinite=jnp.zeros((), jnp.int32),
        )

    return init(jax.random.key(cfg.seed))


def train_and_evaluate(cfg: ml_collections.ConfigDict, workdir: str | Path) -> dict:
    """Train per ``cfg`` in ``workdir`` (resuming if it holds a checkpoint); return results."""
    validate(cfg)
    maybe_initialize_distributed()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    _check_resume_config(workdir, cfg)
    (workdir / "config.json").write_text(cfg.to_json(indent=2))

    dataset = data_lib.build(cfg.data)
    meta = dataset.meta
    model = models.build(cfg.model, meta)
    steps = int(cfg.train.steps)
    # The optimizer's structure depends only on parameter names, so build it from a shape-only init.
    shapes = jax.eval_shape(
        lambda k: model.init({"params": k}, *models.example_inputs(meta, 2), train=False),
        jax.random.key(0),
    )["params"]
    tx = optim.build(cfg.optim, shapes, steps)
    dp = DataParallel(int(cfg.data.batch_size))
    state = dp.replicate(init_state(cfg, model, meta, tx))
    n_params = models.count_params(state.params)

    ckpt = Checkpointer(workdir / "checkpoints", keep=cfg.train.keep)
    restored = ckpt.restore_latest(state)
    progress_meta: dict = {"best": None}
    if restored is not None:
        state, progress_meta = restored
        state = dp.replicate(state)
        log.info("resumed from step %d", int(state.step))
    start = int(state.step)
    logger = RunLogger(workdir, cfg, resume_step=start if restored is not None else None)
    if restored is None:
        logger.log(
            0,
            {
                "params": n_params,
                "devices": jax.device_count(),
                **{
                    f"params/{k}": v
                    for k, v in optim.group_sizes(
                        state.params, optim.frozen_names(cfg.optim), optim.decay_scope(cfg.optim)
                    ).items()
                },
            },
        )

    plots = workdir / "plots"
    if cfg.train.analysis and start == 0:
        _frequency_report(state.params, cfg.model.ssm, plots, "init", logger, 0)

    train_step = jax.jit(
        make_train_step(model, tx, meta, cfg),
        in_shardings=(dp.replicated, dp.batch),
        out_shardings=(dp.replicated, dp.replicated),
        donate_argnums=0,
    )
    eval_step = jax.jit(
        make_eval_step(model, meta, cfg),
        in_shardings=(dp.replicated, dp.replicated, dp.batch),
        out_shardings=dp.replicated,
    )
    batches = train_batches(dataset.train, cfg.data.batch_size, cfg.seed, start_step=start)
    key_sel = selection_key(meta)
    better = (lambda a, b: a > b) if higher_is_better(meta) else (lambda a, b: a < b)
    best = progress_meta.get("best")
    pending: list[dict] = []
    t_last, steps_last = time.perf_counter(), start
    val = test = None

    bar = None
    if cfg.train.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc=workdir.name, dynamic_ncols=True)

    def flush_pending(step: int) -> None:
        nonlocal t_last, steps_last
        if not pending:
            return
        host = jax.device_get(pending)
        pending.clear()
        for i, m in enumerate(host):
            if not bool(m["ok"]) and not cfg.train.skip_nonfinite:
                bad = step - len(host) + i + 1
                raise NonFiniteError(
                    f"non-finite loss or gradient at step {bad}; the last good checkpoint is "
                    f"kept (set train.skip_nonfinite=True to skip such updates instead)"
                )
        agg = {}
        for k in host[0]:
            if k == "ok":
                continue
            v = np.mean([np.asarray(m[k], np.float64) for m in host], axis=0)
            if k.endswith(PER_TARGET):
                agg.update({f"train/{n}": x for n, x in per_target(k, v, meta).items()})
            else:
                agg[f"train/{k}"] = float(v)
        now = time.perf_counter()
        agg["train/steps_per_s"] = (step - steps_last) / max(now - t_last, 1e-9)
        agg["train/nonfinite_skipped"] = int(state.nonfinite)
        agg.update(
            {f"train/{k}": v for k, v in optim.learning_rates(cfg.optim, steps, step).items()}
        )
        t_last, steps_last = now, step
        logger.log(step, agg)
        if bar is not None:
            post = {"loss": f"{agg['train/loss']:.4g}"}
            if "train/accuracy" in agg:
                post["acc"] = f"{agg['train/accuracy']:.3f}"
            bar.set_postfix(post)

    val_is_test = dataset.val is dataset.test

    def evaluate_splits() -> tuple[dict, dict]:
        val = evaluate(eval_step, state, dataset.val, cfg, meta, dp.put_batch)
        if val_is_test:
            return val, val
        return val, evaluate(eval_step, state, dataset.test, cfg, meta, dp.put_batch)

    def save(step: int, is_best: bool = False) -> None:
        ckpt.save(step, state, {"step": step, "best": best}, best=is_best)

    interrupted = None
    with _Stop() as stop:
        for step in range(start + 1, steps + 1):
            batch = next(batches)
            state, metrics = train_step(state, dp.put_batch(batch))
            pending.append(metrics)
            if bar is not None:
                bar.update(1)
            is_eval = step % cfg.train.eval_every == 0 or step == steps
            is_ckpt = step % cfg.train.checkpoint_every == 0 or step == steps
            if step % cfg.train.log_every == 0 or is_eval or is_ckpt or stop.signum:
                flush_pending(step)
            is_best = False
            if is_eval:
                val, test = evaluate_splits()
                if best is None or better(val[key_sel], best["val"][key_sel]):
                    best = {"step": step, "val": val, "test": test}
                    is_best = True
                logger.log(
                    step,
                    {
                        **{f"val/{k}": v for k, v in val.items()},
                        **{f"test/{k}": v for k, v in test.items()},
                        f"best/val_{key_sel}": best["val"][key_sel],
                        f"best/test_{key_sel}": best["test"][key_sel],
                    },
                )
            if is_ckpt or is_best or stop.signum:
                save(step, is_best)
            if stop.signum:
                interrupted = stop.signum
                break

    if bar is not None:
        bar.close()
    ckpt.wait()
    if interrupted is not None:
        ckpt.close()
        logger.close()
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
        # a task without a validation split (LRA Text) reports its test split as val
        "val_is_test": val_is_test,
        "val_split": str(meta.extra.get("val", "the task's validation split")),
        "best": best,
        "nonfinite_skipped": int(state.nonfinite),
    }
    if cfg.train.analysis:
        results["frequency"] = _frequency_report(
            state.params, cfg.model.ssm, plots, "final", logger, steps
        )
    task = evaluators.run(cfg, _predictor(model, state, cfg), dataset, workdir)
    if task:
        results["task"] = task
        logger.log(steps, {f"task/{k}": v for k, v in task.items() if isinstance(v, (int, float))})
        logger.log_images(
            steps, {f"task/{k}": v for k, v in task.items() if str(v).endswith(".png")}
        )
    (workdir / "results.json").write_text(json.dumps(_finite(results), indent=2))
    logger.summary({"final": results})
    ckpt.close()
    logger.close()
    return results


def load_run(workdir: str | Path, best: bool = False) -> tuple[Any, Meta, Any, dict]:
    """A finished or interrupted run from its workdir: (config, meta, model, variables).

    ``best=True`` loads the checkpoint with the best validation metric instead of the newest.
    Building the task's data set gives its Meta, so the data must be where the run found it.
    """
    workdir = Path(workdir)
    cfg = ml_collections.ConfigDict(json.loads((workdir / "config.json").read_text()))
    meta = data_lib.build(cfg.data).meta
    model = models.build(cfg.model, meta)
    shapes = jax.eval_shape(
        lambda k: model.init({"params": k}, *models.example_inputs(meta, 2), train=False),
        jax.random.key(0),
    )["params"]
    tx = optim.build(cfg.optim, shapes, int(cfg.train.steps))
    state = init_state(cfg, model, meta, tx)
    ckpt = Checkpointer(workdir / "checkpoints", keep=cfg.train.keep)
    if best:
        steps = sorted(ckpt.best.all_steps())
        if not steps:
            raise FileNotFoundError(f"no best checkpoint in {workdir / 'checkpoints' / 'best'}")
        import orbax.checkpoint as ocp

        restored = ckpt.best.restore(
            steps[-1], args=ocp.args.Composite(state=ocp.args.StandardRestore(state))
        )["state"]
    else:
        got = ckpt.restore_latest(state)
        if got is None:
            raise FileNotFoundError(f"no checkpoint in {workdir / 'checkpoints'}")
        restored = got[0]
    ckpt.close()
    variables = {"params": restored.params}
    if cfg.model.norm == "batch":
        variables["batch_stats"] = restored.batch_stats
    return cfg, meta, model, variables


def _predictor(model: Any, state: TrainState, cfg: Any) -> Callable[[np.ndarray], np.ndarray]:
    """numpy inputs (B, ...) -> numpy outputs of the trained model in eval mode."""
    variables = {"params": state.params}
    if cfg.model.norm == "batch":
        variables["batch_stats"] = state.batch_stats
    fn = jax.jit(lambda v, x: model.apply(v, x, None, train=False))
    return lambda x: np.asarray(fn(variables, jnp.asarray(x)))


def analysis_options(ssm_cfg: Any) -> dict[str, Any]:
    """The run's settings that its frequency analysis needs besides the parameters."""
    return {
        "discretization": ssm_cfg.discretization,
        "step_rescale": float(ssm_cfg.step_rescale),
        "clip_eigs": bool(ssm_cfg.clip_eigs),
        "conj_sym": bool(ssm_cfg.conj_sym),
    }


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    return x


def _frequency_report(
    params: Any, ssm_cfg: Any, out_dir: Path, tag: str, logger: RunLogger, step: int
) -> dict:
    from freqssm import analysis

    rep = analysis.frequency_report(
        jax.device_get(params), out_dir, tag, **analysis_options(ssm_cfg)
    )
    images = {f"plots/{k}_{tag}": v for k, v in rep.items() if k in ("eigs", "transfer")}
    logger.log_images(step, images)
    numbers = {k: float(v) for k, v in rep.items() if k not in ("eigs", "transfer")}
    logger.log(step, {f"{tag}/{k}": v for k, v in numbers.items()})
    return numbers


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    from absl import flags

    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments {argv[1:]}; use --config.key=value overrides")
    if not FLAGS.workdir:
        raise ConfigError("--workdir is required (where checkpoints, logs and plots go)")
    cfg = FLAGS.config
    results = train_and_evaluate(cfg, FLAGS.workdir)
    if results.get("interrupted"):
        return 0
    wd = Path(FLAGS.workdir)
    best = results["best"]
    print(f"done: {results['step']} steps; results in {wd / 'results.json'}")
    print(f"  final val: {_fmt(results['val'])}")
    print(f"  final test: {_fmt(results['test'])}")
    print(f"  test at best val (step {best['step']}): {_fmt(best['test'])}")
    print(
        f"  metrics: {wd / 'metrics.jsonl'}; plots: {wd / 'plots'}; "
        f"checkpoints: {wd / 'checkpoints'}"
    )
    return 0


def _fmt(m: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in m.items())


def run() -> None:
    """Console entry point with one-line errors for bad configs and missing data."""
    from absl import app, flags
    from ml_collections import config_flags

    config_flags.DEFINE_config_file("config", None, "experiment config file (file.py[:variant])")
    flags.DEFINE_string("workdir", None, "output folder; rerun with the same one to resume")
    flags.mark_flag_as_required("config")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def _main(argv):
        from absl import logging as absl_logging

        # orbax and absl are chatty at INFO; keep the console for the progress bar and results
        absl_logging.set_verbosity(absl_logging.WARNING)
        logging.getLogger("freqssm").setLevel(logging.INFO)
        try:
            return main(argv)
        except (ConfigError, DataError, NonFiniteError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    started = []

    def _entry(argv):
        started.append(True)
        return _main(argv)

    try:
        app.run(_entry)
    except (ValueError, KeyError, AttributeError, TypeError) as e:
        if started:  # a genuine error inside training: keep the traceback
            raise
        # a bad --config.* override fails while flags are parsed: one line, no traceback
        msg = str(e).replace("\\n", " ").replace("\n", " ").replace("\\'", "'").strip("'\" ")
        print(f"error: bad command-line override: {msg}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    run()
