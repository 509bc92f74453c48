"""scripts/padding_lengths.py: padded shares and batch maxima against a hand count."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_padding_report_counts():
    spec = importlib.util.spec_from_file_location("pl", ROOT / "scripts" / "padding_lengths.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    lengths = [np.array([3, 5]), np.array([8, 2])]  # 18 real tokens
    r = mod.padding_report(lengths, L=10)
    assert r["batch_max_mean"] == 6.5 and r["batch_max_min"] == 5
    assert r["padded_share_full"] == pytest.approx(1 - 18 / 40)  # 4 rows of 10
    assert r["padded_share_batch"] == pytest.approx(1 - 18 / (2 * 5 + 2 * 8))
    assert (r["c_full"], r["c_batch_mean"]) == (20, 13.0)
