"""``python -m freqssm.train --config FILE.py[:variant] --workdir DIR`` (see ``cli.py``)."""

from freqssm.train.cli import run

if __name__ == "__main__":
    run()
