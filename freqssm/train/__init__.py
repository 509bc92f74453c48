"""The training layer: the loop, feeding, optimizer, losses, checkpoints, resume policy, stop
signals, run files and metric logging; ``python -m freqssm.train`` is its command line.

``from freqssm.train import train_and_evaluate`` (and ``load_run``) are loaded on first use, so
that importing one module of this package (say ``freqssm.train.optim``) does not import the loop.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_run", "train_and_evaluate"]


def __getattr__(name: str) -> Any:
    if name == "train_and_evaluate":
        from freqssm.train.loop import train_and_evaluate

        return train_and_evaluate
    if name == "load_run":
        from freqssm.train.run import load_run

        return load_run
    raise AttributeError(f"module 'freqssm.train' has no attribute {name!r}")
