"""The ``data`` settings: :class:`DataConfig`, the keys every task has plus its loader's own."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, ClassVar

from freqssm.data.base import default_data_root
from freqssm.data.registry import loader_defaults, loader_options
from freqssm.settings import Settings, from_dict, require, to_dict


@dataclasses.dataclass(frozen=True)
class DataConfig(Settings):
    """Which task, where its files are, and how it is batched; ``options`` holds the loader's
    own keys (``data.seq_len``, ``data.frequencies``, ...), which the config file writes flat
    beside these: the loader's frozen ``Options`` dataclass (every key, defaults where the config
    has none), or for a task of one's own without one, the given keys checked against its
    ``DEFAULTS``."""

    PREFIX: ClassVar[str] = "data"

    name: str = "waves"
    """task: waves, denoise, listops, text, retrieval, image, pathfinder, pathx, synthetic (random
    data shaped like `data.like`, an LRA task: timing without the data set,
    `freqssm/data/synthetic.py`), or a task of your own as `module:function` (README, "Add your
    own task")"""
    root: str = dataclasses.field(default_factory=default_data_root)
    """where on-disk data sets live"""
    batch_size: int = 32
    """global batch size"""
    max_examples: int | None = None
    """cap on training examples (a fixed random subset; LRA loaders cap the held-out splits too,
    smoke runs); None: all"""
    options: Any = dataclasses.field(default_factory=dict)
    """the loader's own keys (see the task's loader module)"""

    def __post_init__(self) -> None:
        k = self.key
        require(self.batch_size >= 1, k("batch_size"), self.batch_size, "must be >= 1")
        if self.max_examples is not None:
            require(self.max_examples >= 1, k("max_examples"), self.max_examples, ">= 1 or None")
        cls = loader_options(self.name)
        if cls is not None and isinstance(self.options, cls):
            return
        given = to_dict(self.options) if dataclasses.is_dataclass(self.options) else self.options
        known = loader_defaults(self.name)
        unknown = sorted(set(given) - set(known))
        require(
            not unknown,
            k(unknown[0] if unknown else "name"),
            given.get(unknown[0]) if unknown else self.name,
            f"not a key of the {self.name} loader (its keys: {', '.join(sorted(known))})",
        )
        if cls is not None:  # typed: every key, validated and converted (lists to tuples)
            object.__setattr__(self, "options", from_dict(cls, given, "data"))
            return
        # read-only, so that a frozen config cannot change under a running loader; lists (from
        # a saved config.json) as tuples, so a run's config reads back equal to itself
        frozen = {k: _tuples(v) for k, v in given.items()}
        object.__setattr__(self, "options", types.MappingProxyType(frozen))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | Any) -> DataConfig:
        """The ``data`` section as the config file writes it (flat: common keys and the
        loader's) -> DataConfig. Accepts a dict or anything with ``to_dict()``."""
        d = dict(values.to_dict() if hasattr(values, "to_dict") else values)
        common = {f.name for f in dataclasses.fields(cls)} - {"options"}
        kw = {k: d.pop(k) for k in list(d) if k in common}
        if kw.get("root") is None:
            kw.pop("root", None)
        return cls(**kw, options=d)

    def option_values(self) -> dict[str, Any]:
        """The loader's keys and values as a dict."""
        o = self.options
        return to_dict(o) if dataclasses.is_dataclass(o) else dict(o)

    def as_mapping(self) -> dict[str, Any]:
        """The flat ``data`` section (the inverse of :meth:`from_mapping`)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {**{k: v for k, v in out.items() if k != "options"}, **self.option_values()}

    def option(self, key: str, default: Any = None) -> Any:
        """One of the loader's keys (``default`` where it has none)."""
        o = self.options
        return getattr(o, key, default) if dataclasses.is_dataclass(o) else o.get(key, default)


def _tuples(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    return value
