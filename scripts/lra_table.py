"""Tables for results/lra.md.

    python scripts/lra_table.py sizes                      # parameter counts of every LRA config
    python scripts/lra_table.py runs runs/lra_listops_reduced runs/lra_listops_reduced_untuned ...

``runs`` prints one row per workdir: the config's alpha and Sobolev setting, model size, steps,
training examples, and the final and test-at-best-val accuracy from results.json.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from freqssm import models
from freqssm.data.lra import lra_meta
from freqssm.run import build_run

REPO = Path(__file__).resolve().parents[1]
TASKS = ["listops", "text", "retrieval", "image", "pathfinder", "pathx"]


def get_config(task: str, variant: str | None = None):
    spec = importlib.util.spec_from_file_location(task, REPO / "configs" / f"lra_{task}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.get_config(variant)


def n_params(cfg, task: str) -> tuple[int, int, int]:
    """(per residual block, whole model, embedding) parameter counts of a config, data-free."""
    shapes = build_run(cfg, lra_meta(task)).shapes
    embed = shapes["backbone"].get("embed", {}).get("embedding")
    n_embed = 0 if embed is None else int(embed.size)
    return models.count_params(shapes["backbone"]["block0"]), models.count_params(shapes), n_embed


def total_text(cfg, task: str) -> str:
    """The whole model's size; with a data-dependent vocabulary V, as ``N + d_model·V``."""
    _, total, n_embed = n_params(cfg, task)
    if cfg.data.get("tokenizer", "bytes") == "chars":
        return f"{total - n_embed:,} + {cfg.model.d_model}·V"
    return f"{total:,}"


def sizes() -> None:
    print("| config | per block | total | layers | d_model | state size | alpha | Sobolev |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for task in TASKS:
        c = get_config(task)
        s = c.model.ssm
        sob = "learnable, init 0" if s.sobolev.learnable else f"beta = {s.sobolev.beta:g}"
        print(
            f"| `configs/lra_{task}.py` | {n_params(c, task)[0]:,} | {total_text(c, task)} | "
            f"{c.model.n_layers} | {c.model.d_model} | {s.state_size} | {s.alpha:g} | {sob} |"
        )


def runs(workdirs: list[str]) -> None:
    cols = ["run", "alpha", "Sobolev", "params", "steps x batch", "train examples"]
    cols += ["final test acc", "test acc at best val (step)"]
    print("| " + " | ".join(cols) + " |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for wd in map(Path, workdirs):
        cfg = json.loads((wd / "config.json").read_text())
        res_path = wd / "results.json"
        if not res_path.exists():
            print(f"| {wd.name} | (not finished) |")
            continue
        res = json.loads(res_path.read_text())
        s = cfg["model"]["ssm"]
        sob = "learnable" if s["sobolev"]["learnable"] else f"beta = {s['sobolev']['beta']:g}"
        best = res["best"]
        print(
            f"| {wd.name} | {s['alpha']:g} | {sob} | {res['params']:,} | "
            f"{res['step']} x {cfg['data']['batch_size']} | {cfg['data']['max_examples']} | "
            f"{res['test']['accuracy']:.4f} | {best['test']['accuracy']:.4f} ({best['step']}) |"
        )


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("sizes", "runs"):
        sys.exit(__doc__)
    sizes() if sys.argv[1] == "sizes" else runs(sys.argv[2:])
