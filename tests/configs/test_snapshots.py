"""Every config variant resolves to its stored snapshot: the same values and the same parameter
tree (paths, shapes, dtypes, optimizer groups). The snapshots were written before the package
was reorganised (``scripts/config_snapshot.py write``); a difference here is a change in what a
user's command line runs, so it is either a bug or an intended change written with the script."""

import json

import pytest
from conftest import REPO, load_script

snap = load_script("config_snapshot")
CONFIGS = json.loads((snap.OUT / "configs.json").read_text())
TREES = json.loads((snap.OUT / "param_trees.json").read_text())


def test_snapshots_cover_every_variant_in_use():
    # a variant added later (or a combination written in README/results/tests) needs a snapshot
    now = {snap.snapshot_key(n, v) for n, v in snap.all_variants()}
    assert now <= set(CONFIGS), sorted(now - set(CONFIGS))
    assert set(CONFIGS) == set(TREES)
    assert len(CONFIGS) >= 50  # every file's variants, not an empty snapshot
    assert (REPO / "configs" / "waves.py").exists()


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_variant_resolves_to_snapshot(key):
    name, variant = snap.parse_key(key)
    assert snap.resolved(name, variant) == CONFIGS[key]
    assert snap.param_tree(name, variant) == TREES[key]
