"""The training framework end to end on tiny configs: configs, optimizer groups, loop, resume."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl import flags
from ml_collections import config_flags

from freqssm import data as data_lib
from freqssm.config import base_config, validate
from freqssm.errors import ConfigError
from freqssm.model import models
from freqssm.train import optim
from freqssm.train.loop import make_train_step, train_and_evaluate
from freqssm.train.metric_log import read_jsonl
from freqssm.train.run import build_run, init_state

REPO = Path(__file__).resolve().parents[1]
WAVES = str(REPO / "configs" / "waves.py")


def parse(argv):
    fv = flags.FlagValues()
    argv = ["prog", *argv]
    # overrides are registered from sys_argv when the flag is defined, as in the real CLI
    config_flags.DEFINE_config_file("config", None, flag_values=fv, sys_argv=argv)
    fv(argv)
    return fv.config


def run_cli(args, **kw):
    env = dict(os.environ, WANDB_MODE="disabled")
    return subprocess.run(
        [sys.executable, "-m", "freqssm.train", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


# --- configs --------------------------------------------------------------------------------


def test_overrides_reach_the_config():
    cfg = parse(
        [
            f"--config={WAVES}:smoke",
            "--config.model.ssm.alpha=3",
            "--config.model.ssm.sobolev.beta=-0.5",
            "--config.model.ssm.sobolev.learnable=True",
            "--config.model.ssm.sobolev.c=10",
        ]
    )
    assert cfg.model.ssm.alpha == 3.0 and isinstance(cfg.model.ssm.alpha, float)
    assert cfg.model.ssm.sobolev.beta == -0.5 and cfg.model.ssm.sobolev.learnable is True
    assert cfg.model.ssm.sobolev.c == 10.0
    assert cfg.train.steps == 20  # the smoke variant


@pytest.mark.parametrize("bad", ["--config.model.ssm.alpah=3", "--config.model.ssm.alpha=abc"])
def test_bad_overrides_fail_at_parse_time(bad):
    with pytest.raises((flags.Error, AttributeError, KeyError, ValueError, TypeError)):
        parse([f"--config={WAVES}:smoke", bad])


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("model.ssm.alpha", 0.0, "model.ssm.alpha"),
        ("model.ssm.alpha", -2.0, "model.ssm.alpha"),
        ("model.ssm.kind", "s6", "model.ssm.kind"),
        ("model.ssm.init", "legt", "model.ssm.init"),
        ("model.activation", "relu", "model.activation"),
        ("model.dropout", 1.5, "model.dropout"),
        ("optim.warmup_steps", 10_000, "optim.warmup_steps"),
        ("train.steps", 0, "train.steps"),
        ("log.wandb.mode", "cloud", "log.wandb.mode"),
        ("model.ssm.dt_min", 0.5, "model.ssm.dt_min"),
        ("model.ssm.discretization", "euler", "model.ssm.discretization"),
        ("model.ssm.mode", "fft", "model.ssm.mode"),
        ("model.ssm.scan_impl", "chunky", "model.ssm.scan_impl"),
        ("model.ssm.step_rescale", 0.0, "model.ssm.step_rescale"),
        ("model.ssm.sobolev.c", -1.0, "model.ssm.sobolev.c"),
        ("model.norm", "group", "model.norm"),
        ("model.pooling", "max", "model.pooling"),
        ("model.kind", "deep", "model.kind"),
        ("optim.lr", -1.0, "optim.lr"),
        ("optim.grad_clip", -1.0, "optim.grad_clip"),
        ("train.keep", 0, "train.keep"),
        ("train.resume", "maybe", "train.resume"),
        ("data.batch_size", 0, "data.batch_size"),
        ("data.max_examples", 0, "data.max_examples"),
        ("train.eval_limit", 0, "train.eval_limit"),
        ("model.final_norm", "group", "model.final_norm"),
        ("model.dropout_sites", ("pre_act", "pre_act"), "model.dropout_sites"),
        ("model.dropout_sites", ("before",), "model.dropout_sites"),
        ("model.gelu", "relu", "model.gelu"),
        ("model.embed_init", "xavier", "model.embed_init"),
        ("model.glu_init", "zeros", "model.glu_init"),
        ("model.ssm.real_transform", "sigmoid", "model.ssm.real_transform"),
        ("model.ssm.dt_transform", "relu", "model.ssm.dt_transform"),
        ("model.ssm.n_ssm", 0, "model.ssm.n_ssm"),
        ("model.ssm.n_ssm", 3, "model.ssm.n_ssm"),  # does not divide d_model = 16
        ("model.ssm.b_init", "fan_in_p", "model.ssm.b_init"),  # S5 only
        ("model.ssm.c_init", "xavier", "model.ssm.c_init"),
        ("optim.dt_lr", -1.0, "optim.dt_lr"),
        ("optim.decay_scope", "none", "optim.decay_scope"),
    ],
)
def test_validate_names_the_key(key, value, match, smoke):
    cfg = smoke(**{key: value})
    with pytest.raises(ConfigError, match=match.replace(".", r"\.")):
        validate(cfg)


def test_s4d_only_settings_are_refused_for_s5(smoke):
    for key, value in (("model.ssm.n_ssm", 1), ("model.ssm.train_b", False)):
        cfg = smoke(**{"model.ssm.kind": "s5", key: value})
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            validate(cfg)
    validate(smoke(**{"model.ssm.kind": "s5", "model.ssm.b_init": "fan_in_p"}))


def test_state_size_must_divide_blocks(smoke):
    cfg = smoke(**{"model.ssm.kind": "s5", "model.ssm.state_size": 12, "model.ssm.blocks": 5})
    with pytest.raises(ConfigError, match="blocks"):
        validate(cfg)


@pytest.mark.slow
def test_cli_bad_value_is_one_clear_line(tmp_path):
    r = run_cli([f"--config={WAVES}:smoke", f"--workdir={tmp_path}", "--config.model.ssm.alpha=-1"])
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: model.ssm.alpha=-1.0")
    assert "Traceback" not in r.stderr
    r = run_cli([f"--config={WAVES}:smoke", f"--workdir={tmp_path}", "--config.model.ssm.alpah=1"])
    assert r.returncode != 0 and "Traceback" not in r.stderr and "alpah" in r.stderr


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (REPO / "configs").glob("*.py") if not p.stem.startswith("_"))
)
def test_every_config_file_validates(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "configs" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for variant in (None, "smoke"):
        validate(mod.get_config(variant))


# --- optimizer groups -----------------------------------------------------------------------


def _params(smoke, ssm_kind="s4d", learnable=True, norm="layer"):
    cfg = smoke(
        **{"model.ssm.kind": ssm_kind, "model.ssm.sobolev.learnable": learnable, "model.norm": norm}
    )
    ds = data_lib.build(cfg.data)
    model = models.build(cfg.model, ds.meta)
    v = jax.jit(model.init)(jax.random.key(0), *models.example_inputs(ds.meta, 2))
    return cfg, v["params"]


@pytest.mark.parametrize("ssm_kind", ["s4d", "s5"])
def test_every_parameter_lands_in_its_group(ssm_kind, smoke):
    from flax import traverse_util

    _, params = _params(smoke, ssm_kind)
    flat = traverse_util.flatten_dict(params)
    seen = set()
    for path in flat:
        name, parent = path[-1], "/".join(path[:-1])
        group = optim.label_of(path)
        seen.add(group)
        if name in ("Lambda_re", "Lambda_im", "B"):
            assert group == "ssm" and parent.endswith("ssm"), path
        elif name == "log_dt":
            assert group == "dt" and parent.endswith("ssm"), path
        elif name == "sobolev_beta":
            assert group == "sobolev", path
        elif name in ("bias", "scale"):
            assert group == "no_decay", path
        else:
            assert name in ("kernel", "embedding", "C", "D") and group == "decay", path
    assert seen == set(optim.GROUPS) - {"frozen"}
    sizes = optim.group_sizes(params)
    assert sum(sizes.values()) == models.count_params(params)


def test_groups_get_their_learning_rate_and_decay(smoke):
    cfg, params = _params(smoke)
    cfg.optim.lr, cfg.optim.ssm_lr, cfg.optim.sobolev_lr = 1e-3, 1e-2, 1e-1
    cfg.optim.dt_lr = 3e-2
    cfg.optim.weight_decay, cfg.optim.warmup_steps = 0.5, 0
    tx = optim.build(cfg.optim, params, total_steps=1000)
    state = tx.init(params)
    # Adam's first step moves each parameter by exactly lr·sign(grad) (plus decay where applied)
    grads = jax.tree.map(jnp.ones_like, params)
    upd, _ = tx.update(grads, state, params)
    from flax import traverse_util

    for path, u in traverse_util.flatten_dict(upd).items():
        p = traverse_util.flatten_dict(params)[path]
        group = optim.label_of(path)
        lr = {"ssm": 1e-2, "dt": 3e-2, "sobolev": 1e-1, "no_decay": 1e-3, "decay": 1e-3}[group]
        expected = -lr * (1.0 + (0.5 * p if group == "decay" else 0.0))
        np.testing.assert_allclose(u, expected, rtol=0, atol=1e-3 * lr, err_msg=str(path))


def test_dt_lr_none_is_the_global_lr_and_decay_scope_all_decays_norms_and_biases(smoke):
    from flax import traverse_util

    cfg, params = _params(smoke)
    cfg.optim.lr, cfg.optim.ssm_lr, cfg.optim.dt_lr, cfg.optim.sobolev_lr = 1e-3, 1e-2, None, 0.1
    cfg.optim.weight_decay, cfg.optim.warmup_steps = 0.5, 0
    for scope in ("weights", "all"):
        cfg.optim.decay_scope = scope
        tx = optim.build(cfg.optim, params, total_steps=1000)
        ones = jax.tree.map(jnp.ones_like, params)
        zeros = jax.tree.map(jnp.zeros_like, params)
        moved_lr = traverse_util.flatten_dict(tx.update(ones, tx.init(zeros), zeros)[0])
        moved_wd = traverse_util.flatten_dict(tx.update(zeros, tx.init(ones), ones)[0])
        for path, u in moved_lr.items():
            name = path[-1]
            lr = 1e-2 if name in ("Lambda_re", "Lambda_im", "B") else 1e-3
            lr = 0.1 if name == "sobolev_beta" else lr  # log_dt: the global 1e-3
            np.testing.assert_allclose(u, -lr, rtol=1e-4, err_msg=str(path))
            decayed = name in ("C", "D", "kernel", "embedding") or (
                scope == "all" and name in ("bias", "scale")
            )
            want = -lr * 0.5 if decayed else 0.0
            np.testing.assert_allclose(moved_wd[path], want, rtol=1e-4, err_msg=str(path))
        assert optim.learning_rates(cfg.optim, 1000, 0)["lr_dt"] == pytest.approx(1e-3)


def test_frozen_parameters_do_not_move_and_unknown_names_fail(smoke):
    from flax import traverse_util

    cfg, params = _params(smoke)
    cfg.optim.frozen = ("Lambda_re", "log_dt")
    cfg.optim.warmup_steps = 0  # so that the first update is not zero for every group
    tx = optim.build(cfg.optim, params, total_steps=100)
    grads = jax.tree.map(jnp.ones_like, params)
    upd, _ = tx.update(grads, tx.init(params), params)
    moved = {path[-1] for path, u in traverse_util.flatten_dict(upd).items() if np.any(u != 0)}
    assert "Lambda_re" not in moved and "log_dt" not in moved
    assert {"Lambda_im", "B", "C"} <= moved
    sizes = optim.group_sizes(params, optim.frozen_names(cfg.optim))
    assert sizes["frozen"] > 0
    cfg.optim.frozen = ("Lambda_typo",)
    with pytest.raises(ConfigError, match="Lambda_typo"):
        optim.build(cfg.optim, params, total_steps=100)


def test_schedule_warmup_then_cosine():
    cfg = base_config()
    cfg.optim.warmup_steps, cfg.optim.end_lr_factor = 10, 0.1
    s = optim.schedule(2.0, cfg.optim, 110)
    assert float(s(0)) == 0.0 and abs(float(s(5)) - 1.0) < 1e-6 and abs(float(s(10)) - 2.0) < 1e-6
    mid = 0.2 + (2.0 - 0.2) * 0.5 * (1 + np.cos(np.pi * 0.5))
    assert abs(float(s(60)) - mid) < 1e-5 and abs(float(s(110)) - 0.2) < 1e-6


# --- the loop -------------------------------------------------------------------------------


def test_train_step_decreases_the_loss(smoke):
    cfg = smoke(**{"optim.warmup_steps": 0, "optim.lr": 3e-3, "train.steps": 100})
    ds = data_lib.build(cfg.data)
    run = build_run(cfg, ds.meta)
    state = init_state(cfg, run)
    step = jax.jit(make_train_step(run, cfg))
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
    from freqssm.analysis import spectra as analysis
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
    own = analysis.summarize(params, discretization="bilinear", step_rescale=3.0)
    default = analysis.summarize(params)
    for key, value in res["frequency"].items():
        assert value == pytest.approx(float(own[key]), rel=1e-6, abs=1e-12), key
    assert any(
        float(default[k]) != pytest.approx(float(v), rel=1e-3) for k, v in res["frequency"].items()
    )


@pytest.mark.slow
def test_sweep_writes_a_summary(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import sweep
    finally:
        sys.path.pop(0)
    root = tmp_path / "sweep"
    rc = sweep.main(
        [
            "--config",
            f"{WAVES}:smoke",
            "--root",
            str(root),
            "--grid",
            "model.ssm.alpha=0.5,2",
            "--set",
            "train.steps=4",
            "--set",
            "train.eval_every=4",
            "--set",
            "train.analysis=False",
            "--parallel",
            "2",
        ]
    )
    assert rc == 0
    md = (root / "summary.md").read_text()
    assert "alpha=0.5" in md and "alpha=2" in md and "test/loss" in md
    rows = (root / "summary.csv").read_text().strip().splitlines()
    assert len(rows) == 3
    cfg = json.loads((root / "alpha=2" / "config.json").read_text())
    assert cfg["model"]["ssm"]["alpha"] == 2.0 and cfg["log"]["wandb"]["group"] == "sweep"
    assert cfg["log"]["wandb"]["tags"].split(",") == [f"sweep={root}", "alpha=2"]
    # a second call skips finished runs and still writes the summary
    assert (
        sweep.main(
            [
                "--config",
                f"{WAVES}:smoke",
                "--root",
                str(root),
                "--grid",
                "model.ssm.alpha=0.5,2",
                "--set",
                "train.steps=4",
            ]
        )
        == 0
    )


def test_sweep_zip_walks_keys_together_and_crosses_the_grid():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import sweep
    finally:
        sys.path.pop(0)
    grid = sweep.parse_grid(["seed=0,1"])
    zipped = sweep.parse_grid(["model.ssm.alpha=1,100", "model.ssm.sobolev.beta=0,1"])
    pts = sweep.points(grid, zipped)
    assert pts == [
        {"seed": s, "model.ssm.alpha": a, "model.ssm.sobolev.beta": b}
        for s in ("0", "1")
        for a, b in (("1", "0"), ("100", "1"))
    ]
    with pytest.raises(SystemExit, match="same number"):
        sweep.points([], sweep.parse_grid(["a=1,2", "b=1"]))


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
        validate(smoke(**{"train.evaluator": "nope"}))


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
    assert "_provenance" not in loaded
    assert train_and_evaluate(cfg, tmp_path)["already_finished"]


@pytest.mark.parametrize("quiet", [True, False])
def test_wandb_banner_is_off_unless_asked_for(tmp_path, monkeypatch, quiet):
    import wandb

    from freqssm.train.metric_log import RunLogger

    seen = {}

    def fake_init(**kw):
        seen.update(kw)
        raise RuntimeError("stop here")  # RunLogger carries on with local logs

    monkeypatch.setattr(wandb, "init", fake_init)
    cfg = base_config()
    cfg.log.wandb.mode, cfg.log.wandb.quiet = "offline", quiet
    RunLogger(tmp_path, cfg).close()
    assert seen["settings"].silent is quiet


def test_help_lists_the_files_and_a_files_variants():
    from freqssm.train.cli import help_text

    overview = help_text([])
    assert "README.md" in overview and "Config keys" in overview
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


def test_wandb_charts_use_the_training_step_and_carry_tags(tmp_path, monkeypatch):
    import wandb

    from freqssm.train.metric_log import RunLogger

    class FakeRun:
        id = "abc123"

        def __init__(self, **kw):
            self.kw, self.metrics, self.logged = kw, [], []

        def define_metric(self, name, step_metric=None):
            self.metrics.append((name, step_metric))

        def log(self, data, **kw):
            assert "step" not in kw  # wandb's own monotonic _step would drop a resume's steps
            self.logged.append(data)

        def finish(self):
            pass

    runs = []
    monkeypatch.setattr(wandb, "init", lambda **kw: runs.append(FakeRun(**kw)) or runs[-1])
    cfg = base_config()
    cfg.log.wandb.mode, cfg.log.wandb.tags = "offline", "sweep=runs/s, alpha=2,,"
    logger = RunLogger(tmp_path, cfg)
    logger.log(7, {"train/loss": 0.5})
    logger.log(9, {"train/loss": 0.4})  # after the checkpoint a resume starts from
    logger.close()
    (run,) = runs
    assert run.kw["tags"] == ["sweep=runs/s", "alpha=2"]
    assert ("*", "step") in run.metrics
    assert run.logged == [{"train/loss": 0.5, "step": 7}, {"train/loss": 0.4, "step": 9}]
    # a resumed run continues the same wandb run (its id is kept in the workdir) and sends every
    # local record up to its checkpoint again (what a killed process had not flushed)
    RunLogger(tmp_path, cfg, resume_step=7).close()
    assert runs[1].kw["id"] == "abc123" and runs[1].kw["resume"] == "allow"
    assert runs[1].logged == [{"step": 7, "train/loss": 0.5}]


def _wandb_history_steps(path: Path) -> list[int]:
    """The ``step`` values of the history records in an offline run's ``run-<id>.wandb`` file.

    The file is a LevelDB-style log (wandb's own 7-byte header, then 32 KiB blocks of records
    with a 7-byte header: crc32c, length, type FULL/FIRST/MIDDLE/LAST) of protobuf Records.
    """
    import struct

    from wandb.proto import wandb_internal_pb2 as pb

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B"
    pos, buf, steps = 7, b"", []
    while pos + 7 <= len(data):
        left = block - pos % block
        _, n, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if left < 7 or kind == 0:  # block trailer / padding
            pos += left
            continue
        buf = data[pos + 7 : pos + 7 + n] if kind in (1, 2) else buf + data[pos + 7 : pos + 7 + n]
        pos += 7 + n
        if kind in (1, 4):
            rec = pb.Record()
            rec.ParseFromString(buf)
            if rec.WhichOneof("record_type") == "history":
                items = {(i.key or "/".join(i.nested_key)): i.value_json for i in rec.history.item}
                steps.append(int(json.loads(items["step"])))
    return steps


def test_resumed_offline_wandb_folder_holds_the_whole_history(tmp_path):
    """The newest offline folder of a resumed run has every record up to the checkpoint (sent
    again from metrics.jsonl) plus its own, under the same run id: syncing it alone, or syncing
    all folders oldest first (a later sync of the same id replaces the history), gives the run."""
    from freqssm.train.metric_log import RunLogger

    cfg = base_config()
    cfg.log.wandb.mode = "offline"
    first = RunLogger(tmp_path, cfg)
    for step in range(1, 11):
        first.log(step, {"train/loss": 1.0 / step})
    first.close()
    resumed = RunLogger(tmp_path, cfg, resume_step=6)  # killed after the checkpoint at step 6
    for step in range(7, 13):
        resumed.log(step, {"train/loss": 1.0 / step})
    resumed.close()
    run_id = (tmp_path / "wandb_run_id").read_text().strip()
    folders = sorted((tmp_path / "wandb").glob("offline-run-*"), key=lambda p: p.stat().st_mtime)
    assert len(folders) == 2 and all(p.name.split("-run-")[1].count(run_id) for p in folders)
    assert _wandb_history_steps(folders[0] / f"run-{run_id}.wandb") == list(range(1, 11))
    newest = (tmp_path / "wandb" / "latest-run").resolve()
    assert newest == folders[1].resolve()
    assert _wandb_history_steps(newest / f"run-{run_id}.wandb") == list(range(1, 13))


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
    cfg.train.progress = True
    train_and_evaluate(cfg, tmp_path)
    text = err.getvalue()
    lines = [ln for ln in text.splitlines() if ln.startswith(f"{tmp_path.name}: step ")]
    if tty:  # tqdm redraws the bar in place
        assert "\r" in text and lines == []
    else:  # one line per log step, no redraws
        assert "\r" not in text
        assert [int(ln.split()[2].split("/")[0]) for ln in lines] == [2, 4, 6, 8, 10]
        assert all("/10 (" in ln and "loss=" in ln and "steps/s" in ln for ln in lines)
    cfg.train.progress = False  # silenced either way
    err.seek(0), err.truncate()
    train_and_evaluate(cfg, tmp_path / "quiet")
    assert f"{(tmp_path / 'quiet').name}: step" not in err.getvalue()
