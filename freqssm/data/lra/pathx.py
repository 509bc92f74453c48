"""LRA Path-X: the Pathfinder loader at resolution 128 (L = 16384)."""

from __future__ import annotations

import dataclasses
from typing import Any

from freqssm.data.base import Dataset
from freqssm.data.config import DataConfig
from freqssm.data.lra import pathfinder
from freqssm.settings import to_dict


@dataclasses.dataclass(frozen=True)
class Options(pathfinder.Options):
    """Path-X's ``data.*`` keys: Pathfinder's at 128 x 128."""

    resolution: int = 128
    """image side R; L = R·R"""


DEFAULTS: dict[str, Any] = to_dict(Options())


def build(cfg: DataConfig) -> Dataset:
    """LRA Path-X (128 x 128, L = 16384); see :mod:`freqssm.data.lra`."""
    return pathfinder.build_images(cfg, DEFAULTS)
