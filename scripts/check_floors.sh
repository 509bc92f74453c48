#!/usr/bin/env bash
# Install freqssm at its declared minimum versions (scripts/constraints-floors.txt) into a fresh
# venv and run the smoke tests there: the CLI's waves smoke run and `pytest -m "not slow"`.
#   bash scripts/check_floors.sh [VENV_DIR]     (default: /tmp/freqssm-floors)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-/tmp/freqssm-floors}
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q -c scripts/constraints-floors.txt -e '.[test]'
"$venv/bin/pip" freeze | grep -iE '^(jax|jaxlib|flax|optax|orbax-checkpoint|ml.collections|absl-py|wandb|numpy|scikit-image)=='
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
WANDB_MODE=offline "$venv/bin/freqssm-train" --config configs/waves.py:smoke --workdir "$work/run"
"$venv/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider
