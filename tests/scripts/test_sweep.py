"""scripts/sweep.py: the offline grid runner writes its summary; zip and cross grids."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


@pytest.mark.slow
def test_sweep_writes_a_summary(script, tmp_path):
    sweep = script("sweep")
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


def test_sweep_zip_walks_keys_together_and_crosses_the_grid(script):
    sweep = script("sweep")
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
