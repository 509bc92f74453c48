"""Run a grid of config overrides and summarize the final metrics.

    python scripts/sweep.py --config configs/waves.py --root runs/waves_sweep \\
        --grid model.ssm.alpha=0.1,1,10 --grid model.ssm.sobolev.beta=-1,0,1 [--parallel 2] \\
        [--set train.steps=500] [--zip model.ssm.alpha=1,100 --zip model.ssm.sobolev.beta=0,1]

``--zip`` keys are walked together (their i-th values form one point), crossed with the grid.
Each grid point runs ``python -m freqssm.train`` in its own workdir ``<root>/<key=value,...>``
with wandb group ``<root name>`` (so the runs sit together in wandb), as a separate process
(``--parallel N`` at a time). Finished points are not rerun (their ``results.json`` exists);
interrupted ones resume from their checkpoints. The summary of final metrics is written to
``<root>/summary.csv`` and ``<root>/summary.md``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def parse_grid(specs: list[str]) -> list[tuple[str, list[str]]]:
    """``["a.b=1,2", "c=x"]`` -> ``[("a.b", ["1", "2"]), ("c", ["x"])]``."""
    grid = []
    for spec in specs:
        if "=" not in spec:
            raise SystemExit(f"error: --grid {spec!r} must look like key=v1,v2,...")
        key, values = spec.split("=", 1)
        vals = [v for v in values.split(",") if v != ""]
        if not vals:
            raise SystemExit(f"error: --grid {spec!r} has no values")
        grid.append((key.strip(), vals))
    return grid


def short(key: str) -> str:
    """Readable run-name part for a dotted key: model.ssm.sobolev.beta -> beta."""
    return key.rsplit(".", 1)[-1]


def points(
    grid: list[tuple[str, list[str]]], zipped: list[tuple[str, list[str]]] = ()
) -> list[dict[str, str]]:
    """The product of the ``grid`` axes and one axis walking the ``zipped`` keys together."""
    axes = [[{k: v} for v in vals] for k, vals in grid]
    if zipped:
        lengths = {len(vals) for _, vals in zipped}
        if len(lengths) != 1:
            raise SystemExit("error: every --zip key needs the same number of values")
        axes.append([dict(zip([k for k, _ in zipped], vs, strict=True))
                     for vs in zip(*(v for _, v in zipped), strict=True)])  # fmt: skip
    return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)]


def run_name(point: dict[str, str]) -> str:
    return ",".join(f"{short(k)}={v}" for k, v in point.items()) or "base"


def command(
    config: str, workdir: Path, point: dict[str, str], fixed: list[str], group: str
) -> list[str]:
    cmd = [sys.executable, "-m", "freqssm.train", f"--config={config}", f"--workdir={workdir}"]
    cmd += [f"--config.{k}={v}" for k, v in point.items()]
    cmd += [f"--config.{s}" for s in fixed]
    cmd += [f"--config.log.wandb.group={group}", f"--config.log.wandb.name={workdir.name}"]
    # tags to filter by in wandb: the sweep's root folder and each key=value of the grid point
    tags = [f"sweep={workdir.parent}", *(f"{short(k)}={v}" for k, v in point.items())]
    cmd += [f"--config.log.wandb.tags={','.join(t.replace(',', ';') for t in tags)}"]
    return cmd


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def summarize(root: Path, rows: list[tuple[dict[str, str], Path]]) -> list[dict]:
    """Collect each run's results.json into summary.csv and summary.md under ``root``."""
    table = []
    for point, wd in rows:
        res_path = wd / "results.json"
        row = {"run": wd.name, **point}
        if res_path.exists():
            res = json.loads(res_path.read_text())
            row.update({k: v for k, v in flatten({"test": res["test"], "val": res["val"]}).items()})
            if res.get("best"):
                row["best_step"] = res["best"]["step"]
                row.update(flatten({"best_test": res["best"]["test"]}))
            row["status"] = "done"
        else:
            row["status"] = "failed"
        table.append(row)
    cols: list[str] = []
    for row in table:
        cols += [c for c in row if c not in cols]
    with (root / "summary.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(table)
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in table]
    (root / "summary.md").write_text("\n".join(lines) + "\n")
    return table


def mean_over(root: Path, table: list[dict], key: str, grid_keys: list[str]) -> Path:
    """Average every numeric column over the values of ``key`` (e.g. seeds): summary_mean.md."""
    groups: dict[tuple, list[dict]] = {}
    others = [k for k in grid_keys if k != key]
    for row in table:
        if row.get("status") == "done":
            groups.setdefault(tuple(row[k] for k in others), []).append(row)
    numeric = [
        c
        for c in table[0]
        if c not in grid_keys
        and c not in ("run", "status", "best_step")
        and all(isinstance(r.get(c), (int, float)) for rows in groups.values() for r in rows)
    ]
    lines = [
        "| " + " | ".join([*others, "n", *numeric]) + " |",
        "|" + "---|" * (len(others) + 1 + len(numeric)),
    ]
    for g, rows in groups.items():
        cells = []
        for c in numeric:
            vals = [float(r[c]) for r in rows]
            m = sum(vals) / len(vals)
            sd = (sum((v - m) ** 2 for v in vals) / max(len(vals) - 1, 1)) ** 0.5
            cells.append(f"{m:.4g} ± {sd:.2g}" if len(vals) > 1 else f"{m:.4g}")
        lines.append("| " + " | ".join([*g, str(len(rows)), *cells]) + " |")
    out = root / "summary_mean.md"
    out.write_text(
        f"Mean ± standard deviation over {key} ({', '.join(others)} fixed per row).\n\n"
        + "\n".join(lines)
        + "\n"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", required=True, help="config file, optionally file.py:variant")
    ap.add_argument("--root", required=True, help="folder for the runs and the summary")
    ap.add_argument("--grid", action="append", default=[], help="key=v1,v2,... (repeatable)")
    ap.add_argument(
        "--zip",
        action="append",
        default=[],
        help="key=v1,v2,... walked together with the other --zip keys (pairs, not a grid)",
    )
    ap.add_argument("--set", action="append", default=[], help="fixed override key=value")
    ap.add_argument("--parallel", type=int, default=1, help="runs at a time (processes)")
    ap.add_argument("--dry-run", action="store_true", help="print the commands only")
    ap.add_argument("--mean-over", default="", help="grid key to average over (e.g. seed)")
    args = ap.parse_args(argv)

    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    grid, zipped = parse_grid(args.grid), parse_grid(args.zip)
    group = root.name
    jobs = []
    for point in points(grid, zipped):
        wd = root / run_name(point)
        jobs.append((point, wd, command(args.config, wd, point, args.set, group)))
    (root / "commands.txt").write_text("\n".join(" ".join(c) for _, _, c in jobs) + "\n")
    if args.dry_run:
        print((root / "commands.txt").read_text(), end="")
        return 0

    env = dict(os.environ)

    def run(job):
        _, wd, cmd = job
        if (wd / "results.json").exists():
            print(f"[sweep] {wd.name}: already done")
            return 0
        wd.mkdir(parents=True, exist_ok=True)
        print(f"[sweep] {wd.name}: {' '.join(cmd)}", flush=True)
        with (wd / "stdout.log").open("a") as out:
            rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        print(f"[sweep] {wd.name}: exit {rc}", flush=True)
        return rc

    with ThreadPoolExecutor(max(1, args.parallel)) as pool:
        codes = list(pool.map(run, jobs))
    table = summarize(root, [(p, wd) for p, wd, _ in jobs])
    if args.mean_over:
        out = mean_over(root, table, args.mean_over, [k for k, _ in grid + zipped])
        print(f"[sweep] mean over {args.mean_over}: {out}")
    done = sum(r["status"] == "done" for r in table)
    print(f"[sweep] summary: {root / 'summary.md'} ({done}/{len(table)} done)")
    return 0 if all(c == 0 for c in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
