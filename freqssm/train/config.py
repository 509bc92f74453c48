"""A run's settings as one typed tree, and the conversions at the command-line edge.

:class:`RunConfig` gathers the components' own frozen dataclasses (``data``: DataConfig,
``model``: ModelConfig, ``optim``: OptimConfig, ``train``: TrainConfig, ``log``: LogConfig);
each validates itself, naming the key. Users write ml_collections files that start from
:func:`base_config` (generated from these dataclasses, so every key exists with its default and
a ``--config.a.b=v`` override of a key that does not exist fails at parse time);
:func:`from_config_dict` converts such a config, or a saved run's ``config.json``, once.

Experiment files take variants ``file.py:a,b`` (applied left to right): :func:`load_config`
loads one for the CLI, the scripts and the tests, and :func:`apply_variants` is the grammar every
``get_config`` uses.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import ml_collections

from freqssm.analysis.evaluators import EVALUATORS
from freqssm.data.config import DataConfig
from freqssm.errors import ConfigError
from freqssm.model.config import ModelConfig
from freqssm.settings import Settings, from_dict, require, to_dict
from freqssm.train.metric_log import LogConfig
from freqssm.train.optim import OptimConfig

RESUME_POLICIES = ("auto", "force", "never")


@dataclasses.dataclass(frozen=True)
class TrainConfig(Settings):
    """The training loop (``train.*``)."""

    PREFIX: ClassVar[str] = "train"

    steps: int = 1000
    """optimizer steps"""
    eval_every: int = 200
    """steps between evaluations on val and test (and at the end)"""
    eval_limit: int | None = None
    """examples per evaluation split (the first ones); None: all"""
    log_every: int = 20
    """train-metric logging period"""
    checkpoint_every: int = 200
    """steps between checkpoints (also at the end, at a new best and on a stop signal)"""
    keep: int = 2
    """how many recent checkpoints to keep (the best one is kept besides)"""
    resume: str = "auto"
    """`auto` resumes a matching run; `force` resumes despite config changes; `never` refuses a
    workdir that holds checkpoints (one line, nothing touched)"""
    skip_nonfinite: bool = False
    """skip (and count) updates with a non-finite loss, gradient or updated parameters instead
    of stopping"""
    max_skipped: int = 100
    """with `skip_nonfinite`: stop (one line) after this many consecutive skipped steps"""
    max_inflight: int = 1
    """calls dispatched ahead of the finished ones: a stop signal is honoured within about a
    call"""
    steps_per_call: int = 1
    """optimizer steps per jitted call (`lax.scan` over stacked batches); calls end at every
    log, evaluation and checkpoint step, so pick a divisor of those periods for one compiled
    shape"""
    prefetch: int = 2
    """calls' batches built and placed on the devices ahead of use by a background thread (0:
    built on demand); the same batches either way"""
    analysis: bool = True
    """eigenvalue and transfer-function plots at start and end"""
    evaluator: str = ""
    """a task evaluation after training (`denoise`: noise survival, stripes, |H|, images); ""
    for none"""
    profile: int = 0
    """a `jax.profiler` trace of this many steps after the first call (compilation excluded)
    into `<workdir>/profile/` (TensorBoard's profile plugin, or ui.perfetto.dev); 0: none"""
    compile_cache: str = ""
    """a folder for a persistent compilation cache: resumed and repeated runs load compiled
    programs instead of compiling (every program is kept, CPU ones too); "": JAX's default"""
    progress: bool = True
    """progress on stderr: a tqdm bar on a terminal; otherwise (a log file, a batch job) one
    plain line per log step (`train.log_every`) with step, loss, accuracy and steps/s; False:
    none"""

    def __post_init__(self) -> None:
        k = self.key
        require(self.steps >= 1, k("steps"), self.steps, "must be >= 1")
        for name in (
            "eval_every",
            "log_every",
            "checkpoint_every",
            "keep",
            "max_skipped",
            "max_inflight",
            "steps_per_call",
        ):
            require(getattr(self, name) >= 1, k(name), getattr(self, name), "must be >= 1")
        require(
            self.prefetch >= 0, k("prefetch"), self.prefetch, "must be >= 0 (0: no prefetching)"
        )
        require(self.profile >= 0, k("profile"), self.profile, "must be >= 0")
        require(self.resume in RESUME_POLICIES, k("resume"), self.resume, "auto/force/never")
        names = ("", *EVALUATORS)
        require(self.evaluator in names, k("evaluator"), self.evaluator, f"one of {names}")
        if self.eval_limit is not None:
            require(self.eval_limit >= 1, k("eval_limit"), self.eval_limit, "must be >= 1 or None")


@dataclasses.dataclass(frozen=True)
class RunConfig(Settings):
    """Everything one run needs; each section is its component's own settings."""

    seed: int = 0
    """parameter init, batch order and dropout (runs are deterministic given the seed)"""
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    """the task and its batching (``data.*``)"""
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    """the model (``model.*``)"""
    optim: OptimConfig = dataclasses.field(default_factory=OptimConfig)
    """the optimizer (``optim.*``)"""
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    """the training loop (``train.*``)"""
    log: LogConfig = dataclasses.field(default_factory=LogConfig)
    """logging (``log.*``)"""

    def __post_init__(self) -> None:
        require(self.seed >= 0, "seed", self.seed, "must be >= 0")
        require(
            self.optim.warmup_steps <= self.train.steps,
            "optim.warmup_steps",
            self.optim.warmup_steps,
            "in [0, steps]",
        )
        k = self.optim.accumulate_steps
        require(
            self.data.batch_size % k == 0,
            "optim.accumulate_steps",
            k,
            f"must divide data.batch_size={self.data.batch_size} (micro-batches of equal size)",
        )

    def as_dict(self) -> dict[str, Any]:
        """Nested plain dicts, the ``data`` section flat as in the config file (config.json)."""
        out = to_dict(self)
        out["data"] = self.data.as_mapping()
        return out


# ------------------------------------------------------------------------ conversions


def from_config_dict(config: Any) -> RunConfig:
    """A user's config (a ConfigDict, or nested dicts such as a saved ``config.json``) ->
    :class:`RunConfig`, validated. Keys starting with "_" (``_provenance``) are ignored; keys a
    config lacks take their defaults (a config.json written before they existed)."""
    if isinstance(config, RunConfig):
        return config
    d = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    d = {k: v for k, v in d.items() if not k.startswith("_")}
    data = d.pop("data", {})
    try:
        run = from_dict(RunConfig, d)
        return dataclasses.replace(run, data=DataConfig.from_mapping(data))
    except TypeError as e:  # a section given a plain value, e.g. --config.model=3
        raise ConfigError(f"bad config: {e}") from None


def _field_reference(hint: Any, value: Any) -> Any:
    """A None default as a typed FieldReference, so that overrides parse to the right type."""
    if value is not None:
        return value
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return ml_collections.FieldReference(None, field_type=typing.get_origin(args[0]) or args[0])


def _as_config_dict(obj: Any) -> ml_collections.ConfigDict:
    hints = typing.get_type_hints(type(obj))
    c = ml_collections.ConfigDict()
    for f in dataclasses.fields(obj):
        if f.name == "options":  # a loader's keys sit flat in ``data``, added by config files
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            c[f.name] = _as_config_dict(value)
        else:
            c[f.name] = _field_reference(hints[f.name], value)
    return c


def base_config() -> ml_collections.ConfigDict:
    """Every key with its default (the typed configs' own); configs/README.md says what each
    means. The ``data`` section holds the common keys; config files add their loader's
    (:func:`freqssm.data.defaults`)."""
    run = RunConfig()
    c = ml_collections.ConfigDict()
    for f in dataclasses.fields(run):
        value = getattr(run, f.name)
        c[f.name] = _as_config_dict(value) if dataclasses.is_dataclass(value) else value
    return c


# ------------------------------------------------------------------------ variants

Variant = Callable[[ml_collections.ConfigDict], None] | Mapping[str, Any] | str


def update(c: ml_collections.ConfigDict, values: Mapping[str, Any], new: bool = False) -> None:
    """Set nested ``values`` ({"model": {"d_model": 128}, ...}) on ``c``.

    Every key must exist, except under ``data`` (``new``), whose keys are the task's own.
    """
    for key, value in values.items():
        if key not in c and not new:
            raise KeyError(f"config key {key!r} does not exist (a typo in a config file?)")
        if isinstance(value, Mapping) and key in c:
            update(c[key], value, new or key == "data")
        else:
            c[key] = value


def apply_variants(
    c: ml_collections.ConfigDict, spec: str | None, variants: Mapping[str, Variant], file: str
) -> ml_collections.ConfigDict:
    """Apply the comma-separated variants of ``spec`` to ``c``, left to right: the one variant
    grammar of every experiment file. A variant is a function of the config, a nested dict of
    values, or a string of other variants' names (an alias, expanded in place). "" and
    "default" name no variant; an unknown name fails naming the file's variants."""
    for name in variant_names(spec, variants):
        v = variants.get(name)
        if v is None:
            known = ", ".join(sorted(variants))
            raise ValueError(f"unknown variant {name!r} of {file} (known: {known})")
        v(c) if callable(v) else update(c, v)  # type: ignore[arg-type]
    return c


def variant_names(spec: str | None, variants: Mapping[str, Variant]) -> list[str]:
    """The variant names of ``spec`` ("a,b") in order, aliases expanded."""
    out: list[str] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if part in ("", "default"):
            continue
        alias = variants.get(part)
        out += variant_names(alias, variants) if isinstance(alias, str) else [part]
    return out


def load_module(path: str | Path) -> types.ModuleType:
    """An experiment file as a module."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"cannot load the --config file: no such file: {path}")
    spec = importlib.util.spec_from_file_location(f"_freqssm_config_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_config(spec: str | Path) -> ml_collections.ConfigDict:
    """``"configs/x.py:a,b"`` -> that file's ``get_config("a,b")`` (the ml_collections config,
    before overrides and conversion)."""
    file, _, variants = str(spec).partition(":")
    return load_module(file).get_config(variants or None)
