"""Feeding the loop: steps per call, batches built ahead by a thread, and training with both."""

import threading
import time

import jax
import numpy as np
import pytest

from freqssm import data as data_lib
from freqssm.data.base import ArraySource, train_batches
from freqssm.train.checkpoint import Checkpointer
from freqssm.train.feed import Feed, call_sizes, stack
from freqssm.train.loop import train_and_evaluate
from freqssm.train.metric_log import read_jsonl
from freqssm.train.run import build_run, init_state


def _reference_sizes(start, steps, k, periods):
    """Cut points by brute force: a call ends at a period's multiple, at ``steps`` or after k."""
    sizes, n = [], 0
    for s in range(start + 1, steps + 1):
        n += 1
        if n == k or s == steps or any(s % p == 0 for p in periods):
            sizes.append(n)
            n = 0
    return sizes


@pytest.mark.parametrize(
    "start,steps,k,periods",
    [(0, 10, 4, [5]), (0, 100, 8, [100, 20, 1000]), (13, 57, 4, [10, 4]), (0, 7, 1, [3]),
     (5, 5, 4, [2]), (0, 9, 16, [])],
)  # fmt: skip
def test_call_sizes_end_on_every_period_and_the_last_step(start, steps, k, periods):
    assert list(call_sizes(start, steps, k, periods)) == _reference_sizes(start, steps, k, periods)


def test_call_sizes_rejects_zero():
    with pytest.raises(ValueError, match=">= 1"):
        list(call_sizes(0, 4, 0, []))


def _source(n=40):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return ArraySource({"inputs": x, "targets": np.arange(n, dtype=np.int32)})


def _host(item):
    n, batch = item
    return n, {k: np.asarray(v) for k, v in batch.items()}


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_feed_gives_the_batches_of_the_plain_iterator(depth):
    """Same batches, same order, with or without the thread, also from a mid-epoch start."""
    src = _source()
    for start in (0, 7):
        sizes = list(call_sizes(start, 30, 4, [5]))
        plain = train_batches(src, 8, seed=3, start_step=start)
        want = []
        for n in sizes:
            b = [next(plain) for _ in range(n)]
            want.append((n, b[0] if n == 1 else stack(b)))
        with Feed(train_batches(src, 8, 3, start), sizes, dict, dict, depth=depth) as feed:
            got = [_host(item) for item in feed]
        assert [n for n, _ in got] == sizes and 1 in sizes and 4 in sizes
        for (n, g), (_, w) in zip(got, want, strict=True):
            assert g.keys() == w.keys()
            assert g["inputs"].shape == ((n, 8, 3) if n > 1 else (8, 3))
            for key in w:
                np.testing.assert_array_equal(g[key], w[key], strict=True)


def test_feed_places_batches_on_the_devices():
    from freqssm.train.parallel import DataParallel

    dp = DataParallel(8)
    sizes = [4, 1]
    with Feed(train_batches(_source(), 8, 0), sizes, dp.put_batch, dp.put_stacked) as feed:
        (n4, b4), (n1, b1) = list(feed)
    assert (n4, n1) == (4, 1)
    assert isinstance(b4["inputs"], jax.Array) and b4["inputs"].sharding == dp.stacked
    assert b4["inputs"].shape == (4, 8, 3) and b1["inputs"].shape == (8, 3)
    assert b1["inputs"].sharding == dp.batch


def test_feed_raises_the_threads_error_in_the_loop():
    def broken():
        yield {"inputs": np.zeros(2)}
        raise OSError("disk gone")

    feed = Feed(broken(), [1, 1, 1], dict, dict, depth=2)
    assert next(feed)[0] == 1
    with pytest.raises(OSError, match="disk gone"):
        next(feed)
    feed.close()
    assert not feed._thread.is_alive()


def test_feed_close_stops_a_thread_waiting_on_a_full_queue():
    made = []

    def endless():
        while True:
            made.append(1)
            yield {"inputs": np.zeros(2)}

    feed = Feed(endless(), iter(lambda: 1, None), dict, dict, depth=2)
    deadline = time.time() + 10  # a hang guard: the thread fills the queue in milliseconds
    while len(made) < 3 and time.time() < deadline:  # 2 queued, 1 waiting to be queued
        time.sleep(0.01)
    feed.close()  # joins the thread (a 60 s join timeout guards against a hang)
    # the thread saw the stop while blocked on the full queue and ended without building more
    assert feed._stop.is_set() and not feed._thread.is_alive()
    assert len(made) == 3


# --- training with several steps per call ---------------------------------------------------


def _final_params(cfg, workdir):
    template = init_state(cfg, build_run(cfg, data_lib.build(cfg.data).meta))
    state, _ = Checkpointer(workdir / "checkpoints").restore_latest(template)
    return jax.device_get(state.params)


def _losses(workdir):
    return [(r["step"], r["train/loss"]) for r in read_jsonl(workdir / "metrics.jsonl")
            if "train/loss" in r]  # fmt: skip


@pytest.fixture(scope="module")
def one_step_per_call(tmp_path_factory, smoke):
    wd = tmp_path_factory.mktemp("k1")
    return _run(smoke, wd, 1), wd


def _run(smoke, workdir, k, prefetch=2, **more):
    cfg = smoke(
        **{
            "train.steps": 16,
            "train.log_every": 4,
            "train.eval_every": 8,
            "train.checkpoint_every": 4,
            "train.keep": 5,
            "train.steps_per_call": k,
            "train.prefetch": prefetch,
            **more,
        }
    )
    return cfg, train_and_evaluate(cfg, workdir)


def test_four_steps_per_call_equal_one(tmp_path, one_step_per_call, smoke):
    (cfg1, res1), wd1 = one_step_per_call
    cfg4, res4 = _run(smoke, tmp_path, 4)
    l1, l4 = _losses(wd1), _losses(tmp_path)
    assert [s for s, _ in l4] == [s for s, _ in l1] == [4, 8, 12, 16]
    np.testing.assert_allclose([v for _, v in l4], [v for _, v in l1], rtol=1e-5)
    for split in ("val", "test"):
        assert res4[split]["loss"] == pytest.approx(res1[split]["loss"], rel=1e-5)
    p1, p4 = _final_params(cfg1, wd1), _final_params(cfg4, tmp_path)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), p4, p1)
    assert res4["best"]["step"] == res1["best"]["step"]


def test_four_steps_per_call_resume_after_a_kill_between_calls(tmp_path, monkeypatch, smoke):
    """Killed after the call that ends at step 12 (last checkpoint 12, the next call in
    flight): the rerun resumes at 12 and ends exactly where an uninterrupted run ends."""
    from freqssm.train import trainlog

    _, ref = _run(smoke, tmp_path / "ref", 4, prefetch=3)
    real_add = trainlog.TrainLog.add
    calls = []

    def add_then_die(self, metrics, n=None):
        real_add(self, metrics, n)
        calls.append(n)
        if len(calls) == 4:  # steps 13-16 dispatched, nothing after step 12 saved
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(trainlog.TrainLog, "add", add_then_die)
    with pytest.raises(KeyboardInterrupt):
        _run(smoke, tmp_path / "run", 4, prefetch=3)
    monkeypatch.setattr(trainlog.TrainLog, "add", real_add)
    assert calls == [4, 4, 4, 4]
    assert max(Checkpointer(tmp_path / "run" / "checkpoints").steps()) == 12
    assert not [t for t in threading.enumerate() if t.name == "freqssm-feed"]
    _, res = _run(smoke, tmp_path / "run", 4, prefetch=3)
    assert res["test"] == ref["test"] and res["val"] == ref["val"] and res["best"] == ref["best"]
    assert _losses(tmp_path / "run") == _losses(tmp_path / "ref")
