"""freqssm.train.cli: help, the console script, and one-line errors with exit status 2."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


@pytest.mark.slow
def test_cli_bad_value_is_one_clear_line(train_cli, tmp_path):
    r = train_cli(f"--config={WAVES}:smoke", f"--workdir={tmp_path}", "--config.model.ssm.alpha=-1")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: model.ssm.alpha=-1.0")
    assert "Traceback" not in r.stderr
    r = train_cli(f"--config={WAVES}:smoke", f"--workdir={tmp_path}", "--config.model.ssm.alpah=1")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "alpah" in r.stderr


def test_help_lists_the_files_and_a_files_variants():
    from freqssm.train.cli import help_text

    overview = help_text([])
    assert "configs/README.md" in overview
    for name in ("waves.py", "denoise.py", "lra_listops.py", "lra_pathx.py"):
        assert name in overview
    assert "_lra_common" not in overview
    waves = help_text([f"--config={REPO / 'configs' / 'waves.py'}:smoke"])
    assert "alpha_high" in waves and "beta_low" in waves and "authors_smoke" in waves
    assert "alpha_flip" in help_text(["--config", str(REPO / "configs" / "denoise.py")])


def test_console_script_prints_help():
    exe = Path(sys.executable).with_name("freqssm-train")
    if not exe.exists():
        pytest.skip("freqssm-train not installed in this environment (pip install -e .)")
    r = subprocess.run(
        [str(exe), "--config", "configs/lra_listops.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "reduced_untuned" in r.stdout and "usage: freqssm-train" in r.stdout
