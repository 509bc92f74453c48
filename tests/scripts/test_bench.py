"""The benchmark script runs and writes its table (tiny sizes; no timing assertions)."""

import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_quick_writes_the_table(script, tmp_path):
    """The literal ``python scripts/bench.py --quick`` (report redirected to a temporary file)."""
    bench = script("bench")
    out = tmp_path / "bench.md"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.strip() in proc.stdout
    for heading in ("## Targets", "## Layers", "## Full model step", "## Reference checks"):
        assert heading in text
    assert "matmul peak" in text and "jax 0." in text and "load average" in text
    q = bench.QUICK
    (L,) = q.lengths
    rows = [line for line in text.splitlines() if line.startswith("| S")]
    n_layer = 2 * (len(q.s5_variants) + len(q.s4d_variants)) + ("unfused" in q.s4d_variants)
    # each layer variant without and with the learnable filter; each model off/learnable/fixed
    assert len(rows) == n_layer + len(bench.SOBOLEV) * len(q.model_kinds)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert str(L) in cells and all(cells)
    verdicts = [line for line in text.splitlines() if line.startswith("- ") and "MET" in line]
    # S5 and S4D speed-ups, filter overhead (learnable and fixed) per model kind, Path-X memory
    assert len(verdicts) == 2 + 2 * len(q.model_kinds) + ("s4d" in q.model_kinds)
    # the straightforward references compute the same function as the layers
    checks = text.split("## Reference checks")[1].strip().splitlines()[2:]
    assert len(checks) == 3
    for line in checks:
        assert float(line.rsplit(":", 1)[1]) < 1e-5, line


def test_flop_counts_scale_as_documented(script):
    bench = script("bench")
    f1, b1 = bench.s5_counts(2, 100, 8, 4, 1, False)
    f2, b2 = bench.s5_counts(4, 100, 8, 4, 1, False)
    assert f2 == 2 * f1 and b2 == 2 * b1
    fs, _ = bench.s5_counts(2, 100, 8, 4, 1, True)
    assert fs > f1
    k1, _ = bench.s4d_counts(1, 64, 4, 8, 1, False)
    k2, _ = bench.s4d_counts(1, 64, 4, 8, 2, False)
    assert k2 - k1 == 4 * 4 * 8 * 64  # one more direction of kernel products


class _Clock:
    """A fake ``time.perf_counter``: each call of a timed function advances it by that call's
    programmed duration, so the timers' medians are known exactly."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def run(self, durations, log):
        it = iter(durations)

        def call():
            log.append(1)
            self.now += next(it)

        return call


def test_timers_return_the_median_of_the_timed_calls(script, monkeypatch):
    bench = script("bench")
    clock = _Clock()
    monkeypatch.setattr(bench, "time", clock)
    calls = []
    # two warmup calls (100 s each, not timed), then five timed calls: median 3 (mean 4.2)
    t = bench.time_runs(clock.run([100, 100, 5, 1, 3, 2, 10], calls), 2, 5, budget_s=1e9)
    assert len(calls) == 7 and t == 3
    # the budget cuts the repeats to 3 once spent: median of (5, 1, 9) = 5
    calls = []
    t = bench.time_runs(clock.run([5, 1, 9, 7, 7], calls), 0, 5, budget_s=10)
    assert len(calls) == 3 and t == 5
    # alternating blocks (warmup 1, then per round: 1 untimed + 2 timed calls per run)
    a = [50, *(50, 1, 2), *(50, 3, 4), *(50, 5, 30)]  # timed: 1 2 3 4 5 30 -> median 3.5
    b = [50, *(50, 10, 20), *(50, 30, 40), *(50, 50, 600)]  # timed: 10 ... 600 -> median 35
    la, lb = [], []
    ta, tb = bench.time_alternating(
        [clock.run(a, la), clock.run(b, lb)], warmup=1, rounds=3, block=2, budget_s=1e9
    )
    assert len(la) == len(lb) == 1 + 3 * 3 and (ta, tb) == (3.5, 35)


def test_memory_estimate_and_load_average(script):
    import jax

    bench = script("bench")
    c = jax.jit(lambda a: a @ a).lower(jnp.ones((64, 64), jnp.float32)).compile()
    assert bench.memory_bytes(c) >= 2 * 64 * 64 * 4
    assert np.isfinite(bench.load_average())
