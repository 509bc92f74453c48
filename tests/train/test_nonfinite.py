"""Non-finite steps (freqssm.train.loop and trainlog): a skipping run whose parameters overflow
stops; the last checkpoint stays complete."""

import numpy as np
import pytest

from freqssm.errors import NonFiniteError
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.loop import train_and_evaluate
from freqssm.train.metric_log import read_jsonl

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
