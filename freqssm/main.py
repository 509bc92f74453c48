"""The command line: ``python -m freqssm.train --config FILE.py[:variant] --workdir DIR``.

Every setting is in the config (``--config.model.ssm.alpha=2`` overrides one key). Bad configs,
missing data and non-finite training stop with one line on stderr and exit status 2.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from freqssm.config import ConfigError
from freqssm.data.base import DataError


def main(argv: list[str]) -> int:
    """Train the parsed ``--config`` in ``--workdir`` and print where the results are."""
    from absl import flags

    from freqssm.train import train_and_evaluate

    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments {argv[1:]}; use --config.key=value overrides")
    if not FLAGS.workdir:
        raise ConfigError("--workdir is required (where checkpoints, logs and plots go)")
    results = train_and_evaluate(FLAGS.config, FLAGS.workdir)
    if results.get("interrupted"):
        return 0
    wd = Path(FLAGS.workdir)
    best = results["best"]
    print(f"done: {results['step']} steps; results in {wd / 'results.json'}")
    print(f"  final val: {_fmt(results['val'])}")
    print(f"  final test: {_fmt(results['test'])}")
    print(f"  test at best val (step {best['step']}): {_fmt(best['test'])}")
    print(
        f"  metrics: {wd / 'metrics.jsonl'}; plots: {wd / 'plots'}; "
        f"checkpoints: {wd / 'checkpoints'}"
    )
    return 0


def _fmt(m: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in m.items())


def run() -> None:
    """Console entry point with one-line errors for bad configs and missing data."""
    from absl import app, flags
    from ml_collections import config_flags

    from freqssm.train import NonFiniteError

    config_flags.DEFINE_config_file("config", None, "experiment config file (file.py[:variant])")
    flags.DEFINE_string("workdir", None, "output folder; rerun with the same one to resume")
    flags.mark_flag_as_required("config")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def _main(argv):
        from absl import logging as absl_logging

        # orbax and absl are chatty at INFO; keep the console for the progress bar and results
        absl_logging.set_verbosity(absl_logging.WARNING)
        logging.getLogger("freqssm").setLevel(logging.INFO)
        try:
            return main(argv)
        except (ConfigError, DataError, NonFiniteError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    started = []

    def _entry(argv):
        started.append(True)
        return _main(argv)

    try:
        app.run(_entry)
    except (ValueError, KeyError, AttributeError, TypeError) as e:
        if started:  # a genuine error inside training: keep the traceback
            raise
        # a bad --config.* override fails while flags are parsed: one line, no traceback
        msg = str(e).replace("\\n", " ").replace("\n", " ").replace("\\'", "'").strip("'\" ")
        print(f"error: bad command-line override: {msg}", file=sys.stderr)
        sys.exit(2)
