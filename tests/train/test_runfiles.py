"""freqssm.train.runfiles: atomic files, the workdir lock, a full disk, and late writes after a
failed save."""

import builtins
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from freqssm.errors import ConfigError
from freqssm.train.loop import train_and_evaluate
from freqssm.train.metric_log import RunLogger, read_jsonl
from freqssm.train.runfiles import WorkdirLock, atomic_write_text

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


# --- atomic files -------------------------------------------------------------------------


class _HalfWriter(io.StringIO):
    """A text file that takes half of what is written, then fails as a full disk does."""

    def __init__(self, real):
        super().__init__()
        self.real = real

    def write(self, text):
        self.real.write(text[: len(text) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __exit__(self, *exc):
        self.real.close()
        return False


def test_a_failed_metrics_rewrite_on_resume_loses_no_record(tmp_path, monkeypatch, smoke):
    """The rewrite that drops records after the resumed checkpoint fails halfway (full disk,
    kill): the file still holds every record."""
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": s, "train/loss": 1.0 / (s + 1)}) + "\n" for s in range(2000)]
    path.write_text("".join(lines))
    real_open = builtins.open

    def failing_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        return _HalfWriter(f) if "w" in mode and "metrics" in str(file) else f

    monkeypatch.setattr(builtins, "open", failing_open)
    monkeypatch.setattr(io, "open", failing_open)
    with pytest.raises(OSError):
        RunLogger(tmp_path, smoke().log.wandb, {}, resume_step=1500)
    monkeypatch.undo()
    assert path.read_text() == "".join(lines)
    assert not [p for p in tmp_path.iterdir() if p.name != "metrics.jsonl"]  # no temp left


def test_atomic_write_replaces_in_one_step(tmp_path):
    p = tmp_path / "results.json"
    atomic_write_text(p, "old")
    atomic_write_text(p, "new")
    assert p.read_text() == "new" and [q.name for q in tmp_path.iterdir()] == ["results.json"]


# --- the workdir lock ---------------------------------------------------------------------


def test_a_second_run_on_the_same_workdir_stops_at_once(train_cli, tmp_path):
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "freqssm.train",
            f"--config={WAVES}:smoke",
            # far more steps than it will run: it is still running when the second one starts
            # (a short first run could finish, with a warm compilation cache, before the second
            # one has imported jax), and is stopped by SIGTERM afterwards
            "--config.train.steps=100000",
            "--config.train.log_every=5",
            "--config.train.analysis=False",
            "--config.train.progress=False",
            f"--workdir={tmp_path}",
        ],
        cwd=REPO,
        env=dict(os.environ, WANDB_MODE="disabled"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120  # a hang guard: the lock appears within seconds
    while not (tmp_path / ".lock").exists() and time.time() < deadline:
        time.sleep(0.05)
    second = train_cli(f"--config={WAVES}:smoke", f"--workdir={tmp_path}")
    metrics = tmp_path / "metrics.jsonl"
    while not (metrics.exists() and "train/loss" in metrics.read_text()):  # training has begun
        assert first.poll() is None and time.time() < deadline + 120, "the first run ended"
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]  # stopped at a step with a checkpoint
    assert "stopped by signal" in err
    assert second.returncode == 2
    assert f"in use by another run (PID {first.pid})" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    steps = [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl") if "train/loss" in r]
    assert steps == sorted(set(steps))  # one writer, no interleaving


def test_lock_is_exclusive_and_a_failed_start_removes_a_new_workdir(tmp_path):
    wd = tmp_path / "new"
    holder = WorkdirLock(wd).__enter__()
    with pytest.raises(ConfigError, match=f"PID {os.getpid()}"), WorkdirLock(wd):
        pass
    holder.__exit__(None, None, None)
    assert wd.is_dir()  # a successful block keeps its workdir
    wd2 = tmp_path / "fails"
    with pytest.raises(RuntimeError), WorkdirLock(wd2):
        raise RuntimeError("start-up failed")
    assert not wd2.exists()


def test_only_process_zero_of_a_multi_host_run_takes_the_lock(tmp_path, monkeypatch, smoke):
    holder = WorkdirLock(tmp_path).__enter__()  # process 0 of the same run holds the workdir
    import freqssm.train.loop

    monkeypatch.setattr(freqssm.train.loop, "is_main_process", lambda: False)
    res = train_and_evaluate(smoke(**{"train.steps": 2, "train.eval_every": 2}), tmp_path)
    holder.__exit__(None, None, None)
    assert res["step"] == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 600 KiB tmpfs (a waves smoke run needs about 1 MB); skipped where none can be mounted."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_a_resumable_workdir(train_cli, small_disk):
    args = [
        f"--config={WAVES}:smoke",
        "--config.train.steps=60",
        "--config.train.checkpoint_every=10",
        "--config.train.eval_every=20",
        "--config.train.analysis=False",
        "--config.train.progress=False",
        f"--workdir={small_disk / 'run'}",
    ]
    full = train_cli(*args)
    assert full.returncode == 2 and "the disk is full" in full.stderr
    assert len(full.stderr.strip().splitlines()) == 1, full.stderr[-3000:]
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = train_cli(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "done: 60 steps" in again.stdout


_LATE_WRITE = """
import asyncio, sys, threading
import tensorstore as ts
from freqssm.train import cli as main
if sys.argv[1] == "quiet":
    main.quiet_background_failures()
promise, future = ts.Promise.new()

async def _wait():
    return await future

async def wait_briefly():
    asyncio.ensure_future(_wait())
    await asyncio.sleep(0.02)

loop = asyncio.new_event_loop()
loop.run_until_complete(wait_briefly())
loop.close()  # like orbax after a failed save: the write it waited for is still in flight
t = threading.Thread(target=promise.set_result, args=(1,))
t.start()
t.join()

class Other:
    def __del__(self):
        raise ValueError("a different failure")

Other()
print("end", file=sys.stderr)
"""


@pytest.mark.parametrize("mode", ["quiet", "default"])
def test_writes_finishing_after_a_failed_save_are_not_printed(tmp_path, mode):
    """The full-disk line stays one line: tensorstore completing a write after orbax closed its
    event loop raises "Event loop is closed" in a background thread; the CLI drops exactly that
    one and still prints any other unraisable error."""
    script = tmp_path / "late_write.py"
    script.write_text(_LATE_WRITE)
    r = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "a different failure" in r.stderr and "end" in r.stderr
    assert ("Event loop is closed" in r.stderr) == (mode == "default"), r.stderr
