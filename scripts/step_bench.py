"""Tokens per second of the recurrent step path (:mod:`freqssm.model.infer`), this checkout
against another one (e.g. the commit before a change), measured in the same run.

    git worktree add /tmp/before <commit>
    python scripts/step_bench.py --before /tmp/before            # ratios after / before
    python scripts/step_bench.py                                  # this checkout alone
    python scripts/step_bench.py --quick                          # tiny sizes (the test)

Each timing runs in a fresh subprocess with the checkout's ``freqssm`` first on the import path,
alternating between the checkouts ``--repeats`` times; medians are reported. Two measures per
model: ``step`` (one ``RecurrentModel.step`` call per token from Python, as a streaming user
calls it, after one warm-up token) and ``run`` (all tokens in one ``RecurrentModel.run``, a
``lax.scan``, after one warm-up call). The models are causal stacks (S4D and S5, unidirectional,
no Sobolev filter: what the step path serves) on real-valued inputs with a regression head.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import jax, jax.numpy as jnp
kind, layers, width, state, tokens, batch = sys.argv[1], *map(int, sys.argv[2:7])
from freqssm.config import base_config
from freqssm.data.base import Meta
from freqssm.model import models
from freqssm.model.infer import RecurrentModel
c = base_config().model
c.n_layers, c.d_model = layers, width
c.ssm.kind, c.ssm.state_size = kind, state
try:  # a checkout with typed configs converts the section; an older one takes the ConfigDict
    from freqssm.model.config import ModelConfig
    from freqssm.settings import from_dict
    c = from_dict(ModelConfig, c.to_dict(), "model")
except ImportError:
    pass
meta = Meta(tokens, "real", 1, "sequence_regression", 1)
model = models.build(c, meta)
x = jax.random.normal(jax.random.key(0), (batch, tokens, 1))
v = jax.jit(model.init)(jax.random.key(1), x[:, :8])
rec = RecurrentModel(c, meta, v)
carry = rec.init(batch)
carry, y = rec.step(carry, x[:, 0])  # warm-up (compiles where the step is jitted)
jax.block_until_ready(y)
t0 = time.perf_counter()
for t in range(1, tokens):
    carry, y = rec.step(carry, x[:, t])
jax.block_until_ready(y)
step_rate = batch * (tokens - 1) / (time.perf_counter() - t0)
jax.block_until_ready(rec.run(x))  # warm-up
t0 = time.perf_counter()
jax.block_until_ready(rec.run(x))
run_rate = batch * tokens / (time.perf_counter() - t0)
print(json.dumps({"step": step_rate, "run": run_rate}))
"""

MODELS = {  # name: (kind, layers, width, state)
    "S4D, 4 layers of 64, N = 64": ("s4d", 4, 64, 64),
    "S5, 4 layers of 64, P = 64": ("s5", 4, 64, 64),
}
QUICK = {"S4D, 1 layer of 8, N = 8": ("s4d", 1, 8, 8)}


def measure(tree: Path, model: tuple, tokens: int, batch: int) -> dict[str, float]:
    """One timing of ``model`` with ``tree``'s freqssm, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    args = [str(a) for a in (*model, tokens, batch)]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--before", type=Path, help="another checkout, measured alternately")
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    a = p.parse_args(argv)
    models, tokens, repeats = MODELS, a.tokens, a.repeats
    if a.quick:
        models, tokens, repeats = QUICK, 32, 1
    trees = {"after": REPO} if a.before is None else {"before": a.before, "after": REPO}
    cmd = "python scripts/step_bench.py" + (" --before <checkout>" if a.before else "")
    lines = [
        f"recurrent step path, batch {a.batch}, {tokens} tokens, median of {repeats} runs "
        f"(`{cmd}`)",
        "",
    ]
    if a.before:  # ratios only: bare rates on a shared CPU say little
        lines += ["| model | measure | tokens/s after / before |", "| --- | --- | --- |"]
    else:
        lines += ["| model | measure | tokens/s |", "| --- | --- | --- |"]
    for name, model in models.items():
        got: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
        for _ in range(repeats):  # alternate, so that a load change hits both
            for k, tree in trees.items():
                got[k].append(measure(tree, model, tokens, a.batch))
        for measure_name in ("step", "run"):
            med = {k: statistics.median(r[measure_name] for r in v) for k, v in got.items()}
            cell = f"{med['after'] / med['before']:.1f}x" if a.before else f"{med['after']:,.0f}"
            lines.append(f"| {name} | {measure_name} | {cell} |")
    report = "\n".join(lines) + "\n"
    print(report)
    return report


if __name__ == "__main__":
    main()
