"""Task name -> the module that loads it (imported lazily, so that importing freqssm does not
pull in every loader's dependencies: tensorflow-datasets, PIL, scikit-image).

``data.name`` is one of :data:`BUILDERS`, or an import path ``"package.module:function"`` of a
task of your own (README, "Add your own task"): ``function(data_config) -> Dataset``, with the
module's ``DEFAULTS`` (its ``data.*`` keys and their defaults; none if it has no such dict).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from freqssm.errors import DataError
from freqssm.settings import to_dict

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
    """The loader module of task ``name`` (a built-in task or ``"module:function"``)."""
    if ":" in name:
        module = name.split(":", 1)[0]
        try:
            return importlib.import_module(module)
        except ImportError as e:
            raise DataError(
                f"data.name={name!r}: cannot import {module} ({e}); is its folder on PYTHONPATH?"
            ) from None
    if name not in BUILDERS:
        raise DataError(
            f"data.name={name!r} is not a known task; choose one of {sorted(BUILDERS)} or give "
            "your own loader as 'module:function'"
        )
    return importlib.import_module(BUILDERS[name])


def loader_options(name: str) -> type | None:
    """Task ``name``'s typed options (its module's ``Options`` dataclass), or None for a task of
    one's own that declares only ``DEFAULTS``."""
    return getattr(loader_module(name), "Options", None)


def loader_defaults(name: str) -> dict[str, Any]:
    """Task ``name``'s ``data.*`` keys with their defaults: its ``Options`` dataclass's fields, or
    its module's ``DEFAULTS``."""
    cls = loader_options(name)
    if cls is not None:
        return to_dict(cls())
    return dict(getattr(loader_module(name), "DEFAULTS", {}))


def loader_build(name: str) -> Callable[..., Any]:
    """Task ``name``'s builder: the module's ``build``, or the function an import path names."""
    module = loader_module(name)
    attr = name.split(":", 1)[1] if ":" in name else "build"
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise DataError(f"data.name={name!r}: {module.__name__} has no function {attr!r}")
    return fn
