"""Tables for results/lra.md.

    python scripts/lra_table.py sizes                      # parameter counts of every LRA config
    python scripts/lra_table.py runs runs/lra_listops_reduced runs/lra_listops_reduced_untuned ...
    python scripts/lra_table.py curves results/lra_listops_cpu.png runs/a runs/b ...

``runs`` prints one row per workdir: the config's alpha and Sobolev setting, model size, steps,
training examples, the mean training loss over the last 100 steps, and the final and
test-at-best-val accuracy from results.json. ``curves`` prints, per workdir, the mean training
loss since the previous evaluation and the validation and test accuracy at every evaluation
(from metrics.jsonl, so unfinished runs too), and plots the validation curves into the PNG.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from freqssm.config import from_config_dict, load_config
from freqssm.data.lra import lra_meta
from freqssm.model import models
from freqssm.train.metric_log import read_jsonl
from freqssm.train.run import build_run

REPO = Path(__file__).resolve().parents[1]
TASKS = ["listops", "text", "retrieval", "image", "pathfinder", "pathx"]


def get_config(task: str, variant: str | None = None):
    path = REPO / "configs" / f"lra_{task}.py"
    return load_config(f"{path}:{variant}" if variant else path)


def n_params(cfg, task: str) -> tuple[int, int, int]:
    """(per residual block, whole model, embedding) parameter counts of a config, data-free."""
    shapes = build_run(from_config_dict(cfg), lra_meta(task)).shapes
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


def last_train_loss(workdir: Path, steps: int = 100) -> float:
    """Mean of the logged training losses of the last ``steps`` steps (each log record is the
    mean over the steps since the previous one)."""
    recs = [r for r in read_jsonl(workdir / "metrics.jsonl") if "train/loss" in r]
    end = recs[-1]["step"]
    return float(sum(r["train/loss"] for r in recs if r["step"] > end - steps)) / sum(
        1 for r in recs if r["step"] > end - steps
    )


def evaluations(workdir: Path) -> list[dict]:
    """Per evaluation: step, mean train loss since the previous one, val and test accuracy."""
    out, losses = [], []
    for r in read_jsonl(workdir / "metrics.jsonl"):
        if "train/loss" in r:
            losses.append(r["train/loss"])
        if "val/accuracy" in r:
            loss = sum(losses) / len(losses) if losses else float("nan")
            out.append(
                {
                    "step": r["step"],
                    "train_loss": loss,
                    "val": r["val/accuracy"],
                    "test": r["test/accuracy"],
                }
            )
            losses = []
    return out


def curves(png: str, workdirs: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for wd in map(Path, workdirs):
        ev = evaluations(wd)
        print(f"\n`{wd.name}`\n")
        print("| step | train loss (since last eval) | val acc | test acc |")
        print("| --- | --- | --- | --- |")
        for e in ev:
            print(f"| {e['step']} | {e['train_loss']:.3f} | {e['val']:.3f} | {e['test']:.3f} |")
        ax.plot([e["step"] for e in ev], [e["val"] for e in ev], marker="o", label=wd.name)
    ax.set_xlabel("step")
    ax.set_ylabel("validation accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"\nwrote {png}")


def runs(workdirs: list[str]) -> None:
    cols = ["run", "alpha", "Sobolev", "params", "steps x batch", "train examples"]
    cols += ["train loss (last 100 steps)", "final test acc", "test acc at best val (step)"]
    print("| " + " | ".join(cols) + " |")
    print("|" + " --- |" * len(cols))
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
            f"{last_train_loss(wd):.3f} | "
            f"{res['test']['accuracy']:.4f} | {best['test']['accuracy']:.4f} ({best['step']}) |"
        )


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("sizes", "runs", "curves"):
        sys.exit(__doc__)
    if sys.argv[1] == "sizes":
        sizes()
    elif sys.argv[1] == "runs":
        runs(sys.argv[2:])
    else:
        curves(sys.argv[2], sys.argv[3:])
