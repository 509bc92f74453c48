"""Data parallelism: two (forced) CPU devices give the same run as one."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from freqssm.train.checkpoint import Checkpointer
from freqssm.train.metric_log import read_jsonl

REPO = Path(__file__).resolve().parents[2]
ARGS = [
    "-m",
    "freqssm.train",
    f"--config={REPO / 'configs' / 'waves.py'}:smoke",
    "--config.train.steps=8",
    "--config.train.log_every=1",
    "--config.train.eval_every=8",
    "--config.train.analysis=False",
    "--config.train.progress=False",
]


def run(workdir, devices, *extra):
    env = dict(os.environ, WANDB_MODE="disabled")
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return subprocess.run(
        [sys.executable, *ARGS, f"--workdir={workdir}", *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_two_devices_and_two_processes_give_the_one_device_run(tmp_path):
    """Two devices of one process, and two real processes of one device each (coordinator on
    127.0.0.1, shared workdir), train the run one device trains: the same loss curve and
    validation; the two processes write one metrics record per step and one wandb run."""
    for d in (1, 2):
        r = run(tmp_path / f"d{d}", d)
        assert r.returncode == 0, r.stderr
    procs = _start_processes(tmp_path / "p2", 2)
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    runs = ("d1", "d2", "p2")
    recs = {k: read_jsonl(tmp_path / k / "metrics.jsonl") for k in runs}
    assert [recs[k][0]["devices"] for k in runs] == [1, 2, 2]
    curve = {k: [x["train/loss"] for x in recs[k] if "train/loss" in x] for k in runs}
    assert len(curve["d1"]) == 8
    # process 1 wrote nothing: one record per step, one wandb run
    assert [x["step"] for x in recs["p2"] if "train/loss" in x] == list(range(1, 9))
    assert len(list((tmp_path / "p2" / "wandb").glob("offline-run-*"))) == 1
    val = {k: [x["val/loss"] for x in recs[k] if "val/loss" in x] for k in runs}
    for k in ("d2", "p2"):
        np.testing.assert_allclose(curve[k], curve["d1"], rtol=1e-5)
        np.testing.assert_allclose(val[k], val["d1"], rtol=1e-5)


@pytest.mark.slow
def test_batch_must_divide_the_device_count(tmp_path):
    r = run(tmp_path / "bad", 2, "--config.data.batch_size=15")
    assert r.returncode == 2
    assert "data.batch_size=15" in r.stderr and "Traceback" not in r.stderr


def test_coordinator_variables_are_passed_to_jax_explicitly(monkeypatch):
    import jax

    from freqssm.errors import ConfigError
    from freqssm.train.parallel import maybe_initialize_distributed

    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda *a, **k: calls.append((a, k)))
    for k in (
        "SLURM_NTASKS",
        "OMPI_COMM_WORLD_SIZE",
        "TPU_WORKER_HOSTNAMES",
        "FREQSSM_DISTRIBUTED",
    ):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("JAX_COORDINATOR_ADDRESS", raising=False)
    maybe_initialize_distributed()
    assert calls == []  # a single-machine run never waits for a coordinator
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "127.0.0.1:12345")
    monkeypatch.setenv("JAX_NUM_PROCESSES", "2")
    monkeypatch.setenv("JAX_PROCESS_ID", "1")
    maybe_initialize_distributed()
    assert calls == [
        ((), {"coordinator_address": "127.0.0.1:12345", "num_processes": 2, "process_id": 1})
    ]
    monkeypatch.delenv("JAX_PROCESS_ID")
    with pytest.raises(ConfigError, match="JAX_PROCESS_ID"):
        maybe_initialize_distributed()
    monkeypatch.setenv("JAX_PROCESS_ID", "one")
    with pytest.raises(ConfigError, match="whole numbers"):
        maybe_initialize_distributed()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_processes(workdir, n, *extra, port=None):
    port = port or _free_port()
    procs = []
    for pid in range(n):
        env = dict(os.environ, WANDB_MODE="offline", XLA_FLAGS="")
        env.update(
            JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
            JAX_NUM_PROCESSES=str(n),
            JAX_PROCESS_ID=str(pid),
        )
        cmd = [sys.executable, *ARGS, f"--workdir={workdir}", "--config.log.wandb.mode=offline"]
        procs.append(
            subprocess.Popen(
                [*cmd, *extra],
                cwd=REPO,
                env=env,
                stderr=subprocess.PIPE,
                text=True,
                stdout=subprocess.DEVNULL,
            )
        )
    return procs


@pytest.mark.slow
def test_a_signal_to_one_process_stops_both_at_the_same_step(tmp_path):
    """SIGTERM to one process of two (a preempted host): both checkpoint the same step and
    exit cleanly."""
    wd = tmp_path / "stopped"
    long = ("--config.train.steps=400", "--config.train.checkpoint_every=1000")
    procs = _start_processes(wd, 2, *long)
    deadline = time.time() + 240  # a hang guard: the first step is logged within seconds
    while time.time() < deadline and not any(
        "train/loss" in r for r in read_jsonl(wd / "metrics.jsonl")
    ):
        time.sleep(0.05)
    procs[1].send_signal(signal.SIGTERM)
    stopped_at = set()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        stopped_at.add(int(re.search(r"stopped by signal 15 at step (\d+)", err).group(1)))
    (step,) = stopped_at  # both processes stopped at the same step
    saved = Checkpointer(wd / "checkpoints").steps()
    logged = max(r["step"] for r in read_jsonl(wd / "metrics.jsonl") if "train/loss" in r)
    assert max(saved) == logged == step < 400
    assert not (wd / "results.json").exists()


def test_each_process_builds_only_its_rows_of_the_global_batch():
    """Two simulated processes: their row slices of every train and eval batch, each read on
    its own, concatenate to the global batch a single process builds."""
    from freqssm.data.base import ArraySource, eval_batches, train_batches

    rng = np.random.default_rng(0)
    arrays = {"inputs": rng.standard_normal((23, 5, 2)), "targets": rng.integers(0, 3, 23)}
    read = []

    class Counting(ArraySource):
        def get(self, indices):
            read.append(len(indices))
            return super().get(indices)

    src = Counting(arrays)
    B, halves = 6, (slice(0, 3), slice(3, 6))
    whole = train_batches(src, B, seed=4, start_step=2)
    parts = [train_batches(src, B, seed=4, start_step=2, rows=r) for r in halves]
    for _ in range(7):  # crosses an epoch boundary (3 batches per epoch)
        g = next(whole)
        read.clear()
        local = [next(p) for p in parts]
        assert read == [3, 3]  # each process read only its 3 examples
        for k in g:
            np.testing.assert_array_equal(np.concatenate([b[k] for b in local]), g[k])
    for g, *local in zip(
        eval_batches(src, B), *(eval_batches(src, B, rows=r) for r in halves), strict=True
    ):
        for k in g:
            np.testing.assert_array_equal(np.concatenate([b[k] for b in local]), g[k])
