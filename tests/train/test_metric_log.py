"""freqssm.train.metric_log: wandb runs (banner, charts against the training step, tags) and the
offline folder's history across a resume."""

import json
from pathlib import Path

import pytest

from freqssm.train.metric_log import WandbConfig

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


@pytest.mark.parametrize("quiet", [True, False])
def test_wandb_banner_is_off_unless_asked_for(tmp_path, monkeypatch, quiet):
    import wandb

    from freqssm.train.metric_log import RunLogger

    seen = {}

    def fake_init(**kw):
        seen.update(kw)
        raise RuntimeError("stop here")  # RunLogger carries on with local logs

    monkeypatch.setattr(wandb, "init", fake_init)
    RunLogger(tmp_path, WandbConfig(mode="offline", quiet=quiet), {}).close()
    assert seen["settings"].silent is quiet


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
    cfg = WandbConfig(mode="offline", tags="sweep=runs/s, alpha=2,,")
    logger = RunLogger(tmp_path, cfg, {})
    logger.log(7, {"train/loss": 0.5})
    logger.log(9, {"train/loss": 0.4})  # after the checkpoint a resume starts from
    logger.close()
    (run,) = runs
    assert run.kw["tags"] == ["sweep=runs/s", "alpha=2"]
    assert ("*", "step") in run.metrics
    assert run.logged == [{"train/loss": 0.5, "step": 7}, {"train/loss": 0.4, "step": 9}]
    # a resumed run continues the same wandb run (its id is kept in the workdir) and sends every
    # local record up to its checkpoint again (what a killed process had not flushed)
    RunLogger(tmp_path, cfg, {}, resume_step=7).close()
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

    cfg = WandbConfig(mode="offline")
    first = RunLogger(tmp_path, cfg, {})
    for step in range(1, 11):
        first.log(step, {"train/loss": 1.0 / step})
    first.close()
    resumed = RunLogger(tmp_path, cfg, {}, resume_step=6)  # killed after the checkpoint at step 6
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
