"""freqssm.config: command-line overrides reach the config, bad values are refused naming the key,
every config file validates."""

from pathlib import Path

import pytest
from absl import flags
from ml_collections import config_flags

from freqssm.config import validate
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
