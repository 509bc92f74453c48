"""Where a run's numbers come from: versions, code, command, machine and time.

:func:`provenance` is written into ``config.json`` and ``results.json`` (key ``_provenance``) so a
result can be traced to the code and machine that produced it; keys that start with ``_`` are not
config keys and are ignored when a run's config is compared or reloaded.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGES = ("freqssm", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy", "wandb")


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit() -> str | None:
    """The source tree's commit, with ``+dirty`` if it has uncommitted changes (None outside
    a git checkout, e.g. an installed wheel)."""
    src = Path(__file__).resolve().parent
    try:
        run = lambda *a: subprocess.run(  # noqa: E731
            ["git", *a], cwd=src, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance(started: datetime.datetime | None = None) -> dict[str, Any]:
    """Versions, git commit, command line, host, devices and times (``started`` given: also the
    wall time since then, in seconds)."""
    import jax

    now = datetime.datetime.now(datetime.UTC)
    devices = jax.devices()
    out: dict[str, Any] = {
        "versions": {"python": platform.python_version(), **{p: _version(p) for p in PACKAGES}},
        "git_commit": git_commit(),
        # as typed: the interpreter's name, then e.g. -m freqssm.train and the flags
        "command": [Path(a).name if i == 0 else a for i, a in enumerate(sys.orig_argv)],
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "devices": {
            "backend": jax.default_backend(),
            "kind": devices[0].device_kind if devices else None,
            "count": jax.device_count(),
            "processes": jax.process_count(),
        },
        "time": now.isoformat(timespec="seconds"),
    }
    if started is not None:
        out["started"] = started.isoformat(timespec="seconds")
        out["wall_time_s"] = round((now - started).total_seconds(), 3)
    return out
