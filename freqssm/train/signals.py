"""Stop signals: SIGTERM/SIGINT end a run at the next step boundary with a checkpoint."""

from __future__ import annotations

import contextlib
import signal
from typing import Any

import jax
import numpy as np

from freqssm.errors import StartupInterruptedError


class StopSignals:
    """SIGTERM/SIGINT while training: a flag the loop checks after each step (it then saves and
    exits). Before :meth:`arm` (the start-up), a signal raises :class:`StartupInterruptedError` at
    once instead, so a slow start-up (data, compilation) stops without a traceback."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.armed = False
        self._old: dict = {}

    def __enter__(self) -> StopSignals:
        for s in (signal.SIGTERM, signal.SIGINT):
            # signal() fails outside the main thread (e.g. a test runner thread): no handler then
            with contextlib.suppress(ValueError):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def arm(self) -> None:
        """From now on a signal only sets :attr:`signum` (training has started)."""
        self.armed = True

    def _handle(self, signum: int, frame: Any) -> None:
        del frame
        self.signum = signum
        if not self.armed:
            raise StartupInterruptedError(signum)

    def agreed(self) -> int | None:
        """The stop signal as every process sees it: in a multi-process run (a preempted host
        gets SIGTERM, the others may not) all processes stop, checkpoint and exit at the same
        step when any of them got a signal. One small all-gather per call there; single-process
        runs just read :attr:`signum`."""
        if jax.process_count() == 1:
            return self.signum
        from jax.experimental import multihost_utils

        seen = multihost_utils.process_allgather(np.int32(self.signum or 0))
        return int(np.max(seen)) or None

    def __exit__(self, *exc: Any) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)
