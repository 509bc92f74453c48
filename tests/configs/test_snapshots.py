"""Every config variant resolves to its stored snapshot: the same values and the same parameter
tree (paths, shapes, dtypes, optimizer groups). The snapshots were written before the package
was reorganised (``scripts/config_snapshot.py write``); a difference here is a change in what a
user's command line runs, so it is either a bug or an intended change written with the script."""

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = REPO / "tests" / "configs" / "snapshots"
CONFIGS = json.loads((SNAPSHOTS / "configs.json").read_text())
TREES = json.loads((SNAPSHOTS / "param_trees.json").read_text())


@pytest.fixture(scope="module")
def snap(script):
    return script("config_snapshot")


def test_snapshots_cover_every_variant_in_use(snap):
    # a variant added later (or a combination written in README/results/tests) needs a snapshot
    assert snap.OUT == SNAPSHOTS
    now = {snap.snapshot_key(n, v) for n, v in snap.all_variants()}
    assert now <= set(CONFIGS), sorted(now - set(CONFIGS))
    assert set(CONFIGS) == set(TREES)
    assert len(CONFIGS) >= 50  # every file's variants, not an empty snapshot
    assert (REPO / "configs" / "waves.py").exists()


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_variant_resolves_to_snapshot(snap, key):
    name, variant = snap.parse_key(key)
    assert snap.resolved(name, variant) == CONFIGS[key]
    assert snap.param_tree(name, variant) == TREES[key]
