"""wandb sweeps without a server: each YAML of configs/sweeps/ run as the agent builds its command
(``${env} ${interpreter} -m ${program} ... ${args}``), with the :smoke variant and test-written
data, ``WANDB_SWEEP_ID``/``WANDB_RUN_ID`` set, and a recording stand-in for the wandb run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from freqssm.errors import ConfigError
from freqssm.train.cli import sweep_defaults

REPO = Path(__file__).resolve().parents[2]
SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))

# The run started by the agent, with wandb.init replaced by a stand-in that records what the run
# was started with and every key it logged (written to $RECORD when the run finishes).
STAND_IN = r"""
import json, os, sys
import wandb

seen = {"init": None, "logged": set()}

class Summary(dict):
    pass

class Run:
    id = os.environ["WANDB_RUN_ID"]
    summary = Summary()

    def __init__(self, **kw):
        seen["init"] = {k: kw.get(k) for k in ("mode", "project", "group", "name", "config")}

    def define_metric(self, *args, **kwargs):
        pass

    def log(self, data, **kwargs):
        seen["logged"].update(data)

    def finish(self, *args, **kwargs):
        out = {"init": seen["init"], "logged": sorted(seen["logged"])}
        with open(os.environ["RECORD"], "w") as f:
            json.dump(out, f, default=str)

wandb.init = lambda **kw: Run(**kw)
from freqssm.train.cli import run
sys.argv = ["freqssm-train", *sys.argv[1:]]
run()
"""


def agent_command(spec: dict, tmp_path: Path) -> list[str]:
    """The YAML's command as ``wandb agent`` fills it, the first value of each parameter for
    ``${args}``, with ``-m ${program}`` run through the recording stand-in."""
    args = []
    for name, p in spec["parameters"].items():
        value = p["values"][0] if "values" in p else p["min"]
        args.append(f"--{name}={value}")
    cmd = []
    for part in spec["command"]:
        if part == "${env}":
            continue
        elif part == "${interpreter}":
            cmd.append(sys.executable)
        elif part == "${args}":
            cmd += args
        else:
            cmd.append(part.replace("${program}", spec["program"]))
    assert cmd[1:3] == ["-m", "freqssm.train"]
    cmd[1:3] = ["-c", STAND_IN]
    # the :smoke variant of the YAML's config, on data written here
    i = next(j for j, a in enumerate(cmd) if a.startswith("--config="))
    path, _, variant = cmd[i].partition(":")
    cmd[i] = f"{path}:{variant},smoke" if variant else f"{path}:smoke"
    return cmd, args


@pytest.mark.slow
@pytest.mark.parametrize("yaml_path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_each_sweep_runs_as_the_agent_builds_it(tmp_path, yaml_path, lra_files):
    spec = yaml.safe_load(yaml_path.read_text())
    shutil.copytree(REPO / "configs", tmp_path / "configs")  # the command's relative paths
    cmd, args = agent_command(spec, tmp_path)
    root = tmp_path / "data"
    if "lra_listops" in " ".join(cmd):
        lra_files.listops(root, rows=lra_files.LISTOPS_ROWS * 4)
        cmd += [f"--config.data.root={root}"]
    cmd += [
        "--config.train.steps=2",
        "--config.train.eval_every=2",
        "--config.train.progress=False",
    ]
    env = dict(
        os.environ,
        WANDB_SWEEP_ID="sw42",
        WANDB_RUN_ID="run7",
        WANDB_MODE="offline",
        RECORD=str(tmp_path / "record.json"),
    )
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )  # a hang guard, not a timing
    assert proc.returncode == 0, proc.stderr[-3000:]
    wd = tmp_path / "runs" / "sweeps" / "sw42" / "run7"  # the workdir without --workdir
    saved = json.loads((wd / "config.json").read_text())
    assert saved["log"]["wandb"]["mode"] == "offline"  # WANDB_MODE wins over the sweep default
    for arg in args:  # every swept value reached the run's config
        key, value = arg.removeprefix("--config.").split("=")
        node = saved
        for part in key.split("."):
            node = node[part]
        assert node == pytest.approx(float(value)), key
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["init"]["mode"] == "offline"
    assert spec["metric"]["name"] in record["logged"]  # the metric the controller optimizes


def test_sweep_defaults():
    env = {"WANDB_SWEEP_ID": "s", "WANDB_RUN_ID": "r"}
    assert sweep_defaults({}, "wd", False) == ("wd", None)  # not a sweep: nothing changes
    assert sweep_defaults(env, None, False) == (str(Path("runs/sweeps/s/r")), "online")
    assert sweep_defaults(env, "mine", False) == ("mine", "online")
    assert sweep_defaults({**env, "WANDB_MODE": "offline"}, None, False)[1] == "offline"
    assert sweep_defaults(env, None, True)[1] is None  # --config.log.wandb.mode decides
    with pytest.raises(ConfigError, match="WANDB_RUN_ID"):
        sweep_defaults({"WANDB_SWEEP_ID": "s"}, None, False)
    with pytest.raises(ConfigError, match="WANDB_MODE='dryrun'"):
        sweep_defaults({**env, "WANDB_MODE": "dryrun"}, None, False)
