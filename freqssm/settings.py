"""Typed, frozen settings: what every component's config dataclass shares.

Each component owns a frozen dataclass of its settings (``freqssm.model.config.SSMConfig``,
``freqssm.train.optim.OptimConfig``, ...). Its field names are the config keys under the
component's ``PREFIX`` (``SSMConfig.PREFIX == "model.ssm"``), its defaults are the keys' defaults,
and its ``__post_init__`` refuses an out-of-range value with one line naming the key. The
ml_collections file a user writes is converted once, at the command line, by :func:`from_dict`;
a saved run's ``config.json`` is read back the same way.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from freqssm.errors import ConfigError

T = TypeVar("T")


def require(ok: bool, key: str, value: object, why: str) -> None:
    """Raise :class:`ConfigError` ``"key=value: why"`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}={value!r}: {why}")


def one_of(key: str, value: object, choices: tuple[Any, ...]) -> None:
    """Refuse ``value`` unless it is one of ``choices``."""
    require(value in choices, key, value, f"one of {choices}")


class Settings:
    """Base of the component dataclasses: ``key(name)`` is the dotted config key of a field."""

    PREFIX: ClassVar[str] = ""

    def key(self, name: str) -> str:
        return f"{self.PREFIX}.{name}" if self.PREFIX else name

    def replace(self: T, **changes: Any) -> T:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def updated(self: T, values: Mapping[str, Any]) -> T:
        """A copy with dotted keys set, e.g. ``cfg.updated({"model.ssm.alpha": 2.0})``
        (validated again); under a section with ``options`` (``data``) an unknown key is one of
        them."""
        names = {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        direct: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            head, _, rest = key.partition(".")
            if rest:
                nested.setdefault(head, {})[rest] = value
            elif head in names:
                direct[head] = value
            elif "options" in names:  # a loader's key (DataConfig): validated with the others
                current = self.options  # type: ignore[attr-defined]
                values_now = to_dict(current) if dataclasses.is_dataclass(current) else current
                direct.setdefault("options", dict(values_now))[head] = value
            else:
                raise ConfigError(f"{self.key(head)}: not a config key")
        for head, sub in nested.items():
            if head not in names:
                raise ConfigError(f"{self.key(head)}: not a config key")
            direct[head] = getattr(self, head).updated(sub)
        hints = _hints(type(self))
        for name, value in list(direct.items()):
            if name != "options" and _settings_type(hints[name]) is None:
                direct[name] = _coerce(hints[name], value)
        return dataclasses.replace(self, **direct)  # type: ignore[type-var]


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _settings_type(hint: Any) -> type | None:
    """The Settings dataclass a field holds (``X`` or ``X | None``), else None."""
    for t in (hint, *typing.get_args(hint)):
        if isinstance(t, type) and dataclasses.is_dataclass(t):
            return t
    return None


def _coerce(hint: Any, value: Any) -> Any:
    """JSON and ml_collections values to the field's type: lists to tuples, ints to floats."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _coerce(non_none[0], value) if len(non_none) == 1 else value
    if origin is tuple or hint is tuple:
        return tuple(value) if isinstance(value, (list, tuple)) else value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_dict(cls: type[T], values: Mapping[str, Any] | None, prefix: str = "") -> T:
    """``cls`` (a Settings dataclass) from nested ``values``; missing keys take their defaults.

    A key ``cls`` does not have is refused with one line naming it (a typo in a config file, or
    a saved config of a newer version).
    """
    values = dict(values or {})
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(
            f"{where}{unknown[0]}: not a config key (the keys of {prefix or 'the config'} are "
            f"{', '.join(sorted(fields))})"
        )
    kwargs = {}
    for name, value in values.items():
        sub = _settings_type(hints[name])
        key = f"{prefix}.{name}" if prefix else name
        if sub is not None and isinstance(value, Mapping):
            kwargs[name] = from_dict(sub, value, key)
        else:
            kwargs[name] = _coerce(hints[name], value)
    return cls(**kwargs)


def to_dict(obj: Any) -> dict[str, Any]:
    """A Settings dataclass as nested plain dicts (tuples stay tuples)."""
    out = {}
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        value = getattr(obj, f.name)
        out[f.name] = to_dict(value) if dataclasses.is_dataclass(value) else value
    return out
