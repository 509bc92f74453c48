"""Data parallelism: two (forced) CPU devices give the same run as one."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from freqssm.logging import read_jsonl

REPO = Path(__file__).resolve().parents[1]
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
def test_two_devices_give_the_one_device_loss_curve(tmp_path):
    for d in (1, 2):
        r = run(tmp_path / f"d{d}", d)
        assert r.returncode == 0, r.stderr
    recs = {d: read_jsonl(tmp_path / f"d{d}" / "metrics.jsonl") for d in (1, 2)}
    assert recs[1][0]["devices"] == 1 and recs[2][0]["devices"] == 2
    curve = {d: [x["train/loss"] for x in recs[d] if "train/loss" in x] for d in (1, 2)}
    assert len(curve[1]) == 8
    np.testing.assert_allclose(curve[2], curve[1], rtol=1e-5)
    val = {d: [x["val/loss"] for x in recs[d] if "val/loss" in x] for d in (1, 2)}
    np.testing.assert_allclose(val[2], val[1], rtol=1e-5)


@pytest.mark.slow
def test_batch_must_divide_the_device_count(tmp_path):
    r = run(tmp_path / "bad", 2, "--config.data.batch_size=15")
    assert r.returncode == 2
    assert "data.batch_size=15" in r.stderr and "Traceback" not in r.stderr


def test_coordinator_variables_are_passed_to_jax_explicitly(monkeypatch):
    import jax

    from freqssm.config import ConfigError
    from freqssm.parallel import maybe_initialize_distributed

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
