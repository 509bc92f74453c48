"""How much padding each batch carries, padded to the task's length (freqssm) or to the batch's
longest sequence (the authors' collate), over a run's first training batches.

    python scripts/padding_lengths.py configs/lra_listops.py:cpu --root DIR [--batches 1000]

Prints the distribution of the batch's longest sequence, the share of padded positions both
ways, and the Sobolev constant c = 2L each way implies. Reads the data only (no model).
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from freqssm import data as data_lib
from freqssm.config import load_config
from freqssm.data.base import train_batches


def padding_report(lengths: list[np.ndarray], L: int) -> dict[str, float]:
    """Per-batch lengths (B,) -> batch-max statistics and padded shares (``L``: freqssm's)."""
    bmax = np.array([int(x.max()) for x in lengths])
    real = float(sum(int(x.sum()) for x in lengths))
    slots_full = float(sum(L * len(x) for x in lengths))
    slots_batch = float(sum(int(x.max()) * len(x) for x in lengths))
    return {
        "batches": len(lengths),
        "batch_max_mean": float(bmax.mean()),
        "batch_max_min": int(bmax.min()),
        "batch_max_p10": float(np.percentile(bmax, 10)),
        "padded_share_full": 1 - real / slots_full,
        "padded_share_batch": 1 - real / slots_batch,
        "c_full": 2 * L,
        "c_batch_mean": 2 * float(bmax.mean()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("config", help="file.py[:variant]")
    p.add_argument("--root", help="data.root (default: the config's)")
    p.add_argument("--batches", type=int, default=1000)
    args = p.parse_args()
    cfg = load_config(args.config)
    if args.root:
        cfg.data.root = args.root
    ds = data_lib.build(cfg.data)
    it = train_batches(ds.train, int(cfg.data.batch_size), int(cfg.seed))
    lens = [np.asarray(b["lengths"]) for b in itertools.islice(it, args.batches)]
    r = padding_report(lens, int(ds.meta.seq_len))
    print(
        f"| {args.config} | {r['batches']} | {ds.meta.seq_len} | {r['batch_max_mean']:.1f} "
        f"(min {r['batch_max_min']}, 10th pct {r['batch_max_p10']:.0f}) | "
        f"{r['padded_share_full']:.3f} | {r['padded_share_batch']:.3f} | "
        f"{r['c_full']} | {r['c_batch_mean']:.0f} |"
    )


if __name__ == "__main__":
    main()
