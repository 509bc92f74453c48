"""scripts/loop_bench.py: each case builds a valid config of the intended shape (no training here;
the timing code is gpu_check.loop_timing, run by tests/scripts/test_gpu_check.py)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from freqssm import data as data_lib  # noqa: E402
from freqssm.config import from_config_dict  # noqa: E402


@pytest.mark.parametrize(
    "case,name,L,width",
    [("waves", "waves", 1024, 32), ("listops-smoke", "synthetic", 256, 16),
     ("pathfinder-reduced", "synthetic", 1024, 64)],
)  # fmt: skip
def test_cases_build_the_intended_runs(script, case, name, L, width):
    loop_bench = script("loop_bench")
    base = loop_bench.case_config(case, quick=False)
    cfg = loop_bench.gpu_check.for_timing(base, k=8, prefetch=2, interval=40, intervals=5)
    from_config_dict(cfg)
    assert cfg.data.name == name and cfg.model.d_model == width
    assert (cfg.train.steps, cfg.train.log_every, cfg.train.eval_every) == (200, 40, 200)
    assert (cfg.train.steps_per_call, cfg.train.prefetch) == (8, 2)
    assert cfg.log.wandb.mode == "disabled" and not cfg.train.analysis
    assert base.train.steps_per_call == 1  # configure copies
    if name == "synthetic":
        assert cfg.data.like == case.split("-")[0]
        assert data_lib.build(cfg.data).meta.seq_len == L
