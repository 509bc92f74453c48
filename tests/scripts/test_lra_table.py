"""scripts/lra_table.py's run summaries, on a metrics.jsonl written here."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lra_table():
    spec = importlib.util.spec_from_file_location("lra_table", ROOT / "scripts" / "lra_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_metrics(wd: Path) -> None:
    wd.mkdir()
    recs = []
    for step in range(20, 201, 20):  # a train record every 20 steps, loss 3 - step / 100
        recs.append({"step": step, "train/loss": 3 - step / 100})
        if step % 100 == 0:
            recs.append({"step": step, "val/accuracy": step / 1000, "test/accuracy": step / 2000})
    (wd / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_evaluations_and_last_losses(tmp_path, lra_table):
    write_metrics(tmp_path / "run")
    ev = lra_table.evaluations(tmp_path / "run")
    assert [e["step"] for e in ev] == [100, 200]
    # steps 20..100: losses 2.8 .. 2.0, mean 2.4; steps 120..200: 1.8 .. 1.0, mean 1.4
    assert ev[0]["train_loss"] == pytest.approx(2.4) and ev[1]["train_loss"] == pytest.approx(1.4)
    assert (ev[1]["val"], ev[1]["test"]) == (0.2, 0.1)
    # the last 100 steps are the records of steps 120..200
    assert lra_table.last_train_loss(tmp_path / "run") == pytest.approx(1.4)
    assert lra_table.last_train_loss(tmp_path / "run", steps=40) == pytest.approx(1.1)


def test_curves_plots_every_run(tmp_path, lra_table, capsys):
    for name in ("a", "b"):
        write_metrics(tmp_path / name)
    png = tmp_path / "curves.png"
    lra_table.curves(str(png), [str(tmp_path / "a"), str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert png.stat().st_size > 1000 and out.count("| 200 | 1.400 | 0.200 | 0.100 |") == 2
