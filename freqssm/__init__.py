"""freqssm: diagonal state space models (S5, S4D) with tunable frequency bias."""

__version__ = "0.1.0"
