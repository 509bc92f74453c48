"""LRA Path-X: the Pathfinder loader at resolution 128 (L = 16384)."""

from __future__ import annotations

from typing import Any

from freqssm.data.base import Dataset
from freqssm.data.config import DataConfig
from freqssm.data.lra import pathfinder

DEFAULTS: dict[str, Any] = {**pathfinder.DEFAULTS, "resolution": 128}


def build(cfg: DataConfig) -> Dataset:
    """LRA Path-X (128 x 128, L = 16384); see :mod:`freqssm.data.lra`."""
    return pathfinder.build_images(cfg, DEFAULTS)
