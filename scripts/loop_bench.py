"""What steps per call and prefetching change in the training loop on this machine.

``python scripts/loop_bench.py [--quick] [--out results/loop.md]`` trains three models through
the real loop (``train_and_evaluate``) with ``train.steps_per_call`` k in {1, 8} and
``train.prefetch`` in {0, 2}, and reports each variant's steps/s as a ratio to k = 1 without
prefetching, measured in the same run:

* ``waves``: the main job's model (``configs/waves.py``, its real data);
* ``listops-smoke``: the ListOps smoke model (1 layer of width 16) on random ListOps-shaped data,
  where a step is short and per-step overhead shows most;
* ``pathfinder-reduced``: the Pathfinder ``reduced`` model (4 layers of width 64, batch 32,
  L = 1024) on random Pathfinder-shaped data.

Each run's rate is the median over its log intervals after the first (which holds compilation,
:func:`gpu_check.loop_timing`); every variant runs ``--rounds`` times in alternating order (ABCD,
DCBA, ...) and the median of those is reported. A last column times the compiled functions alone
(:func:`compiled_ratio`: one step per call against a scan of 8, same batches, no loop around them),
which separates what the loop saves (dispatch, host work) from what the compiler does differently.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if importlib.util.find_spec("freqssm") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO))

# the sibling script, loaded from its file (scripts/ is not a package and stays off sys.path)
_spec = importlib.util.spec_from_file_location("gpu_check", HERE / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpu_check)

VARIANTS = ((1, 0), (1, 2), (8, 0), (8, 2))  # (steps_per_call, prefetch)


def case_config(case: str, quick: bool) -> Any:
    if case == "waves":
        return gpu_check.load_config("waves", "smoke" if quick else None)
    task, variant = case.split("-")
    cfg = gpu_check.load_config(f"lra_{task}", "smoke" if quick else variant)
    return gpu_check.synthetic_data(
        cfg, task, 64 if quick else (256 if variant == "smoke" else None)
    )


def compiled_ratio(case: str, quick: bool, repeats: int = 3) -> float:
    """Per-step time of the jitted single step over that of the jitted scan of 8 steps (each
    called back to back on batches already on the device; medians of ``repeats`` alternating
    timings)."""
    import jax
    import numpy as np

    from freqssm import data as data_lib
    from freqssm.config import from_config_dict
    from freqssm.train.feed import stack
    from freqssm.train.loop import make_multi_step, make_train_step
    from freqssm.train.run import build_run, init_state

    cfg = case_config(case, quick)
    ds = data_lib.build(cfg.data)
    cfg = from_config_dict(cfg)
    run = build_run(cfg, ds.meta)
    B = int(cfg.data.batch_size)
    one = jax.device_put(ds.train.get(np.arange(B)))
    eight = jax.device_put(stack([ds.train.get(np.arange(B) + i * B) for i in range(8)]))
    step = make_train_step(run, cfg.seed, cfg.train.skip_nonfinite)
    single = jax.jit(step, donate_argnums=0)
    scan8 = jax.jit(make_multi_step(step), donate_argnums=0)
    state = init_state(cfg, run)
    calls = 2 if quick else 4

    def per_step(fn: Any, batch: dict, n: int, steps: int) -> float:
        nonlocal state
        t0 = time.perf_counter()
        for _ in range(n):
            state, m = fn(state, batch)
        jax.block_until_ready(m)
        return (time.perf_counter() - t0) / (n * steps)

    per_step(single, one, 2, 1), per_step(scan8, eight, 1, 8)  # compile and warm up
    t1, t8 = [], []
    for _ in range(repeats):
        t1.append(per_step(single, one, 8 * calls, 1))
        t8.append(per_step(scan8, eight, calls, 8))
    return statistics.median(t1) / statistics.median(t8)


def bench_case(case: str, quick: bool, rounds: int, tmp: Path) -> dict[tuple[int, int], float]:
    base = case_config(case, quick)
    # pathfinder-reduced steps take ~0.5 s here: shorter intervals keep the run to minutes
    interval, intervals = (8, 3) if quick else ((16 if "reduced" in case else 40), 5)
    rates: dict[tuple[int, int], list[float]] = {v: [] for v in VARIANTS}
    for r in range(rounds):
        for k, prefetch in VARIANTS if r % 2 == 0 else VARIANTS[::-1]:
            cfg = gpu_check.for_timing(base, k, prefetch, interval, intervals)
            wd = tmp / f"{case}_k{k}_p{prefetch}_r{r}"
            rates[(k, prefetch)].append(gpu_check.loop_timing(cfg, wd)["rate"])
    return {v: statistics.median(x) for v, x in rates.items()}


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    logging.getLogger("absl").setLevel(logging.WARNING)
    out = args.out or (
        Path(tempfile.gettempdir()) / "freqssm_loop_quick.md"
        if args.quick
        else REPO / "results" / "loop.md"
    )
    cases = ("waves", "listops-smoke", "pathfinder-reduced")
    start = time.perf_counter()
    load = os.getloadavg()[0]
    results, compiled = {}, {}
    with tempfile.TemporaryDirectory(prefix="freqssm_loop_") as tmp:
        for case in cases:
            results[case] = bench_case(case, args.quick, args.rounds, Path(tmp))
            compiled[case] = compiled_ratio(case, args.quick)
            base = results[case][(1, 0)]
            ratios = "  ".join(f"k={k} prefetch={p}: {v / base:.2f}x"
                               for (k, p), v in results[case].items())  # fmt: skip
            print(case, ratios, f"  compiled functions alone, k=8: {compiled[case]:.2f}x")
    load = max(load, os.getloadavg()[0])
    info = dict(gpu_check.machine())
    cmd = "python scripts/loop_bench.py" + (" --quick" if args.quick else "")
    lines = [
        "# Training loop: steps per call and prefetching" + (" (QUICK SMOKE RUN)" * args.quick),
        "",
        f"Measured {datetime.date.today().isoformat()} by `{cmd}` on {info['devices']} "
        f"({info['host']}; jax {info['jax']}; load average up to {load:.1f}) in "
        f"{(time.perf_counter() - start) / 60:.1f} min. Steps/s of the real training loop relative "
        f"to k = 1 without prefetching, median of {args.rounds} alternating rounds (the script's "
        "docstring says what each case is).",
        "",
        "| case | "
        + " | ".join(f"k={k}, prefetch {p}" for k, p in VARIANTS)
        + " | compiled functions alone: k=8 |",
        "| --- |" + " ---: |" * (len(VARIANTS) + 1),
    ]
    for case, r in results.items():
        ratios = " | ".join(f"{r[v] / r[(1, 0)]:.2f}x" for v in VARIANTS)
        lines.append(f"| {case} | {ratios} | {compiled[case]:.2f}x |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
