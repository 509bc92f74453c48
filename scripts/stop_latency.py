"""How long a training run takes to stop after SIGTERM.

Starts ``python -m freqssm.train`` with the given arguments, sends SIGTERM ``--after`` seconds
later and prints the seconds from the signal to the process's exit, and the step it saved::

    python scripts/stop_latency.py --after 200 -- --config configs/lra_pathx.py \\
        --config.data.max_examples=200 --config.train.steps=8 --workdir /tmp/pathx_stop

``--python`` runs another checkout's interpreter/tree (e.g. to compare before and after a change:
``--python "env PYTHONPATH=/path/to/old/checkout python"``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", type=float, required=True, help="seconds before SIGTERM")
    ap.add_argument("--python", default=sys.executable, help="interpreter command to run")
    ap.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then the training flags")
    args = ap.parse_args()
    train_args = [a for a in args.train_args if a != "--"]
    workdir = next(a.split("=", 1)[1] for a in train_args if a.startswith("--workdir="))
    cmd = [*shlex.split(args.python), "-m", "freqssm.train", *train_args]
    env = dict(os.environ, WANDB_MODE=os.environ.get("WANDB_MODE", "disabled"))
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(args.after)
    if proc.poll() is not None:
        sys.exit(f"the run ended before the signal: {proc.stderr.read().decode()[-2000:]}")
    t_sig = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate()
    t_end = time.perf_counter()
    steps = sorted(int(p.name) for p in (Path(workdir) / "checkpoints").glob("[0-9]*"))
    out = {
        "signal_after_s": round(t_sig - t_start, 1),
        "stop_took_s": round(t_end - t_sig, 1),
        "exit_status": proc.returncode,
        "saved_step": steps[-1] if steps else None,
        "stderr_tail": err.decode(errors="replace").strip().splitlines()[-2:],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
