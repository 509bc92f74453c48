"""A run's workdir files, written so that a kill, a full disk or a second process loses nothing.

* :func:`atomic_write_text`: a file is either its old or its new content, never a truncated one
  (temporary file in the same folder, fsync, ``os.replace``);
* :class:`WorkdirLock`: one run per workdir (``fcntl.flock`` on ``<workdir>/.lock``, released by
  the OS when the process dies, however it dies);
* :func:`finished_results`: the results of a run that already finished with this config.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from typing import Any

from freqssm.errors import ConfigError, DiskError

LOCK_NAME = ".lock"


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path``'s content by ``text`` in one step (readers see old or new, never half)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise disk_error(e, path) from e


def disk_error(e: OSError, path: str | Path) -> DiskError:
    """A one-line :class:`DiskError` for a failed write of ``path``."""
    why = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or type(e).__name__)
    return DiskError(
        e.errno,
        f"cannot write {path}: {why}; the run stopped with its last complete checkpoint kept "
        "(free space and rerun the same command to resume)",
    )


class WorkdirLock:
    """Exclusive use of a workdir for the lifetime of the ``with`` block.

    A second process on the same workdir stops at once with :class:`ConfigError` naming the
    holder's PID. If the block fails and the workdir did not exist before, the (empty) workdir
    is removed again, so a failed start leaves the file system as it was.
    """

    def __init__(self, workdir: str | Path) -> None:
        self.workdir = Path(workdir)
        self._fd: int | None = None
        self._created = False

    def __enter__(self) -> WorkdirLock:
        wd = self.workdir
        if wd.exists() and not wd.is_dir():
            raise ConfigError(f"--workdir {wd} is a file, not a folder")
        self._created = not wd.exists()
        try:
            wd.mkdir(parents=True, exist_ok=True)
            fd = os.open(wd / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ConfigError(f"cannot use --workdir {wd}: {e.strerror or e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(
                f"{wd} is in use by another run (PID {holder}); wait for it to end or use "
                "another --workdir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if exc_type is not None and self._created:
            with contextlib.suppress(OSError):
                if os.listdir(self.workdir) == [LOCK_NAME]:
                    (self.workdir / LOCK_NAME).unlink()
                    self.workdir.rmdir()
