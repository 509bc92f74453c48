"""Check and time freqssm on whatever accelerator JAX sees, in one command (meant for < 8 min).

``python scripts/gpu_check.py`` (on a GPU or TPU machine) prints and writes to
``results/gpu.md``:

1. the device and the library versions;
2. forward+backward of one layer (batch 16, width 128): S4D (FFT convolution) and S5 with each
   scan (parallel, sequential, chunked) at L = 1024, 4096, 16384 (``scripts/bench.py``'s
   timing: compiled functions, median of repeats after warm-up);
3. each of the six LRA configs at its real batch size on random data of the task's shapes
   (``data.name=synthetic``), through the real training loop (prefetch on) with 1 and 8 steps
   per call: the first log interval's excess over the median (compilation and start-up), the
   median steps/s of the later intervals, and the implied time per epoch of the task's training
   split;
4. the Pathfinder-32 config trained for a few hundred steps on images generated on the spot
   (``freqssm.datagen.pathfinder``): the training loss of each log interval and
   the validation accuracy.

LRA timings that would start more than ``--budget`` seconds (360) after the start are skipped and
reported as skipped, so that the whole check stays within about 8 minutes on one GPU.

``--quick`` runs the same code on tiny sizes (the ``smoke`` models, short sequences, a few
steps) in about a minute on a CPU; its report goes to a temporary file unless ``--out`` is given
and says that it is a smoke run, not a measurement. A full run on a CPU writes
``results/gpu_check_cpu.md`` instead of ``results/gpu.md``.

Needs jax, flax, optax, orbax-checkpoint, numpy, pillow, scikit-image, tqdm and ml-collections
(configs are ConfigDicts); not wandb (logging is disabled here) nor tensorflow-datasets (the data
is generated). On a machine without ml-collections, bring its wheel (pure Python; absl-py and
PyYAML are its only needs): ``pip download --no-deps ml-collections==1.1.0 -d .whl`` here, then
``pip install --no-index --no-deps --target /tmp/site .whl/*.whl`` and ``PYTHONPATH=/tmp/site``
there (README, "GPUs and TPUs").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import importlib.util
import io
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if importlib.util.find_spec("freqssm") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO))

import jax  # noqa: E402  (after the check above)

try:
    import ml_collections  # the configs are ConfigDicts
except ImportError:
    sys.exit(
        "error: ml-collections is missing; `pip install ml-collections` (offline: carry its "
        "wheel, see this script's docstring)"
    )

TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
# training examples per epoch of each task (the loaders' splits: ListOps 96k; Text all 25k
# reviews (val = test); Retrieval 147,086 pairs; Image 45k of CIFAR-10's 50k; Pathfinder and
# Path-X 80% of 200k)
TRAIN_SIZE = {
    "listops": 96000,
    "text": 25000,
    "retrieval": 147086,
    "image": 45000,
    "pathfinder": 160000,
    "pathx": 160000,
}
LIBS = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "ml-collections")


def load_config(name: str, variant: str | None = None) -> Any:
    """``configs/<name>.py[:variant]`` as the command line loads it (freqssm.config)."""
    from freqssm.config import load_config as load

    path = REPO / "configs" / f"{name}.py"
    return load(f"{path}:{variant}" if variant else path)


def machine() -> list[tuple[str, str]]:
    d = jax.devices()[0]
    rows = [
        ("backend", jax.default_backend()),
        ("devices", f"{jax.device_count()} x {d.device_kind}"),
        ("python", platform.python_version()),
        ("host", f"{platform.machine()}, {os.cpu_count()} CPUs"),
    ]
    for lib in LIBS:
        try:
            rows.append((lib, importlib.metadata.version(lib)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((lib, "not installed"))
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if smi.returncode == 0:
            rows.append(("nvidia-smi", smi.stdout.strip().splitlines()[0]))
    except (OSError, subprocess.TimeoutExpired):
        pass
    return rows


# --- 2. layers -------------------------------------------------------------------------------


def layers(quick: bool) -> list[dict]:
    import bench

    s = (
        bench.Sizes(lengths=(64,), batch=2, d_model=16, s5_state=16, s4d_state=16,
                    warmup=1, repeats=3, budget_s=1.0)
        if quick
        else bench.Sizes(warmup=2, repeats=10, budget_s=5.0)
    )  # fmt: skip
    rows = []
    for L in s.lengths:
        for kind, variant in (("s4d", "fast"), ("s5", "parallel"), ("s5", "sequential"),
                              ("s5", "chunked")):  # fmt: skip
            r = bench.bench_layer(kind, variant, False, L, s)
            name = "S4D conv" if kind == "s4d" else f"S5 {variant}"
            rows.append({"layer": name, "L": L, "fwd_ms": r.fwd_ms, "fb_ms": r.fb_ms})
            print(f"  {name:14s} L={L:6d}  fwd {r.fwd_ms:9.3f} ms  fwd+bwd {r.fb_ms:9.3f} ms")
    return rows


# --- 3. the LRA configs ----------------------------------------------------------------------


def synthetic_data(cfg: Any, task: str, seq_len: int | None = None) -> Any:
    """``cfg`` with its data replaced by random data shaped like LRA ``task`` (its batch size
    kept; ``seq_len`` None: the task's length)."""
    cfg.data = ml_collections.ConfigDict(
        {
            "name": "synthetic",
            "like": task,
            "seq_len": seq_len,
            "batch_size": int(cfg.data.batch_size),
            "max_examples": None,
            "root": str(cfg.data.root),
            "n_train": TRAIN_SIZE[task],
        }
    )
    return cfg


def for_timing(cfg: Any, k: int, prefetch: int, interval: int, intervals: int) -> Any:
    """A copy of ``cfg`` that trains ``interval * intervals`` steps, logs every ``interval``, with
    ``k`` steps per call and ``prefetch``; evaluates and checkpoints only at the end, on one
    batch; no plots, progress bar or wandb."""
    cfg = ml_collections.ConfigDict(cfg.to_dict())
    t = cfg.train
    t.steps = steps = interval * intervals
    t.log_every = interval
    t.eval_every = t.checkpoint_every = steps
    t.eval_limit = int(cfg.data.batch_size)
    t.steps_per_call, t.prefetch = k, prefetch
    t.analysis, t.progress = False, False
    cfg.optim.warmup_steps = min(int(cfg.optim.warmup_steps), steps)
    cfg.log.wandb.mode = "disabled"
    return cfg


def loop_timing(cfg: Any, workdir: Path) -> dict:
    """Train ``cfg`` in ``workdir`` and read its ``train/steps_per_s`` records: the median rate of
    the log intervals after the first, and start-up = the first interval's time beyond that rate
    (compilation, first batches)."""
    from freqssm.config import from_config_dict
    from freqssm.train.loop import train_and_evaluate
    from freqssm.train.metric_log import read_jsonl

    train_and_evaluate(from_config_dict(cfg), workdir)
    rates = [r["train/steps_per_s"] for r in read_jsonl(workdir / "metrics.jsonl")
             if "train/steps_per_s" in r]  # fmt: skip
    interval = int(cfg.train.log_every)
    rate = statistics.median(rates[1:])
    return {"rate": rate, "startup_s": interval / rates[0] - interval / rate}


def time_loop(task: str, k: int, quick: bool, workdir: Path) -> dict:
    """Steps/s and start-up time of ``task``'s config through the real training loop."""
    interval, intervals = (4, 3) if quick else (48, 5)
    lra_cfg = load_config(f"lra_{task}", "smoke" if quick else None)
    cfg = for_timing(
        synthetic_data(lra_cfg, task, 64 if quick else None), k, 2, interval, intervals
    )
    t = loop_timing(cfg, workdir)
    batch = int(cfg.data.batch_size)
    return {
        "task": task,
        "k": k,
        "batch": batch,
        "startup_s": t["startup_s"],
        "step_ms": 1e3 / t["rate"],
        "epoch_min": TRAIN_SIZE[task] / batch / t["rate"] / 60,
    }


def lra(quick: bool, budget_end: float, tmp: Path) -> list[dict]:
    rows = []
    for task in TASKS:
        for k in (1, 8):
            if time.perf_counter() > budget_end:
                rows.append({"task": task, "k": k, "skipped": "time budget spent"})
                print(f"  {task:10s} k={k}: skipped (time budget)")
                continue
            r = time_loop(task, k, quick, tmp / f"{task}_k{k}")
            rows.append(r)
            print(
                f"  {task:10s} k={k}  batch {r['batch']:3d}  start-up {r['startup_s']:6.1f} s"
                f"  step {r['step_ms']:8.3f} ms  epoch {r['epoch_min']:8.2f} min"
            )
    return rows


# --- 4. Pathfinder-32 training ---------------------------------------------------------------


def pathfinder_training(quick: bool, tmp: Path) -> dict:
    from freqssm.config import from_config_dict
    from freqssm.datagen import pathfinder as gen
    from freqssm.train.loop import train_and_evaluate
    from freqssm.train.metric_log import read_jsonl

    n_images, steps, interval = (240, 16, 8) if quick else (8000, 400, 50)
    workers = max(1, min(16, os.cpu_count() or 1))
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
        gen.main(["--out", str(tmp / "data"), "--n", str(n_images), "--workers", str(workers)])
    gen_s = time.perf_counter() - t0
    cfg = load_config("lra_pathfinder", "smoke" if quick else None)
    cfg.data.root = str(tmp / "data")
    cfg.data.max_examples = None
    t = cfg.train
    t.steps, t.log_every, t.eval_every, t.checkpoint_every = steps, interval, steps, steps
    t.eval_limit = None
    t.steps_per_call, t.prefetch = 8, 2
    t.analysis, t.progress = False, False
    cfg.optim.warmup_steps = steps // 10
    cfg.log.wandb.mode = "disabled"
    t0 = time.perf_counter()
    res = train_and_evaluate(from_config_dict(cfg), tmp / "pathfinder_run")
    train_s = time.perf_counter() - t0
    losses = [(r["step"], r["train/loss"]) for r in read_jsonl(tmp / "pathfinder_run" /
              "metrics.jsonl") if "train/loss" in r]  # fmt: skip
    out = {
        "images": n_images,
        "generate_s": gen_s,
        "steps": steps,
        "batch": int(cfg.data.batch_size),
        "train_s": train_s,
        "losses": losses,
        "val_accuracy": res["val"]["accuracy"],
        "test_accuracy": res["test"]["accuracy"],
    }
    print(
        f"  {n_images} images in {gen_s:.1f} s; {steps} steps in {train_s:.1f} s; loss "
        + " -> ".join(f"{v:.4f}" for _, v in losses)
        + f"; val accuracy {out['val_accuracy']:.3f}"
    )
    return out


# --- report ----------------------------------------------------------------------------------


def report(args: argparse.Namespace, info, layer_rows, lra_rows, pf, wall_s: float) -> str:
    cmd = "python scripts/gpu_check.py" + (" --quick" if args.quick else "")
    day = datetime.date.today().isoformat()
    quick = " (QUICK SMOKE RUN: tiny sizes, not a measurement)" if args.quick else ""
    lines = [
        "# freqssm on an accelerator" + quick,
        "",
        f"Measured {day} by `{cmd}` in {wall_s / 60:.1f} min (the script's docstring says what "
        "each number is).",
        "",
        "| machine | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in info],
        "",
        "## One layer, forward+backward (batch 16, width 128, no Sobolev filter)"
        if not args.quick
        else "## One layer, forward+backward (tiny sizes)",
        "",
        "| layer | L | forward (ms) | forward+backward (ms) |",
        "| --- | ---: | ---: | ---: |",
        *[
            f"| {r['layer']} | {r['L']} | {r['fwd_ms']:.3f} | {r['fb_ms']:.3f} |"
            for r in layer_rows
        ],
        "",
        "## LRA configs: the training loop on random data of each task's shapes",
        "",
        "k = steps per call (`train.steps_per_call`), prefetch depth 2. Start-up: the first log "
        "interval's time beyond the median (compilation, first batches). Epoch: the task's "
        "training split at the median step time.",
        "",
        "| task | batch | k | start-up (s) | step (ms) | epoch (min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in lra_rows:
        if "skipped" in r:
            lines.append(f"| {r['task']} | | {r['k']} | {r['skipped']} | | |")
        else:
            lines.append(
                f"| {r['task']} | {r['batch']} | {r['k']} | {r['startup_s']:.1f} | "
                f"{r['step_ms']:.3f} | {r['epoch_min']:.2f} |"
            )
    lines += ["", "## Pathfinder-32 trained on freshly generated images", ""]
    if pf is None:
        lines.append("Not run (time budget spent).")
    else:
        lines += [
            f"{pf['images']} images generated in {pf['generate_s']:.1f} s, {pf['steps']} steps "
            f"of batch {pf['batch']} (8 per call) in {pf['train_s']:.1f} s (compilation "
            "included).",
            "",
            "| step | train loss (mean over the interval) |",
            "| ---: | ---: |",
            *[f"| {s} | {v:.4f} |" for s, v in pf["losses"]],
            "",
            f"Validation accuracy {pf['val_accuracy']:.3f}, test {pf['test_accuracy']:.3f} "
            "(chance 0.5).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes (a CPU smoke run)")
    p.add_argument("--out", type=Path, default=None, help="report path (see the docstring)")
    p.add_argument(
        "--budget", type=float, default=360.0, help="seconds after which no more LRA timings start"
    )
    args = p.parse_args(argv)
    logging.getLogger("absl").setLevel(logging.WARNING)
    backend = jax.default_backend()
    out = args.out
    if out is None:
        if args.quick:
            out = Path(tempfile.gettempdir()) / "freqssm_gpu_check_quick.md"
        else:
            out = REPO / "results" / ("gpu_check_cpu.md" if backend == "cpu" else "gpu.md")
    start = time.perf_counter()
    info = machine()
    print("\n".join(f"{k}: {v}" for k, v in info))
    with tempfile.TemporaryDirectory(prefix="freqssm_gpu_check_") as tmp:
        t0 = time.perf_counter()
        print("layers:")
        layer_rows = layers(args.quick)
        print(f"LRA configs (layers took {time.perf_counter() - t0:.0f} s):")
        t0 = time.perf_counter()
        lra_rows = lra(args.quick, start + args.budget, Path(tmp))
        print(f"Pathfinder-32 training (LRA configs took {time.perf_counter() - t0:.0f} s):")
        pf = pathfinder_training(args.quick, Path(tmp))
    wall = time.perf_counter() - start
    text = report(args, info, layer_rows, lra_rows, pf, wall)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out} ({wall / 60:.1f} min)")
    return out


if __name__ == "__main__":
    main()
