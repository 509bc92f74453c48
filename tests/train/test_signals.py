"""freqssm.train.signals: a signal during start-up raises at once; SIGTERM on slow steps stops
within a step and resumes exactly."""

import os
import signal
import time
from pathlib import Path

import jax
import pytest

from freqssm.errors import StartupInterruptedError
from freqssm.train import tasks
from freqssm.train.loop import train_and_evaluate
from freqssm.train.signals import StopSignals

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


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
    run_records, tmp_path, monkeypatch, smoke
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
    # a stop at a non-log step changes nothing
    assert run_records(wd) == run_records(tmp_path / "ref")
