"""Runs that survive faults: signals, kills, non-finite losses, corrupt checkpoints, wandb."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from freqssm import data as data_lib
from freqssm.data.base import ArraySource, Dataset, epoch_permutation
from freqssm.errors import NonFiniteError
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.loop import train_and_evaluate
from freqssm.train.metric_log import read_jsonl

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")

ARGS = [
    f"--config={WAVES}:smoke",
    "--config.train.steps=60",
    "--config.train.eval_every=20",
    "--config.train.checkpoint_every=10",
    "--config.train.analysis=False",
    "--config.train.progress=False",
    "--config.train.log_every=1",
]


# 4 steps per jitted call, logging every 4 steps (so that calls are 4 steps long)
ARGS_K4 = [*ARGS[:-1], "--config.train.log_every=4", "--config.train.steps_per_call=4"]


def start(workdir, args=ARGS):
    env = dict(os.environ, WANDB_MODE="disabled")
    return subprocess.Popen(
        [sys.executable, "-m", "freqssm.train", *args, f"--workdir={workdir}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_steps(workdir, n, proc, timeout=240):
    """Wait until metrics.jsonl has logged train step n (the run is then mid-way)."""
    deadline = time.time() + timeout  # a hang guard: the steps come within seconds
    while time.time() < deadline and proc.poll() is None:
        recs = read_jsonl(Path(workdir) / "metrics.jsonl")
        if any(r.get("step", 0) >= n and "train/loss" in r for r in recs):
            return
        time.sleep(0.02)


def final(workdir):
    return json.loads((Path(workdir) / "results.json").read_text())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    wd = tmp_path_factory.mktemp("ref")
    p = start(wd)
    assert p.wait() == 0, p.stderr.read()
    return final(wd), read_jsonl(wd / "metrics.jsonl")


@pytest.mark.slow
@pytest.mark.parametrize(
    "sig,attempt",
    [
        (signal.SIGKILL, 0),
        (signal.SIGKILL, 1),
        (signal.SIGTERM, 0),
        (signal.SIGTERM, 1),
        (signal.SIGINT, 0),
    ],
)
def test_killed_or_terminated_runs_resume_to_the_same_end(tmp_path, reference, sig, attempt):
    rng = random.Random(1000 * sig + attempt)
    wd = tmp_path / "run"
    p = start(wd)
    wait_for_steps(wd, rng.randint(5, 45), p)
    ckpts_before = set(Checkpointer(wd / "checkpoints").steps()) if sig == signal.SIGKILL else None
    p.send_signal(sig)
    rc = p.wait(timeout=120)
    assert not (wd / "results.json").exists(), "finished before the signal"
    done = Checkpointer(wd / "checkpoints").steps()
    if sig in (signal.SIGTERM, signal.SIGINT):
        assert rc == 0, p.stderr.read()  # a clean exit that wrote a checkpoint at the stop step
        stopped = max(r["step"] for r in read_jsonl(wd / "metrics.jsonl") if "train/loss" in r)
        assert max(done) == stopped
    else:
        assert set(done) >= {s for s in ckpts_before if s >= max(done) - 10}
    p = start(wd)
    _, err = p.communicate()
    assert p.returncode == 0, err
    if done:  # killed before the first checkpoint, the rerun rightly starts afresh
        assert "resumed from step" in err
    ref, ref_recs = reference
    res = final(wd)
    assert res["test"] == ref["test"] and res["val"] == ref["val"] and res["best"] == ref["best"]
    loss = lambda recs: [(r["step"], r["train/loss"]) for r in recs if "train/loss" in r]  # noqa: E731
    assert loss(read_jsonl(wd / "metrics.jsonl")) == loss(ref_recs)


@pytest.mark.slow
def test_four_steps_per_call_killed_between_calls_resumes_to_the_same_end(tmp_path):
    """SIGKILL while 4-step calls run (prefetch thread on): the rerun ends exactly where an
    uninterrupted 4-step run ends, with the same metrics.jsonl."""
    ref = start(tmp_path / "ref", ARGS_K4)
    assert ref.wait() == 0, ref.stderr.read()
    wd = tmp_path / "run"
    p = start(wd, ARGS_K4)
    wait_for_steps(wd, 24, p)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=120)
    assert not (wd / "results.json").exists(), "finished before the signal"
    assert Checkpointer(wd / "checkpoints").steps()  # so the rerun resumes (10 or 20)
    p = start(wd, ARGS_K4)
    _, err = p.communicate()
    assert p.returncode == 0 and "resumed from step" in err, err
    res, want = final(wd), final(tmp_path / "ref")
    assert res["test"] == want["test"] and res["val"] == want["val"] and res["best"] == want["best"]
    steps = lambda recs: [(r["step"], r["train/loss"]) for r in recs if "train/loss" in r]  # noqa: E731
    got = steps(read_jsonl(wd / "metrics.jsonl"))
    assert got == steps(read_jsonl(tmp_path / "ref" / "metrics.jsonl"))
    # records at every log step and every checkpoint step (calls end at both)
    assert [s for s, _ in got] == [s for s in range(1, 61) if s % 4 == 0 or s % 10 == 0]


def _poisoned_build(poison_index):
    """A data builder whose training example ``poison_index`` holds NaN inputs."""
    real = data_lib.build

    def build(cfg):
        ds = real(cfg)
        arrays = ds.train.get(np.arange(len(ds.train)))
        arrays["inputs"][poison_index] = np.nan
        return Dataset(ArraySource(arrays), ds.val, ds.test, ds.meta)

    return build


def _first_step_with(index, n, batch_size, seed):
    per_epoch = n // batch_size
    order = epoch_permutation(n, seed, 0)
    for b in range(per_epoch):
        if index in order[b * batch_size : (b + 1) * batch_size]:
            return b + 1
    raise AssertionError


def test_nonfinite_loss_stops_with_the_step_and_keeps_good_checkpoints(
    tmp_path, monkeypatch, smoke
):
    cfg = smoke(**{"train.steps": 16, "train.checkpoint_every": 2, "train.eval_every": 16})
    bad = _first_step_with(7, 256, 16, cfg.seed)
    monkeypatch.setattr(data_lib, "build", _poisoned_build(7))
    with pytest.raises(NonFiniteError, match=f"step {bad}\\b"):
        train_and_evaluate(cfg, tmp_path)
    steps = Checkpointer(tmp_path / "checkpoints").steps()
    assert steps and max(steps) < bad


def test_nonfinite_updates_can_be_skipped_and_counted(tmp_path, monkeypatch, smoke):
    cfg = smoke(**{"train.steps": 16, "train.skip_nonfinite": True, "train.eval_every": 16})
    monkeypatch.setattr(data_lib, "build", _poisoned_build(7))
    res = train_and_evaluate(cfg, tmp_path)
    assert res["nonfinite_skipped"] == 1  # index 7 appears once in the 16 steps (one epoch)
    assert np.isfinite(res["test"]["loss"])


@pytest.mark.slow
def test_corrupt_latest_checkpoint_falls_back_to_previous(tmp_path, caplog, smoke):
    cfg = smoke(**{"train.steps": 20, "train.keep": 3})
    train_and_evaluate(cfg, tmp_path)
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    assert ck.steps() == [10, 20]
    for f in (tmp_path / "checkpoints" / "20" / "state").rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    cfg2 = smoke(**{"train.steps": 20, "train.keep": 3})
    # as if killed before its results were written: the rerun resumes from step 10 and
    # recomputes 11..20 (a finished run's rerun only reports its results)
    (tmp_path / "results.json").unlink()
    with caplog.at_level("WARNING"):
        res = train_and_evaluate(cfg2, tmp_path)
    assert "unusable" in caplog.text
    ref = train_and_evaluate(smoke(**{"train.steps": 20, "train.keep": 3}), tmp_path / "ref")
    assert res["test"] == ref["test"]
    assert any(p.name.startswith("corrupt-20") for p in (tmp_path / "checkpoints").iterdir())


def test_wandb_failure_never_stops_training(tmp_path, monkeypatch, smoke):
    import wandb

    def broken(*a, **k):
        raise RuntimeError("no network")

    monkeypatch.setattr(wandb, "init", broken)
    cfg = smoke(**{"log.wandb.mode": "offline", "train.steps": 4, "train.eval_every": 4})
    res = train_and_evaluate(cfg, tmp_path)
    assert res["step"] == 4
    assert any("train/loss" in r for r in read_jsonl(tmp_path / "metrics.jsonl"))


def test_missing_data_is_one_line_and_exit_2(tmp_path):
    env = dict(os.environ, WANDB_MODE="disabled")
    cmd = [
        sys.executable,
        "-m",
        "freqssm.train",
        f"--config={REPO / 'configs' / 'lra_listops.py'}:smoke",
        f"--workdir={tmp_path / 'run'}",
        f"--config.data.root={tmp_path / 'nowhere'}",
    ]
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "python -m freqssm.datagen.listops" in last
    assert "Traceback" not in r.stderr


def test_half_written_checkpoint_is_ignored(tmp_path, smoke):
    train_and_evaluate(smoke(**{"train.steps": 10}), tmp_path)
    last = tmp_path / "checkpoints"
    # what a save interrupted mid-write leaves: a temporary folder, and a step folder with no data
    (last / "20.orbax-checkpoint-tmp-1234" / "state").mkdir(parents=True)
    (last / "20.orbax-checkpoint-tmp-1234" / "state" / "junk").write_bytes(b"\0" * 10)
    (last / "30").mkdir()
    from freqssm.train.run import build_run, init_state

    cfg = smoke(**{"train.steps": 10})
    state = init_state(cfg, build_run(cfg, data_lib.build(cfg.data).meta))
    restored, meta = Checkpointer(tmp_path / "checkpoints").restore_latest(state)
    assert int(restored.step) == 10 and meta["step"] == 10


def test_config_change_is_refused_unless_forced(tmp_path, smoke):
    from freqssm.errors import ConfigError

    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    changed = {"train.steps": 8, "train.eval_every": 4, "model.ssm.alpha": 2.0}
    with pytest.raises(ConfigError, match=r"model\.ssm\.alpha, train\.steps"):
        train_and_evaluate(smoke(**changed), tmp_path)
    res = train_and_evaluate(smoke(**changed, **{"train.resume": "force"}), tmp_path)
    assert res["step"] == 8


def test_wandb_log_failure_keeps_local_logs(tmp_path, monkeypatch, smoke):
    import wandb

    class BrokenRun:
        def __init__(self):
            self.id, self.summary = "x", {}

        def log(self, *a, **k):
            raise OSError("disk full")

        def finish(self):
            pass

    monkeypatch.setattr(wandb, "init", lambda *a, **k: BrokenRun())
    cfg = smoke(**{"log.wandb.mode": "offline", "train.steps": 4, "train.eval_every": 4})
    res = train_and_evaluate(cfg, tmp_path)
    assert res["step"] == 4
    assert any("val/loss" in r for r in read_jsonl(tmp_path / "metrics.jsonl"))
