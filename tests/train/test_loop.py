"""freqssm.train.loop: the train step learns, a run writes its files, resume refusals, reports,
provenance and progress output."""

import io
import json
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from freqssm import data as data_lib
from freqssm.config import from_config_dict
from freqssm.errors import ConfigError
from freqssm.ssm.discretize import Discretization
from freqssm.train.loop import make_train_step, train_and_evaluate
from freqssm.train.metric_log import read_jsonl
from freqssm.train.run import build_run, init_state

REPO = Path(__file__).resolve().parents[2]


# --- the loop -------------------------------------------------------------------------------


def test_train_step_decreases_the_loss(smoke):
    cfg = smoke(**{"optim.warmup_steps": 0, "optim.lr": 3e-3, "train.steps": 100})
    ds = data_lib.build(cfg.data)
    run = build_run(cfg, ds.meta)
    state = init_state(cfg, run)
    step = jax.jit(make_train_step(run, cfg.seed))
    batch = ds.train.get(np.arange(16))
    losses = []
    for _ in range(5):
        state, m = step(state, batch)
        losses.append(float(m["loss"]))
    assert bool(m["ok"]) and int(state.step) == 5
    assert losses[-1] < losses[0]


@pytest.mark.slow
def test_smoke_run_writes_everything(tmp_path, smoke):
    cfg = smoke(**{"train.analysis": True})
    res = train_and_evaluate(cfg, tmp_path)
    for f in ("config.json", "metrics.jsonl", "results.json"):
        assert (tmp_path / f).exists(), f
    assert json.loads((tmp_path / "config.json").read_text())["model"]["ssm"]["alpha"] == 1.0
    recs = read_jsonl(tmp_path / "metrics.jsonl")
    assert any("val/loss" in r for r in recs) and any("train/loss" in r for r in recs)
    assert res["step"] == 20 and set(res["test"]) >= {"loss", "mse_low", "mse_moderate", "mse_high"}
    assert res["best"]["step"] in (10, 20)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["10", "20"]
    assert {p.name for p in (tmp_path / "plots").iterdir()} >= {
        "eigs_init.png",
        "transfer_init.png",
        "eigs_final.png",
        "transfer_final.png",
    }
    # same seed, same results
    res2 = train_and_evaluate(smoke(**{"train.analysis": False}), tmp_path / "again")
    assert res2["test"] == res["test"]


def test_resume_refuses_a_different_config(tmp_path, smoke):
    train_and_evaluate(smoke(**{"train.steps": 2, "train.eval_every": 2}), tmp_path)
    with pytest.raises(ConfigError, match=r"model\.ssm\.alpha"):
        train_and_evaluate(smoke(**{"train.steps": 2, "model.ssm.alpha": 2.0}), tmp_path)


@pytest.mark.slow
def test_resume_never_refuses_a_workdir_with_checkpoints_and_touches_nothing(tmp_path, smoke):
    kw = {"train.steps": 2, "train.eval_every": 2, "train.analysis": False}
    train_and_evaluate(smoke(**kw), tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match=r"train\.resume=never"):
        train_and_evaluate(smoke(**kw, **{"train.resume": "never"}), tmp_path)
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    # a fresh workdir trains as usual
    res = train_and_evaluate(smoke(**kw, **{"train.resume": "never"}), tmp_path / "fresh")
    assert res["step"] == 2


@pytest.mark.slow
def test_frequency_report_uses_the_runs_discretization_and_step(tmp_path, smoke):
    from freqssm.analysis import spectra
    from freqssm.train.run import load_run

    over = {
        "train.steps": 2,
        "train.eval_every": 2,
        "model.ssm.discretization": "bilinear",
        "model.ssm.step_rescale": 3.0,
        "train.analysis": True,
    }
    res = train_and_evaluate(smoke(**over), tmp_path)
    _, _, _, variables = load_run(tmp_path)
    params = jax.device_get(variables["params"])
    own = spectra.summarize(params, disc=Discretization("bilinear", step_rescale=3.0))
    default = spectra.summarize(params)
    for key, value in res["frequency"].items():
        assert value == pytest.approx(float(own[key]), rel=1e-6, abs=1e-12), key
    assert any(
        float(default[k]) != pytest.approx(float(v), rel=1e-3) for k, v in res["frequency"].items()
    )


@pytest.mark.slow
def test_regression_results_report_mae_per_wave(tmp_path, smoke):
    res = train_and_evaluate(smoke(**{"train.steps": 2, "train.eval_every": 2}), tmp_path)
    for name in ("low", "moderate", "high"):
        assert res["test"][f"mae_{name}"] > 0 and res["test"][f"mse_{name}"] > 0
        # mean |e| <= sqrt(mean e²)
        assert res["test"][f"mae_{name}"] <= np.sqrt(res["test"][f"mse_{name}"]) + 1e-9


def test_a_batch_norm_final_norm_after_layer_norm_blocks_trains(tmp_path, smoke):
    over = {"model.norm": "layer", "model.final_norm": "batch", "train.steps": 2}
    res = train_and_evaluate(smoke(**over, **{"train.eval_every": 2}), tmp_path)
    assert res["step"] == 2 and np.isfinite(res["test"]["loss"])


def test_the_evaluator_is_chosen_by_config(smoke):
    assert smoke().train.evaluator == ""
    with pytest.raises(ConfigError, match=r"train\.evaluator"):
        from_config_dict(smoke(**{"train.evaluator": "nope"}))


def test_results_and_config_carry_provenance_that_resuming_ignores(tmp_path, smoke):
    from freqssm.train.resume import changed_keys
    from freqssm.train.run import load_run

    cfg = smoke(**{"train.steps": 2, "train.eval_every": 2})
    res = train_and_evaluate(cfg, tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    for prov in (res["_provenance"], saved["_provenance"]):
        assert prov["versions"]["jax"] == jax.__version__ and prov["versions"]["python"]
        assert prov["devices"]["backend"] == jax.default_backend()
        assert prov["devices"]["count"] == jax.device_count()
        assert isinstance(prov["command"], list) and prov["time"]
    assert res["_provenance"]["wall_time_s"] > 0
    on_disk = json.loads((tmp_path / "results.json").read_text())["_provenance"]
    assert on_disk["git_commit"] == res["_provenance"]["git_commit"]
    assert changed_keys(tmp_path, cfg) == []  # provenance is not a config key
    loaded, *_ = load_run(tmp_path)
    assert loaded == cfg  # the saved config reads back to the run's (provenance is not one)
    assert train_and_evaluate(cfg, tmp_path)["already_finished"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_log(
    tmp_path, monkeypatch, smoke, tty
):
    err = _Stream(tty)
    monkeypatch.setattr(sys, "stderr", err)
    cfg = smoke(**{"train.steps": 10, "train.log_every": 2, "train.eval_every": 10})
    train_and_evaluate(cfg.updated({"train.progress": True}), tmp_path)
    text = err.getvalue()
    lines = [ln for ln in text.splitlines() if ln.startswith(f"{tmp_path.name}: step ")]
    if tty:  # tqdm redraws the bar in place
        assert "\r" in text and lines == []
    else:  # one line per log step, no redraws
        assert "\r" not in text
        assert [int(ln.split()[2].split("/")[0]) for ln in lines] == [2, 4, 6, 8, 10]
        assert all("/10 (" in ln and "loss=" in ln and "steps/s" in ln for ln in lines)
    err.seek(0), err.truncate()
    train_and_evaluate(cfg, tmp_path / "quiet")  # train.progress False: silenced either way
    assert f"{(tmp_path / 'quiet').name}: step" not in err.getvalue()
