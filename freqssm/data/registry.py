"""Task name -> the module that loads it (imported lazily, so that importing freqssm does not
pull in every loader's dependencies: tensorflow-datasets, PIL, scikit-image)."""

from __future__ import annotations

import importlib
from types import ModuleType

from freqssm.errors import DataError

# each module has ``build(data_config) -> Dataset`` and ``DEFAULTS``, its data keys with their
# defaults
BUILDERS: dict[str, str] = {
    "waves": "freqssm.data.waves",
    "denoise": "freqssm.data.denoise",
    "listops": "freqssm.data.lra.listops",
    "text": "freqssm.data.lra.text",
    "retrieval": "freqssm.data.lra.retrieval",
    "image": "freqssm.data.lra.image",
    "pathfinder": "freqssm.data.lra.pathfinder",
    "pathx": "freqssm.data.lra.pathx",
    "synthetic": "freqssm.data.synthetic",  # random data shaped like an LRA task (timing)
}


def loader_module(name: str) -> ModuleType:
    """The loader module of task ``name``."""
    if name not in BUILDERS:
        raise DataError(f"data.name={name!r} is not a known task; choose one of {sorted(BUILDERS)}")
    return importlib.import_module(BUILDERS[name])
