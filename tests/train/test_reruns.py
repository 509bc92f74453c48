"""Reruns and bad input at the command line (freqssm.train.cli, resume): a finished run reruns as a
report, a failed start leaves the workdir as it was, bad files are one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from freqssm.train.loop import train_and_evaluate

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


# --- reruns and bad input ------------------------------------------------------------------


def test_a_finished_run_rerun_reports_and_writes_nothing(folder_bytes, train_cli, tmp_path, smoke):
    train_and_evaluate(smoke(), tmp_path)  # the smoke command, run in this process
    args = [
        f"--config={WAVES}:smoke",
        "--config.train.analysis=False",
        "--config.train.progress=False",
        f"--workdir={tmp_path}",
    ]
    before = folder_bytes(tmp_path)
    env = {"JAX_LOG_COMPILES": "1"}  # jax logs every compilation ("Compiling jit(...)")
    again = train_cli(*args, env=env)
    assert again.returncode == 0 and "already finished" in again.stdout
    assert "Compiling" not in again.stderr  # no model built, traced or compiled
    assert folder_bytes(tmp_path) == before
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


def test_a_failed_start_leaves_the_workdir_as_it_was(folder_bytes, tmp_path, smoke):
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)
    (tmp_path / "results.json").unlink()
    before = folder_bytes(tmp_path)
    bad = smoke(**{"train.steps": 4, "train.eval_every": 4, "data.n_train": 0})
    with pytest.raises(Exception):  # noqa: B017 - any start-up failure
        train_and_evaluate(bad, tmp_path)
    assert folder_bytes(tmp_path) == before
    # and the corrected (original) command is not refused as "a different config"
    assert train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 4}), tmp_path)


@pytest.mark.parametrize(
    "args,match",
    [
        (["--config=configs/nope.py"], "cannot load the --config file"),
        ([f"--config={WAVES}:nope"], "unknown variant 'nope'"),
    ],
)
def test_bad_config_files_and_variants_are_one_line(train_cli, tmp_path, args, match):
    r = train_cli(*args, f"--workdir={tmp_path / 'w'}")
    assert r.returncode == 2 and match in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_workdir_that_is_a_file_is_one_line(train_cli, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = train_cli(f"--config={WAVES}:smoke", f"--workdir={f}")
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
