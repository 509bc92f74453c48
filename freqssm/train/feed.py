"""Feeding the training loop: how many steps each jitted call runs, and batches built ahead.

A call runs ``n`` optimizer steps (``lax.scan`` over ``n`` stacked batches when ``n > 1``). The
loop logs, evaluates, checkpoints and checks for stop signals between calls, so a call ends at
every step where one of those is due: :func:`call_sizes` cuts ``[start, steps)`` into calls of at
most ``train.steps_per_call`` steps that end on every multiple of the given periods and at
``steps``. With ``k`` dividing the periods every call has ``k`` steps (one compiled shape);
otherwise the remainders add a second shape.

:class:`Feed` builds each call's batches (numpy, this process's rows), stacks them and places them
on the devices. With ``depth > 0`` a background thread does this up to ``depth`` calls ahead of
the loop; the batches are the same as without it (batch ``s`` is a pure function of the seed and
``s``), so runs stay deterministic and resumable. Errors in the thread are raised in the loop;
:meth:`Feed.close` stops the thread (also when the loop ends by an exception or a signal).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from freqssm.data.base import Batch


def call_sizes(start: int, steps: int, k: int, periods: Iterable[int]) -> Iterator[int]:
    """Steps per call from step ``start`` (done) to ``steps``: at most ``k``, ending at every
    multiple of each period and at ``steps``.

    >>> list(call_sizes(0, 10, 4, [5]))
    [4, 1, 4, 1]
    """
    if k < 1:
        raise ValueError(f"steps per call must be >= 1, got {k}")
    periods = [int(p) for p in periods if int(p) > 0]
    step = start
    while step < steps:
        end = min([steps, step + k] + [(step // p + 1) * p for p in periods])
        yield end - step
        step = end


def stack(batches: list[Batch]) -> Batch:
    """``n`` batches -> one batch whose arrays have a leading axis of length ``n``."""
    return {key: np.stack([b[key] for b in batches]) for key in batches[0]}


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


class Feed:
    """Iterate ``(n, device_batch)`` per call: ``n`` batches from ``batches``, placed by ``put``
    (one batch for ``n == 1``) or ``put_stacked`` (stacked, leading axis ``n``).

    Args:
      batches: this process's training batches in step order (``data.base.train_batches``).
      sizes: steps per call (:func:`call_sizes`).
      put: numpy batch -> device batch; put_stacked: the same for stacked batches.
      depth: calls prepared ahead by a background thread; 0 prepares each on demand.
    """

    def __init__(
        self,
        batches: Iterator[Batch],
        sizes: Iterable[int],
        put: Callable[[Batch], dict],
        put_stacked: Callable[[Batch], dict],
        depth: int = 2,
    ) -> None:
        self._batches, self._sizes = batches, iter(sizes)
        self._put, self._put_stacked = put, put_stacked
        self._stop = threading.Event()
        self._done = False
        self._thread: threading.Thread | None = None
        if depth > 0:
            self._queue: queue.Queue = queue.Queue(maxsize=depth)
            self._thread = threading.Thread(target=self._produce, name="freqssm-feed", daemon=True)
            self._thread.start()

    def _next_call(self) -> tuple[int, dict] | None:
        n = next(self._sizes, None)
        if n is None:
            return None
        if n == 1:
            return 1, self._put(next(self._batches))
        return n, self._put_stacked(stack([next(self._batches) for _ in range(n)]))

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                item = self._next_call()
                self._offer(_END if item is None else item)
                if item is None:
                    return
        except BaseException as e:  # handed to the loop, which raises it
            self._offer(_Failed(e))

    def _offer(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Feed:
        return self

    def __next__(self) -> tuple[int, dict]:
        if self._done:
            raise StopIteration
        if self._thread is None:
            item = self._next_call()
            if item is None:
                raise StopIteration
            return item
        while True:
            try:
                item = self._queue.get(timeout=0.1)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise RuntimeError("the batch-feeding thread ended unexpectedly") from None
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, _Failed):
            self._done = True
            raise item.error
        return item

    def close(self) -> None:
        """Stop the background thread (waits for the batch it is building)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
