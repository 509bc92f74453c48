"""Resume policy: whether a workdir's run may be continued with a config, and whether it has
already finished (the keys that may change between a run and its resumption are listed here)."""

from __future__ import annotations

import json
from pathlib import Path

from freqssm.errors import ConfigError
from freqssm.train.config import RunConfig, from_config_dict

# Keys that may change between a run and its resumption without changing what is computed.
RESUME_SAFE_PREFIXES = (
    "log.",
    "train.resume",
    "train.progress",
    "train.analysis",
    "train.max_inflight",
    "train.steps_per_call",
    "train.prefetch",
    "train.max_skipped",
    "train.profile",
    "train.compile_cache",
    "data.root",
)


def config_diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested config dicts."""
    keys = sorted(set(old) | set(new))
    diff = []
    for k in keys:
        path = f"{prefix}{k}"
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            diff += config_diff(a, b, path + ".")
        elif a != b:
            diff.append(path)
    return diff


def changed_keys(workdir: Path, cfg: RunConfig) -> list[str]:
    """Keys (but for :data:`RESUME_SAFE_PREFIXES`) in which ``cfg`` differs from the run's
    ``config.json`` in ``workdir`` ([] if there is none). The saved config is read through the
    same conversion as a new one, so keys added since it was written count as their defaults."""
    path = workdir / "config.json"
    if not path.exists():
        return []
    try:
        old = json.loads(path.read_text())
    except ValueError as e:
        raise ConfigError(f"{path} is not valid JSON ({e}); remove it to resume") from None
    try:
        old = json.loads(json.dumps(from_config_dict(old).as_dict()))  # lists as in the file
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}; use a new --workdir") from None
    diff = config_diff(old, json.loads(json.dumps(cfg.as_dict())))
    return [k for k in diff if not k.startswith(RESUME_SAFE_PREFIXES)]


def check_resume(workdir: Path, cfg: RunConfig) -> None:
    """Raise :class:`ConfigError` if ``cfg`` may not continue the run in ``workdir``.

    ``train.resume``: "auto" refuses a run with a different config (but for the keys in
    :data:`RESUME_SAFE_PREFIXES`), "force" allows it, "never" refuses any workdir holding
    checkpoints.
    """
    ckpts = workdir / "checkpoints"
    if cfg.train.resume == "never" and ckpts.is_dir() and any(ckpts.rglob("*")):
        raise ConfigError(
            f"train.resume=never: {workdir} already holds a run's checkpoints; use a new "
            "--workdir, or remove that one to start over"
        )
    if cfg.train.resume == "force":
        return
    diff = changed_keys(workdir, cfg)
    if diff:
        raise ConfigError(
            f"{workdir} holds a run with a different config (keys: {', '.join(diff)}); use a new "
            "--workdir, or --config.train.resume=force to resume it anyway"
        )


def finished_results(workdir: Path, cfg: RunConfig) -> dict | None:
    """``results.json`` of a run in ``workdir`` that finished all ``train.steps`` with this
    config (keys that do not change what is computed are ignored), else None."""
    try:
        results = json.loads((workdir / "results.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(results, dict) or results.get("step") != int(cfg.train.steps):
        return None
    return None if changed_keys(workdir, cfg) else results
