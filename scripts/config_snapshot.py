"""Snapshots of what every config variant resolves to, for refactors that must not change them.

    python scripts/config_snapshot.py write    # tests/configs/snapshots/*.json from today's code
    python scripts/config_snapshot.py check    # compare today's code with the stored snapshots

Two files: ``configs.json`` (each variant's resolved config, as JSON) and ``param_trees.json``
(each variant's parameter tree: path -> [shape, dtype, optimizer group]). The variants are every
single variant of every ``configs/*.py`` file and every ``configs/<file>.py:<variant>`` string
written in README.md, results/, configs/, scripts/, tests/ or freqssm/ (the combinations users
type).
``tests/configs/test_snapshots.py`` runs the check. Write only when a change to a config or a
parameter is intended, and say so in the commit.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "configs" / "snapshots"
LRA = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
WAVES = ("smoke", "alpha_low", "alpha_high", "beta_low", "beta_high", "authors", "authors_smoke")
USED = re.compile(r"configs/(\w+)\.py:([A-Za-z0-9_,]+)")


def load_module(name: str) -> Any:
    """``configs/<name>.py`` as a module."""
    from freqssm.train.config import load_module as load

    return load(REPO / "configs" / f"{name}.py")


def single_variants(name: str, mod: Any) -> list[str]:
    """Every variant of config file ``name`` on its own."""
    if name.startswith("lra_"):
        return ["smoke", "untuned", "ours", *getattr(mod, "VARIANTS", {})]
    if name == "waves":
        return list(WAVES)
    if name == "denoise":
        return [*mod.SET_UPS, *(f"alpha_{s}" for s in mod.PAPER_STEPS), *mod.PAPER_BETAS]
    raise ValueError(f"configs/{name}.py: no variant list in {__file__}")


def used_variants() -> set[tuple[str, str]]:
    """(file, variant) pairs written anywhere users or tests read them."""
    files = [REPO / "README.md", *REPO.glob("results/*.md")]
    for folder in ("configs", "scripts", "tests", "freqssm"):
        files += (REPO / folder).rglob("*.py")
    found = set()
    for f in files:
        for name, variant in USED.findall(f.read_text()):
            if (REPO / "configs" / f"{name}.py").exists():
                found.add((name, variant.rstrip(",")))
    return found


def all_variants() -> list[tuple[str, str | None]]:
    pairs: set[tuple[str, str | None]] = set(used_variants())
    for path in sorted((REPO / "configs").glob("*.py")):
        if path.name.startswith("_"):
            continue
        mod = load_module(path.stem)
        pairs.add((path.stem, None))
        pairs.update((path.stem, v) for v in single_variants(path.stem, mod))
    return sorted(pairs, key=lambda p: (p[0], p[1] or ""))


def resolved(name: str, variant: str | None) -> dict[str, Any]:
    """The variant's config as JSON data (tuples become lists)."""
    from freqssm.data.base import default_data_root

    cfg = load_module(name).get_config(variant)
    out = json.loads(json.dumps(cfg.to_dict(), sort_keys=True))
    if out["data"].get("root") == default_data_root():  # the machine's, not the config's
        out["data"]["root"] = "<default data root>"
    return out


def meta_of(cfg: Any) -> Any:
    """The task's Meta without reading data where the task allows it."""
    from freqssm import data as data_lib
    from freqssm.data.lra import lra_meta
    from freqssm.train.config import from_config_dict

    cfg = from_config_dict(cfg)
    if cfg.data.name in LRA:
        return lra_meta(cfg.data.name)
    return data_lib.build(cfg.data).meta


def param_tree(name: str, variant: str | None) -> dict[str, list]:
    """path -> [shape, dtype, optimizer group] of the variant's parameters."""
    from flax import traverse_util

    from freqssm.train import optim
    from freqssm.train.config import from_config_dict
    from freqssm.train.run import build_run

    cfg = from_config_dict(load_module(name).get_config(variant))
    shapes = build_run(cfg, meta_of(cfg)).shapes
    frozen, scope = frozenset(cfg.optim.frozen), cfg.optim.decay_scope
    flat = traverse_util.flatten_dict(shapes)
    return {
        "/".join(p): [list(s.shape), str(s.dtype), optim.label_of(p, frozen, scope)]
        for p, s in sorted(flat.items())
    }


def snapshot_key(name: str, variant: str | None) -> str:
    """``lra_listops.py:cpu,untuned`` (or ``waves.py`` without a variant)."""
    return f"{name}.py:{variant}" if variant else f"{name}.py"


def parse_key(k: str) -> tuple[str, str | None]:
    file, _, variant = k.partition(":")
    return file.removesuffix(".py"), variant or None


def compute() -> tuple[dict[str, Any], dict[str, Any]]:
    configs, trees = {}, {}
    for name, variant in all_variants():
        k = snapshot_key(name, variant)
        configs[k] = resolved(name, variant)
        trees[k] = param_tree(name, variant)
    return configs, trees


def main(argv: list[str]) -> int:
    if argv[1:] not in (["write"], ["check"]):
        print(__doc__)
        return 2
    configs, trees = compute()
    if argv[1] == "write":
        OUT.mkdir(parents=True, exist_ok=True)
        for fname, data in (("configs.json", configs), ("param_trees.json", trees)):
            (OUT / fname).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(configs)} variants to {OUT}")
        return 0
    bad = [
        k
        for fname, data in (("configs.json", configs), ("param_trees.json", trees))
        for k, v in json.loads((OUT / fname).read_text()).items()
        if data.get(k) != v
    ]
    print("\n".join(f"differs: {k}" for k in bad) or f"{len(configs)} variants equal")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv))
