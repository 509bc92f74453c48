"""Every exception type freqssm raises on purpose, at the bottom of the package so that any
layer can raise or catch them without importing the layer that defines the behaviour.

The command line (``freqssm.train.cli``) turns each into one line naming the fix.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A config value is out of range; the message starts with the key."""


class DataError(ValueError):
    """Raised for missing or malformed data; the message names the fix."""


class DiskError(OSError):
    """Writing the run's files failed (disk full, read-only, permissions)."""


class CheckpointError(RuntimeError):
    """No usable checkpoint although some exist, or restoring failed for a reason that is not
    corruption (I/O, memory); the checkpoints are left as they are."""


class StartupInterruptedError(Exception):
    """SIGTERM/SIGINT arrived before the first training step (nothing to save yet)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum} during start-up; nothing was trained")
        self.signum = signum


class NonFiniteError(FloatingPointError):
    """The loss or a gradient became NaN/inf."""
