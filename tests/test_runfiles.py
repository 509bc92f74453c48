"""Nothing lost: atomic run files, the workdir lock, restore errors that are not corruption,
checksums, bounded skipping, prompt stops, finished reruns and one-line input errors."""

import builtins
import errno
import gc
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from freqssm.errors import CheckpointError, ConfigError, NonFiniteError, StartupInterruptedError
from freqssm.train import checkpoint, tasks
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.loop import train_and_evaluate
from freqssm.train.metric_log import RunLogger, read_jsonl
from freqssm.train.runfiles import WorkdirLock, atomic_write_text
from freqssm.train.signals import StopSignals

REPO = Path(__file__).resolve().parents[1]
WAVES = str(REPO / "configs" / "waves.py")
TIMING = ("train/steps_per_s",)  # the only record fields that depend on the machine's speed


def snapshot(folder):
    """{relative path: bytes} of every file below ``folder`` but the lock file."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def records(workdir):
    return [
        {k: v for k, v in r.items() if k not in TIMING}
        for r in read_jsonl(workdir / "metrics.jsonl")
    ]


def cli(*args, timeout=300, env=None):
    """``python -m freqssm.train ARGS`` (``timeout``: a hang guard, not a timing)."""
    env = dict(os.environ, WANDB_MODE="disabled", **(env or {}))
    cmd = [sys.executable, "-m", "freqssm.train", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


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
        RunLogger(tmp_path, smoke(), resume_step=1500)
    monkeypatch.undo()
    assert path.read_text() == "".join(lines)
    assert not [p for p in tmp_path.iterdir() if p.name != "metrics.jsonl"]  # no temp left


def test_atomic_write_replaces_in_one_step(tmp_path):
    p = tmp_path / "results.json"
    atomic_write_text(p, "old")
    atomic_write_text(p, "new")
    assert p.read_text() == "new" and [q.name for q in tmp_path.iterdir()] == ["results.json"]


# --- the workdir lock ---------------------------------------------------------------------


def test_a_second_run_on_the_same_workdir_stops_at_once(tmp_path):
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "freqssm.train",
            f"--config={WAVES}:smoke",
            "--config.train.steps=40",
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
    second = cli(f"--config={WAVES}:smoke", f"--workdir={tmp_path}")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert second.returncode == 2
    assert f"in use by another run (PID {first.pid})" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    steps = [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl") if "train/loss" in r]
    assert steps == sorted(set(steps)) and steps[-1] == 40  # one writer, no interleaving


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


# --- restore: model changes, I/O errors, corruption, checksums ------------------------------


def test_force_with_a_changed_model_touches_nothing(tmp_path, smoke):
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    (tmp_path / "results.json").unlink()  # an interrupted run: it would resume
    before = snapshot(tmp_path)
    changed = smoke(
        **{"train.steps": 4, "train.eval_every": 4, "model.d_model": 24, "train.resume": "force"}
    )
    with pytest.raises(ConfigError, match=r"does not restore into this config.*model\.d_model"):
        train_and_evaluate(changed, tmp_path)
    assert snapshot(tmp_path) == before
    # the original command still resumes (nothing was moved aside or overwritten)
    res = train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    assert res["step"] == 4


def _interrupted_run(wd, smoke, **overrides):
    """A 4-step smoke run in ``wd`` with checkpoints at 2 and 4, as if killed before its
    results were written (a rerun would resume it); returns its config."""
    cfg = smoke(**{"train.steps": 4, "train.eval_every": 4, "train.checkpoint_every": 2})
    for k, v in overrides.items():
        node, last = cfg, k.split(".")
        for part in last[:-1]:
            node = node[part]
        node[last[-1]] = v
    train_and_evaluate(cfg, wd)
    (wd / "results.json").unlink()
    return cfg


def _console_lines(stderr: str) -> list[str]:
    """stderr without absl's log lines (glog-style "W1207 ..." or "WARNING:absl:...")."""
    absl = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d|(?:INFO|WARNING|ERROR):absl:)")
    return [ln for ln in stderr.splitlines() if ln.strip() and not absl.match(ln)]


REFUSE_20 = """
import json, sys
import ml_collections
from freqssm.errors import ConfigError
from freqssm.train.cli import quiet_background_failures
from freqssm.train.loop import train_and_evaluate

quiet_background_failures()  # as the CLI does
cfg = ml_collections.ConfigDict(json.loads(open(sys.argv[1]).read()))
for _ in range(20):
    try:
        train_and_evaluate(cfg, sys.argv[2])
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
"""


def test_a_refused_restore_is_one_line_every_time(tmp_path, smoke):
    """20 refused restores (resume=force into a model that does not fit) in one process: the
    only console lines are the 20 errors, no traceback of an abandoned read, nothing touched."""
    wd = tmp_path / "run"
    cfg = _interrupted_run(wd, smoke)
    before = snapshot(wd)
    cfg.model.d_model, cfg.train.resume = 8, "force"
    (tmp_path / "cfg.json").write_text(cfg.to_json())
    env = dict(os.environ, WANDB_MODE="disabled")
    # a guard against a hung run, not a timing: the 20 refusals take seconds
    proc = subprocess.run(
        [sys.executable, "-c", REFUSE_20, str(tmp_path / "cfg.json"), str(wd)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = _console_lines(proc.stderr)
    assert len(lines) == 20, lines[:30]
    assert len(set(lines)) == 1 and "does not restore into this config" in lines[0]
    assert "model.d_model" in lines[0] and "float32[16]" in lines[0]
    assert snapshot(wd) == before


def test_a_refused_restore_leaves_no_unraisable_exception(tmp_path, monkeypatch, smoke):
    wd = tmp_path / "run"
    cfg = _interrupted_run(wd, smoke)
    cfg.model.d_model, cfg.train.resume = 8, "force"
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    for _ in range(5):
        with pytest.raises(ConfigError, match="does not restore into this config"):
            train_and_evaluate(cfg, wd)
    gc.collect()  # abandoned coroutines are finalized (and reported) when collected
    assert seen == []


def test_a_tree_that_does_not_fit_an_unchanged_config_is_refused_not_quarantined(tmp_path):
    """What an old workdir meets after a parameter was renamed: intact data that does not fit.
    Refused in one line naming the differing paths; nothing moved to corrupt-*."""
    old = {"w": np.arange(6.0, dtype=np.float32), "b": np.ones(2, np.float32)}
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    ck.save(1, old, {"step": 1})
    ck.save(2, old, {"step": 2})
    ck.close()
    before = snapshot(tmp_path)
    renamed = {"w": old["w"], "bias": old["b"]}
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    with pytest.raises(ConfigError) as err:
        ck.restore_latest(renamed)
    msg = str(err.value)
    assert "\n" not in msg and "step 2" in msg and "config is unchanged" in msg
    assert "state.b only in the checkpoint" in msg and "state.bias only in this config" in msg
    with pytest.raises(ConfigError, match="float64\\[6\\] here"):  # a dtype differs
        ck.restore_latest({"w": old["w"].astype(np.float64), "b": old["b"]})
    ck.close()
    assert snapshot(tmp_path) == before  # no corrupt-* folder, every step in place
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    got, meta = ck.restore_latest(old)  # the matching tree still restores
    ck.close()
    assert meta["step"] == 2 and np.array_equal(got["b"], old["b"])


@pytest.mark.parametrize("case", ["all_corrupt", "changed_config", "resume_never"])
def test_refusals_on_the_console_are_one_line(tmp_path, smoke, case):
    wd = tmp_path / "run"
    _interrupted_run(wd, smoke, **{"train.analysis": False})
    args = [
        f"--config={WAVES}:smoke",
        "--config.train.steps=4",
        "--config.train.eval_every=4",
        "--config.train.checkpoint_every=2",
        "--config.train.analysis=False",
        f"--workdir={wd}",
    ]
    if case == "all_corrupt":
        for f in (wd / "checkpoints").rglob("*"):
            if f.is_file() and "state" in f.parts:
                f.write_bytes(b"garbage")
        expect = "no usable checkpoint"
    elif case == "changed_config":
        args.append("--config.model.d_model=8")
        expect = "holds a run with a different config (keys: model.d_model)"
    else:
        args.append("--config.train.resume=never")
        expect = "train.resume=never"
    for _ in range(2 if case == "all_corrupt" else 1):  # and again once quarantined
        out = cli(*args)
        assert out.returncode == 2
        lines = _console_lines(out.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], lines


def test_io_errors_on_restore_touch_nothing(tmp_path, monkeypatch, smoke):
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    (tmp_path / "results.json").unlink()
    before = snapshot(tmp_path)

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(checkpoint.ocp.CheckpointManager, "restore", denied)
    with pytest.raises(CheckpointError, match="nothing was changed"):
        train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    assert snapshot(tmp_path) == before


def test_a_run_whose_checkpoints_are_all_unusable_stops_and_says_so(tmp_path, smoke):
    cfg = smoke(**{"train.steps": 4, "train.eval_every": 4, "train.checkpoint_every": 2})
    train_and_evaluate(cfg, tmp_path)
    (tmp_path / "results.json").unlink()
    for f in (tmp_path / "checkpoints").rglob("*"):
        if f.is_file() and "state" in f.parts:
            f.write_bytes(b"garbage")
    for _ in range(2):  # and again on the rerun: never a silent restart from step 0
        with pytest.raises(CheckpointError, match="no usable checkpoint"):
            train_and_evaluate(cfg, tmp_path)
    assert not (tmp_path / "results.json").exists()


def test_checksum_mismatch_is_detected_and_falls_back(tmp_path):
    state = {"w": np.arange(6.0, dtype=np.float32), "b": np.ones(2, np.float32)}
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    ck.save(1, state, {"step": 1})
    ck.save(2, jax.tree.map(lambda a: a + 1, state), {"step": 2})
    ck.close()
    # a byte of step 2's data changed after it was written (the checksum no longer matches)
    meta_file = next((tmp_path / "checkpoints" / "2" / "meta").glob("metadata"))
    meta = json.loads(meta_file.read_text())
    meta["checksum"] = "0" * 64
    meta_file.write_text(json.dumps(meta))
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    got, m = ck.restore_latest(state)
    ck.close()
    assert m["step"] == 1
    np.testing.assert_array_equal(got["w"], state["w"])
    assert any(p.name.startswith("corrupt-2") for p in (tmp_path / "checkpoints").iterdir())


def test_a_flipped_byte_in_the_array_data_is_never_restored_silently(tmp_path):
    state = {"w": np.linspace(0, 1, 4096, dtype=np.float32)}
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    ck.save(1, state, {"step": 1})
    ck.save(2, {"w": state["w"] * 2}, {"step": 2})
    ck.close()
    data = max(
        (p for p in (tmp_path / "checkpoints" / "2" / "state").rglob("*") if p.is_file()),
        key=lambda p: p.stat().st_size,
    )
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    data.write_bytes(bytes(raw))
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    got, m = ck.restore_latest(state)
    ck.close()
    assert m["step"] == 1  # step 2 was unreadable or failed its checksum; never returned
    np.testing.assert_array_equal(got["w"], state["w"])


# --- non-finite steps ----------------------------------------------------------------------


def test_a_skipping_run_whose_parameters_overflow_stops(tmp_path, smoke):
    """A huge learning rate overflows the parameters through finite gradients: the update is
    refused (parameters stay finite) and the run stops after max_skipped such steps."""
    cfg = smoke(
        **{
            "optim.lr": 1e38,
            "optim.ssm_lr": 1e38,
            "optim.warmup_steps": 0,
            "train.skip_nonfinite": True,
            "train.max_skipped": 3,
            "train.steps": 40,
            "train.log_every": 1,
        }
    )
    with pytest.raises(NonFiniteError, match="3 consecutive non-finite steps skipped"):
        train_and_evaluate(cfg, tmp_path)
    last = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if "train/nonfinite_skipped" in r]
    assert last and last[-1]["train/nonfinite_skipped"] >= 2


def test_a_nonfinite_stop_leaves_its_last_checkpoint_complete(tmp_path, monkeypatch, smoke):
    """The checkpoint written just before the NaN step is on disk, complete and restorable,
    when the error reaches the caller (not left as an abandoned temporary folder)."""
    import freqssm.data as data_lib
    from freqssm.data.base import ArraySource, Dataset, epoch_permutation

    real = data_lib.build

    def poisoned(cfg):
        ds = real(cfg)
        arrays = ds.train.get(np.arange(len(ds.train)))
        arrays["inputs"][7] = np.nan
        return Dataset(ArraySource(arrays), ds.val, ds.test, ds.meta)

    cfg = smoke(**{"train.steps": 16, "train.checkpoint_every": 1, "train.eval_every": 16})
    order = epoch_permutation(256, cfg.seed, 0)
    bad = next(b + 1 for b in range(16) if 7 in order[b * 16 : (b + 1) * 16])
    monkeypatch.setattr(data_lib, "build", poisoned)
    with pytest.raises(NonFiniteError, match=f"step {bad}\\b"):
        train_and_evaluate(cfg, tmp_path)
    leftovers = [p.name for p in (tmp_path / "checkpoints").rglob("*") if "tmp" in p.name]
    assert leftovers == []
    if bad > 1:
        assert Checkpointer(tmp_path / "checkpoints").steps()[-1] == bad - 1


# --- stopping ------------------------------------------------------------------------------


def test_startup_signals_raise_instead_of_waiting():
    with StopSignals() as stop:
        with pytest.raises(StartupInterruptedError, match="during start-up"):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        stop.arm()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        assert stop.signum == signal.SIGTERM


@pytest.mark.slow
def test_sigterm_on_slow_steps_stops_within_a_step_and_resumes_exactly(
    tmp_path, monkeypatch, smoke
):
    """Each step sleeps 0.2 s on the device. SIGTERM, sent while the second step runs (the
    first has completed, the stop handler is armed), must stop the run within
    ``max_inflight + 1`` steps, not after all 40 queued ones; the resumed run must match an
    uninterrupted one."""
    real = tasks.per_example
    started = []  # steps whose loss has been computed on the device, in order

    def slow(meta, out, targets):
        def tick():
            started.append(1)
            if len(started) == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)

        jax.debug.callback(tick)
        return real(meta, out, targets)

    overrides = {
        "train.steps": 40,
        "train.eval_every": 40,
        "train.checkpoint_every": 40,
        "train.log_every": 3,
    }
    ref = train_and_evaluate(smoke(**overrides), tmp_path / "ref")
    monkeypatch.setattr(tasks, "per_example", slow)
    wd = tmp_path / "run"
    cfg = smoke(**overrides)
    out = train_and_evaluate(cfg, wd)
    assert out.get("interrupted") is True, out
    assert 2 <= out["step"] <= 2 + cfg.train.max_inflight + 1, out
    monkeypatch.setattr(tasks, "per_example", real)
    res = train_and_evaluate(smoke(**overrides), wd)
    assert res["test"] == ref["test"] and res["val"] == ref["val"]
    assert records(wd) == records(tmp_path / "ref")  # a stop at a non-log step changes nothing


# --- reruns and bad input ------------------------------------------------------------------


def test_a_finished_run_rerun_reports_and_writes_nothing(tmp_path, smoke):
    train_and_evaluate(smoke(), tmp_path)  # the smoke command, run in this process
    args = [
        f"--config={WAVES}:smoke",
        "--config.train.analysis=False",
        "--config.train.progress=False",
        f"--workdir={tmp_path}",
    ]
    before = snapshot(tmp_path)
    env = {"JAX_LOG_COMPILES": "1"}  # jax logs every compilation ("Compiling jit(...)")
    again = cli(*args, env=env)
    assert again.returncode == 0 and "already finished" in again.stdout
    assert "Compiling" not in again.stderr  # no model built, traced or compiled
    assert snapshot(tmp_path) == before
    # the same variable does show a compilation (so the assertion above can fail)
    probe = "import jax; jax.jit(lambda x: x + 1)(1)"
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a timing
    )
    assert "Compiling" in shown.stderr


def test_a_failed_start_leaves_the_workdir_as_it_was(tmp_path, smoke):
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    (tmp_path / "results.json").unlink()
    before = snapshot(tmp_path)
    bad = smoke(**{"train.steps": 4, "train.eval_every": 4, "data.n_train": 0})
    with pytest.raises(Exception):  # noqa: B017 - any start-up failure
        train_and_evaluate(bad, tmp_path)
    assert snapshot(tmp_path) == before
    # and the corrected (original) command is not refused as "a different config"
    assert train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)


@pytest.mark.parametrize(
    "args,match",
    [
        (["--config=configs/nope.py"], "cannot load the --config file"),
        ([f"--config={WAVES}:nope"], "unknown variant 'nope'"),
    ],
)
def test_bad_config_files_and_variants_are_one_line(tmp_path, args, match):
    r = cli(*args, f"--workdir={tmp_path / 'w'}")
    assert r.returncode == 2 and match in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_workdir_that_is_a_file_is_one_line(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = cli(f"--config={WAVES}:smoke", f"--workdir={f}")
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


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
def test_a_full_disk_is_one_line_and_leaves_a_resumable_workdir(small_disk):
    args = [
        f"--config={WAVES}:smoke",
        "--config.train.steps=60",
        "--config.train.checkpoint_every=10",
        "--config.train.eval_every=20",
        "--config.train.analysis=False",
        "--config.train.progress=False",
        f"--workdir={small_disk / 'run'}",
    ]
    full = cli(*args)
    assert full.returncode == 2 and "the disk is full" in full.stderr
    assert len(full.stderr.strip().splitlines()) == 1, full.stderr[-3000:]
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    again = cli(*args)
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


def test_one_manager_keeps_the_newest_steps_and_the_best(tmp_path):
    """keep=2 plus the best by validation, also across a restart (the best's mark is on disk)."""
    state = lambda s: {"w": np.full(3, float(s), np.float32)}  # noqa: E731
    ck = Checkpointer(tmp_path / "ck", keep=2)
    for s in range(1, 7):
        ck.save(s, state(s), {"step": s}, best=s in (1, 2))
    ck.wait()
    assert ck.steps() == [2, 5, 6] and ck.best_step() == 2
    np.testing.assert_array_equal(ck.restore_best(state(0))["w"], state(2)["w"])
    ck.close()
    again = Checkpointer(tmp_path / "ck", keep=2)  # a resumed run
    assert again.best_step() == 2
    for s in (7, 8):
        again.save(s, state(s), {"step": s})
    again.wait()
    assert again.steps() == [2, 7, 8]
    again.save(9, state(9), {"step": 9}, best=True)  # a new best replaces the old one
    again.wait()
    assert again.steps() == [8, 9] and again.best_step() == 9
    restored, meta = again.restore_latest(state(0))
    assert meta["step"] == 9 and float(restored["w"][0]) == 9.0
    again.close()
    fresh = Checkpointer(tmp_path / "none")
    assert fresh.best_step() is None
    with pytest.raises(FileNotFoundError):
        fresh.restore_best(state(0))
    fresh.close()


def test_the_earlier_last_best_layout_is_one_line(tmp_path):
    (tmp_path / "checkpoints" / "last" / "10").mkdir(parents=True)
    with pytest.raises(CheckpointError, match=r"mv .*/last/\*"):
        Checkpointer(tmp_path / "checkpoints")
