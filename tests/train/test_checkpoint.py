"""freqssm.train.checkpoint: restores refused for changed models, I/O errors and corruption (one
line, nothing touched or the step quarantined), checksums, keeping steps."""

import errno
import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from freqssm.errors import CheckpointError, ConfigError
from freqssm.train import checkpoint
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.loop import train_and_evaluate

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


# --- restore: model changes, I/O errors, corruption, checksums ------------------------------


def test_force_with_a_changed_model_touches_nothing(folder_bytes, tmp_path, smoke):
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    (tmp_path / "results.json").unlink()  # an interrupted run: it would resume
    before = folder_bytes(tmp_path)
    changed = smoke(
        **{"train.steps": 4, "train.eval_every": 4, "model.d_model": 24, "train.resume": "force"}
    )
    with pytest.raises(ConfigError, match=r"does not restore into this config.*model\.d_model"):
        train_and_evaluate(changed, tmp_path)
    assert folder_bytes(tmp_path) == before
    # the original command still resumes (nothing was moved aside or overwritten)
    res = train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    assert res["step"] == 4


def _interrupted_run(wd, smoke, **overrides):
    """A 4-step smoke run in ``wd`` with checkpoints at 2 and 4, as if killed before its
    results were written (a rerun would resume it); returns its config."""
    steps = {"train.steps": 4, "train.eval_every": 4, "train.checkpoint_every": 2}
    cfg = smoke(**steps, **overrides)
    train_and_evaluate(cfg, wd)
    (wd / "results.json").unlink()
    return cfg


def _console_lines(stderr: str) -> list[str]:
    """stderr without absl's log lines (glog-style "W1207 ..." or "WARNING:absl:...")."""
    absl = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d|(?:INFO|WARNING|ERROR):absl:)")
    return [ln for ln in stderr.splitlines() if ln.strip() and not absl.match(ln)]


REFUSE_20 = """
import json, sys
from freqssm.config import from_config_dict
from freqssm.errors import ConfigError
from freqssm.train.cli import quiet_background_failures
from freqssm.train.loop import train_and_evaluate

quiet_background_failures()  # as the CLI does
cfg = from_config_dict(json.loads(open(sys.argv[1]).read()))
for _ in range(20):
    try:
        train_and_evaluate(cfg, sys.argv[2])
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
"""


def test_a_refused_restore_is_one_line_every_time(folder_bytes, tmp_path, smoke):
    """20 refused restores (resume=force into a model that does not fit) in one process: the
    only console lines are the 20 errors, no traceback of an abandoned read, nothing touched."""
    wd = tmp_path / "run"
    cfg = _interrupted_run(wd, smoke)
    before = folder_bytes(wd)
    cfg = cfg.updated({"model.d_model": 8, "train.resume": "force"})
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.as_dict()))
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
    assert folder_bytes(wd) == before


def test_a_refused_restore_leaves_no_unraisable_exception(tmp_path, monkeypatch, smoke):
    wd = tmp_path / "run"
    cfg = _interrupted_run(wd, smoke)
    cfg = cfg.updated({"model.d_model": 8, "train.resume": "force"})
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    for _ in range(5):
        with pytest.raises(ConfigError, match="does not restore into this config"):
            train_and_evaluate(cfg, wd)
    gc.collect()  # abandoned coroutines are finalized (and reported) when collected
    assert seen == []


def test_a_tree_that_does_not_fit_an_unchanged_config_is_refused_not_quarantined(
    folder_bytes, tmp_path
):
    """What an old workdir meets after a parameter was renamed: intact data that does not fit.
    Refused in one line naming the differing paths; nothing moved to corrupt-*."""
    old = {"w": np.arange(6.0, dtype=np.float32), "b": np.ones(2, np.float32)}
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    ck.save(1, old, {"step": 1})
    ck.save(2, old, {"step": 2})
    ck.close()
    before = folder_bytes(tmp_path)
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
    assert folder_bytes(tmp_path) == before  # no corrupt-* folder, every step in place
    ck = Checkpointer(tmp_path / "checkpoints", keep=3)
    got, meta = ck.restore_latest(old)  # the matching tree still restores
    ck.close()
    assert meta["step"] == 2 and np.array_equal(got["b"], old["b"])


@pytest.mark.parametrize("case", ["all_corrupt", "changed_config", "resume_never"])
def test_refusals_on_the_console_are_one_line(train_cli, tmp_path, smoke, case):
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
        out = train_cli(*args)
        assert out.returncode == 2
        lines = _console_lines(out.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], lines


def test_io_errors_on_restore_touch_nothing(folder_bytes, tmp_path, monkeypatch, smoke):
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    (tmp_path / "results.json").unlink()
    before = folder_bytes(tmp_path)

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(checkpoint.ocp.CheckpointManager, "restore", denied)
    with pytest.raises(CheckpointError, match="nothing was changed"):
        train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    assert folder_bytes(tmp_path) == before


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
