"""freqssm.config: command-line overrides reach the config, bad values are refused naming the key,
every config file validates."""

from pathlib import Path

import pytest
from absl import flags
from ml_collections import config_flags

from freqssm.config import from_config_dict, load_config
from freqssm.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
WAVES = str(REPO / "configs" / "waves.py")


def parse(argv):
    fv = flags.FlagValues()
    argv = ["prog", *argv]
    # overrides are registered from sys_argv when the flag is defined, as in the real CLI
    config_flags.DEFINE_config_file("config", None, flag_values=fv, sys_argv=argv)
    fv(argv)
    return fv.config


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


@pytest.mark.parametrize(
    "bad,error,match",
    [
        # a misspelt key: ml_collections names it and suggests the right one
        ("--config.model.ssm.alpah=3", AttributeError, 'Did you mean "alpha"'),
        # a value of the wrong type: absl names the flag and the value
        ("--config.model.ssm.alpha=abc", flags.IllegalFlagValueError, "model.ssm.alpha=abc"),
    ],
)
def test_bad_overrides_fail_at_parse_time(bad, error, match):
    with pytest.raises(error, match=match):
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
def test_validate_names_the_key(key, value, match, smoke_dict):
    cfg = smoke_dict(**{key: value})
    with pytest.raises(ConfigError, match=match.replace(".", r"\.")):
        from_config_dict(cfg)


def test_s4d_only_settings_are_refused_for_s5(smoke_dict):
    for key, value in (("model.ssm.n_ssm", 1), ("model.ssm.train_b", False)):
        cfg = smoke_dict(**{"model.ssm.kind": "s5", key: value})
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            from_config_dict(cfg)
    from_config_dict(smoke_dict(**{"model.ssm.kind": "s5", "model.ssm.b_init": "fan_in_p"}))


def test_state_size_must_divide_blocks(smoke_dict):
    cfg = smoke_dict(**{"model.ssm.kind": "s5", "model.ssm.state_size": 12, "model.ssm.blocks": 5})
    with pytest.raises(ConfigError, match="blocks"):
        from_config_dict(cfg)


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (REPO / "configs").glob("*.py") if not p.stem.startswith("_"))
)
def test_every_config_file_validates(name):
    for variant in ("", ":smoke"):
        from_config_dict(load_config(f"{REPO / 'configs' / name}.py{variant}"))


# --- the typed configs ----------------------------------------------------------------------


def test_a_data_key_the_loader_does_not_have_is_refused(smoke_dict):
    with pytest.raises(ConfigError, match=r"data\.seq_lenn=.*keys: .*seq_len"):
        from_config_dict(smoke_dict(**{"data.seq_lenn": 64}))


def test_a_saved_config_without_newer_keys_reads_back_with_their_defaults(smoke):
    import json

    cfg = smoke()
    saved = json.loads(json.dumps(cfg.as_dict()))  # as config.json holds it (lists)
    del saved["model"]["ssm"]["d_skip"], saved["train"]["prefetch"]
    assert from_config_dict({**saved, "_provenance": {}}) == cfg
    with pytest.raises(ConfigError, match=r"model\.ssm\.nope: not a config key"):
        from_config_dict({**saved, "model": {**saved["model"], "ssm": {"nope": 1}}})


def test_updated_sets_dotted_keys_and_validates_them(smoke):
    cfg = smoke()
    new = cfg.updated({"model.ssm.alpha": 2, "train.steps": 7, "data.seq_len": 64})
    assert new.model.ssm.alpha == 2.0 and isinstance(new.model.ssm.alpha, float)
    assert new.train.steps == 7 and new.data.options.seq_len == 64
    assert cfg.model.ssm.alpha == 1.0  # a copy: the original is unchanged (frozen)
    with pytest.raises(ConfigError, match=r"model\.ssm\.alpha=-1\.0"):
        cfg.updated({"model.ssm.alpha": -1.0})


def test_variants_combine_left_to_right_in_every_file():
    waves = load_config(f"{WAVES}:authors,beta_high")
    assert waves.model.ssm.sobolev.beta == 2.0 and waves.log.wandb.group == "waves_authors"
    assert load_config(f"{WAVES}:beta_high,beta_low").model.ssm.sobolev.beta == -2.0
    with pytest.raises(ValueError, match=r"unknown variant 'nope' of configs/waves\.py \(known:"):
        load_config(f"{WAVES}:smoke,nope")
