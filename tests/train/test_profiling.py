"""``train.profile`` (a profiler trace of a window of steps) and ``train.compile_cache`` (a
persistent compilation cache that a resumed run hits)."""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from freqssm.train.loop import train_and_evaluate

REPO = Path(__file__).resolve().parents[2]
WAVES = str(REPO / "configs" / "waves.py")


@pytest.mark.slow
def test_a_profiled_run_traces_the_train_step_and_computes_the_same(tmp_path, smoke):
    over = {"train.steps": 6, "train.eval_every": 6, "train.log_every": 1}
    plain = train_and_evaluate(smoke(**over), tmp_path / "plain")
    traced = train_and_evaluate(smoke(**over, **{"train.profile": 3}), tmp_path / "traced")
    for split in ("val", "test"):
        assert traced[split] == plain[split]
    traces = list((tmp_path / "traced" / "profile").rglob("perfetto_trace.json.gz"))
    assert len(traces) == 1
    events = json.loads(gzip.decompress(traces[0].read_bytes()))
    events = events["traceEvents"] if isinstance(events, dict) else events
    names = {str(e.get("name", "")) for e in events}
    assert any("step_fn" in n for n in names), sorted(names)[:50]  # the jitted train step
    assert list((tmp_path / "traced" / "profile").rglob("*.xplane.pb"))  # TensorBoard's format
    assert not (tmp_path / "plain" / "profile").exists()


RECORD_HITS = r"""
import atexit, json, os, sys
import jax

counts = {"hits": 0, "misses": 0}

def listen(event, **kwargs):
    if event == "/jax/compilation_cache/cache_hits":
        counts["hits"] += 1
    elif event == "/jax/compilation_cache/cache_misses":
        counts["misses"] += 1

jax.monitoring.register_event_listener(listen)
atexit.register(lambda: json.dump(counts, open(os.environ["COUNTS"], "w")))
from freqssm.train.cli import run
sys.argv = ["freqssm-train", *sys.argv[1:]]
run()
"""


@pytest.mark.slow
def test_the_compile_cache_is_written_and_a_resumed_run_hits_it(tmp_path):
    cache, wd = tmp_path / "cache", tmp_path / "run"
    # the suite's own cache settings removed: the run's key alone must set the cache up
    ours = ("JAX_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    args = [
        f"--config={WAVES}:smoke",
        f"--workdir={wd}",
        f"--config.train.compile_cache={cache}",
        "--config.train.steps=4",
        "--config.train.checkpoint_every=2",
        "--config.train.eval_every=4",
        "--config.train.progress=False",
    ]

    def run(name):
        counts = tmp_path / f"{name}.json"
        proc = subprocess.run(
            [sys.executable, "-c", RECORD_HITS, *args],
            env={**env, "COUNTS": str(counts), "WANDB_MODE": "disabled"},
            capture_output=True,
            text=True,
            timeout=300,  # a hang guard, not a timing
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc, json.loads(counts.read_text())

    _, first = run("first")
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries and first["misses"] > 0  # compiled and written
    shutil.rmtree(wd / "checkpoints" / "4")
    (wd / "results.json").unlink()
    proc, resumed = run("resumed")
    assert "resumed from step 2" in proc.stderr
    assert resumed["hits"] > 0 and resumed["misses"] < first["misses"]
