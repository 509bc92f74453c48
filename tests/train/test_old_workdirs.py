"""Workdirs written by earlier versions of freqssm keep working: ``tests/fixtures/waves_smoke_run``
was written at commit b23845e (before the package moved into layer folders). Today's code must
load it with the same parameters and outputs, and resume it from its step-3 checkpoint."""

import json
import shutil
from pathlib import Path

import jax.numpy as jnp
import numpy as np

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "waves_smoke_run"


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if k.startswith("_"):
            continue
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def test_load_run_gives_the_saved_outputs(tmp_path):
    from freqssm.train.run import load_run

    wd = shutil.copytree(FIXTURE, tmp_path / "wd")
    cfg, meta, model, variables = load_run(wd)
    saved = np.load(wd / "outputs.npz")
    out = model.apply(
        variables,
        jnp.asarray(saved["inputs"]),
        jnp.full((len(saved["inputs"]),), meta.seq_len, jnp.int32),
        train=False,
    )
    assert cfg.train.steps == 6 and meta.n_outputs == 3
    # its config.json, written before the typed configs, reads back through the same conversion
    # as a new config, to the values it was written with
    from freqssm.config import from_config_dict

    written = json.loads((wd / "config.json").read_text())
    assert isinstance(cfg, type(from_config_dict({})))
    old, new = _flat(written), _flat(json.loads(json.dumps(cfg.as_dict())))
    assert {k: new[k] for k in old} == old
    added = {k: new[k] for k in set(new) - set(old)}  # keys added since, at their defaults
    defaults = {
        "optim.accumulate_steps": 1,
        "train.profile": 0,
        "train.compile_cache": "",
        "data.train_grid": None,  # every key of the loader's options is written now
    }
    assert added == defaults
    np.testing.assert_allclose(np.asarray(out), saved["outputs"], rtol=1e-5, atol=1e-6)


def test_resume_from_the_old_checkpoint(tmp_path, train_cli):
    wd = shutil.copytree(FIXTURE, tmp_path / "wd")
    old = json.loads((wd / "results.json").read_text())
    shutil.rmtree(wd / "checkpoints" / "6")
    (wd / "results.json").unlink()
    cmd = json.loads((wd / "config.json").read_text())["_provenance"]["command"]
    args = cmd[3:]  # after "python -m freqssm.train"
    args[args.index("--workdir") + 1] = str(wd)
    proc = train_cli(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resumed from step 3" in proc.stderr
    new = json.loads((wd / "results.json").read_text())
    assert new["step"] == 6
    for split in ("val", "test"):
        for k, v in old[split].items():
            np.testing.assert_allclose(new[split][k], v, rtol=1e-5, err_msg=f"{split}/{k}")
