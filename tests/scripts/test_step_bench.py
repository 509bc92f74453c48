"""scripts/step_bench.py: the step-path benchmark's report (its timings are not asserted)."""


def test_step_bench_quick_compares_two_checkouts(script):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    report = script("step_bench").main(["--quick", "--before", str(repo)])
    rows = [ln for ln in report.splitlines() if ln.startswith("| S4D")]
    assert [r.split(" | ")[1] for r in rows] == ["step", "run"]
    for r in rows:  # a ratio of two measured rates of the same checkout
        assert float(r.split(" | ")[2].rstrip(" |x")) > 0
