"""Benchmark the SSM layers and a full model step: ``python scripts/bench.py [--quick]``.

A thin wrapper around :func:`freqssm.bench.main` (also ``python -m freqssm.bench``); writes the
Markdown table to ``results/bench.md`` (``--out`` to change).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from freqssm.bench import main

if __name__ == "__main__":
    main()
